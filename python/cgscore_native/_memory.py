"""Memory planning: refuse a problem before allocating its n×n buffer."""

from __future__ import annotations

import os

from .errors import MemoryBudgetError

GIB = 1024**3


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo, else physical pages; None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def problem_peak_bytes(n: int, d: int, k: int = 1) -> int:
    """Peak bytes the kernel allocates for one problem of n rows, d features, k label columns.

    The n×n float64 buffer dominates; the problem's copy of its rows (n·d), the label
    and score columns and the inverse's block scratch (n·128) come on top.
    """
    return 8 * (n * n + n * d + n * (6 * k + 2) + 128 * n)


def check_problem_fits(n: int, d: int, k: int = 1, memory_limit: int | None = None) -> None:
    """Raise MemoryBudgetError if the largest problem cannot fit; allocates nothing."""
    need = problem_peak_bytes(n, d, k)
    avail = available_memory_bytes()
    limit = avail if memory_limit is None else (memory_limit if avail is None else min(memory_limit, avail))
    if limit is not None and need > limit:
        what = "the memory limit you set" if memory_limit is not None and limit == memory_limit else "available memory"
        raise MemoryBudgetError(
            f"The largest binary problem has {n} instances: its {n}×{n} float64 Gram buffer needs "
            f"{need / GIB:.2f} GiB but {what} is {limit / GIB:.2f} GiB. Use a smaller ratio "
            "(fewer negatives per problem), chunked mode (chunk_size=...), or a machine/cluster with more memory.",
            required_bytes=need,
            available_bytes=limit,
        )
