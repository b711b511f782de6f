"""Memory planning: refuse a run before allocating anything large.

The check runs on the shapes, X's dtype and the planned problem sizes alone (labels, ratio,
repeats, chunk_size: ``_plan.plan_size``), before X is converted, before the problems are
drawn and before any n×n buffer exists, so a hopeless run is refused in milliseconds with the
GiB it would need and the ways out. It counts the copy of X when one is made (none for
C-contiguous float64, float32 or uint8: the kernel reads those in place), the plan and its
results, and on a cluster the rows sent to each worker.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from ._plan import largest_fitting
from ._validate import check_chunk_size, default_threads
from .errors import MemoryBudgetError

GIB = 1024**3

# Scratch each kernel thread holds: the feature panels of a Gram tile (tile_panels.hpp: float64,
# the tile's rows and columns × up to 1024 features), or blocks of the factor and inverse.
_PANEL_DEPTH = 1024
_FACTOR_SCRATCH_BYTES = 2 * 256 * 256 * 8


def thread_scratch_bytes(n: int, d: int) -> int:
    """Scratch one kernel thread may hold for a problem of n rows: a Gram tile's panels, its
    rows and columns (1024 + 512 from n = 2048 on, as tiling.hpp's panel_width; else 512 + 256)
    × up to 1024 features, or the factor's blocks."""
    tile = 1024 + 512 if n >= 2048 else 512 + 256
    return max(8 * min(tile, n) * min(d, _PANEL_DEPTH), _FACTOR_SCRATCH_BYTES)


_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}


def parse_memory_limit(limit: Any) -> int | None:
    """Bytes from an int, or from a string such as "4GiB", "512 MiB", "2.5GB", "1e9" (GB = 10⁹, GiB = 2³⁰).

    The one size grammar of the package: the CLI's ``--memory-limit`` parses with it too."""
    if limit is None:
        return None
    if isinstance(limit, bool):
        raise TypeError(f"memory_limit must be a number of bytes or a string like '4GiB'; got {limit!r}.")
    if isinstance(limit, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([a-zA-Z]*)\s*", limit)
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _UNITS:
            raise ValueError(
                f"memory_limit {limit!r} is not understood. Give bytes as an int, or a string like '4GiB', '500MB'."
            )
        value = float(match.group(1)) * _UNITS[unit]
    elif isinstance(limit, (int, float)) or hasattr(limit, "__index__"):
        value = float(limit)
    else:
        raise TypeError(f"memory_limit must be a number of bytes or a string like '4GiB'; got {type(limit).__name__}.")
    if not value >= 1 or value == float("inf"):
        raise ValueError(f"memory_limit must be a positive number of bytes; got {limit!r}.")
    return int(value)


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


_PAGE = 4096


def allocation_limit_bytes() -> int | None:
    """The largest single allocation the kernel may ask for here, or None when unbounded.

    The n×n buffer is allocated whole (8·n² bytes) though only its lower triangle is ever
    resident, and Linux refuses an allocation by its size, not by what gets touched: with
    vm.overcommit_memory = 0 one larger than RAM + swap fails at once (``std::bad_alloc``), with
    2 one beyond CommitLimit − Committed_AS; with 1 none does."""
    try:
        with open("/proc/sys/vm/overcommit_memory") as f:
            mode = int(f.read().strip())
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f if line.split()[1:2]}
    except (OSError, ValueError, IndexError):
        return None
    if mode == 1:
        return None
    if mode == 2:
        return info.get("CommitLimit", 0) - info.get("Committed_AS", 0)
    return info.get("MemTotal", 0) + info.get("SwapTotal", 0) or None


def gram_allocation_bytes(n: int) -> int:
    """The size of the n×n float64 buffer as allocated (``gram_buffer_bytes`` is what is resident)."""
    return 8 * n * n


def allocatable_rows() -> int:
    """The largest n whose n×n buffer this machine lets one allocation have (read once per plan,
    not per bisection step); unbounded when the kernel does not limit allocations."""
    cap = allocation_limit_bytes()
    return 2**62 if cap is None else math.isqrt(cap // 8)


def gram_buffer_bytes(n: int) -> int:
    """Memory the n×n float64 buffer occupies: the kernel only ever writes its lower triangle,
    and the pages of the upper one are never touched, so never resident (measured: the peak
    RSS of a problem grows as n²/2, not n²). Each column adds about one partly used page."""
    return min(8 * n * n, 4 * n * (n + 1) + _PAGE * n)


def problem_peak_bytes(n: int, d: int, k: int = 1, n_threads: int = 1, row_bytes: int = 8) -> int:
    """Peak bytes the kernel occupies for one problem of n rows, d features, k label columns.

    The n×n float64 buffer dominates (its lower triangle: ``gram_buffer_bytes``); the
    problem's copy of its rows (n·d entries of ``row_bytes`` bytes: the features' own type;
    0 when the problem reads X's rows in place),
    the label and score columns, the inverse's block scratch (n·128) and per-thread panels
    come on top.
    """
    return (gram_buffer_bytes(n) + 8 * (n * (6 * k + 2) + 128 * n) + row_bytes * n * d
            + max(n_threads, 1) * thread_scratch_bytes(n, d))


# The duplicate check hashes X a block of at most 2^20 entries at a time: a float64 block and
# its int64 keys. glibc keeps such freed blocks resident for reuse, so they count at the peak.
_HASH_BLOCK_ENTRIES = 1 << 20


def run_peak_bytes(n_rows: int, d: int, largest_problem: int, k: int = 1, n_threads: int = 1, extra: int = 0,
                   row_bytes: int = 8) -> int:
    """Peak extra bytes of a run above the features: the largest problem's (the features are
    not copied: the kernel reads their rows in place; the row checks need O(n_rows) and the
    duplicate check's blocks), plus ``extra`` (the copy of X when one is made, the plan, data
    sent to a worker)."""
    hashing = 16 * min(n_rows * d, max(_HASH_BLOCK_ENTRIES, d))  # a block is one row at least
    return 16 * n_rows + hashing + problem_peak_bytes(largest_problem, d, k, n_threads, row_bytes) + extra


# Python objects of one planned problem (its Problem, outcome and report, array headers).
_PROBLEM_OVERHEAD_BYTES = 2048


def plan_bytes(n_problems: int, total_rows: int, n_rows: int, repeats: int, subterms: bool = False) -> int:
    """Bytes of a run's plan and results: every problem's index lists and scores (and
    sub-terms), per-problem objects, and the (repeats, n) score tables of the aggregation."""
    per_row = 16 + (24 if subterms else 0)
    tables = 8 * repeats * n_rows * (4 if subterms else 1)
    return per_row * total_rows + _PROBLEM_OVERHEAD_BYTES * n_problems + tables


def diagnosis_plan_bytes(n_rows: int, n_classes: int, repeats: int, rounds: int, n_ridges: int) -> int:
    """Bytes a diagnosis holds besides its fits: the partitions' row lists, the round-0
    predictions kept for every λ tried (n × K per partition and λ), the cleaning rounds'
    starts and results, and the per-round sums and margins (``(rounds + 1) × n × K``)."""
    per_partition = 8 * n_rows * (2 + n_classes * (n_ridges + 2 + rounds))
    return repeats * per_partition + 8 * (rounds + 1) * n_rows * (n_classes + 1)


def memory_budget(memory_limit: Any, *, use_available: bool = True) -> tuple[int | None, str]:
    """The limit to check against and how to name it: the user's budget and/or available memory."""
    user = parse_memory_limit(memory_limit)
    avail = available_memory_bytes() if use_available else None
    if user is not None and (avail is None or user <= avail):
        return user, "the memory limit you set"
    return avail, "available memory"


def check_run_fits(
    n_rows: int,
    d: int,
    largest_problem: int,
    *,
    k: int = 1,
    n_threads: int = 1,
    memory_limit: Any = None,
    use_available: bool = True,
    budget_name: str | None = None,
    extras: dict[str, int] | None = None,
    row_bytes: int = 8,
) -> None:
    """Raise MemoryBudgetError if the run cannot fit; allocates nothing.

    ``use_available=False`` skips this machine's free memory (the work runs elsewhere, e.g.
    on cluster workers, whose own limit is passed as memory_limit, named by budget_name).
    ``extras`` names further allocations counted in the need (e.g. "a copy of X");
    ``row_bytes``: bytes per entry of a problem's copy of its rows (``problem_peak_bytes``).
    """
    limit, what = memory_budget(memory_limit, use_available=use_available)
    what = budget_name or what
    extras = {name: b for name, b in (extras or {}).items() if b > 0}
    extra = sum(extras.values())
    need = run_peak_bytes(n_rows, d, largest_problem, k, n_threads, extra, row_bytes)
    if limit is None or need <= limit:
        if use_available and largest_problem > allocatable_rows():
            cap = allocation_limit_bytes() or 0
            fitting = _largest_fitting_problem(n_rows, d, k, n_threads, (limit or cap) - extra, row_bytes)
            raise MemoryBudgetError(
                f"The largest problem has {largest_problem} instances: its {largest_problem}×{largest_problem} float64 "
                f"Gram buffer is allocated whole ({format_size(gram_allocation_bytes(largest_problem))}), more than this "
                f"machine lets one allocation have ({format_size(cap)}). Use chunked mode (chunk_size={fitting} "
                "or less fits) or a machine with more memory.",
                required_bytes=gram_allocation_bytes(largest_problem),
                available_bytes=cap,
            )
        return
    also = "".join(f", {name} {format_size(b)}" for name, b in extras.items())
    fitting = _largest_fitting_problem(n_rows, d, k, n_threads, limit - extra, row_bytes)
    if fitting >= 2:
        chunk_hint = f"chunked mode (chunk_size={fitting} or less fits)"
    else:  # even tiny problems do not fit
        chunk_hint = "chunked mode (chunk_size=...) with a larger budget"
    raise MemoryBudgetError(
        f"The largest binary problem has {largest_problem} instances of {d} features: "
        f"its {largest_problem}×{largest_problem} float64 Gram buffer needs {format_size(need)}"
        f"{f' (including{also[1:]})' if also else ''} but {what}"
        f" is {format_size(limit)}. Use {chunk_hint}, a smaller ratio (fewer negatives per problem), "
        f"{_ways_out(extras)}or a machine or Dask cluster (client=...) with more memory.",
        required_bytes=need,
        available_bytes=limit,
    )


def check_memory(
    n: int,
    d: int,
    largest: int,
    threads: int,
    memory_limit: Any,
    client: Any = None,
    k: int = 1,
    *,
    copy_bytes: int = 0,
    plan: int = 0,
    itemsize: int = 8,
    rows_in_place: bool = False,
) -> None:
    """Refuse a run that cannot fit, here or (with a Dask client) on the cluster's workers.

    ``copy_bytes``: the copy of X the run makes (0 when X is C-contiguous float64, float32 or
    uint8); ``plan``: the plan's and results' bytes (``plan_bytes``). Both are held by this
    process. ``itemsize``: bytes per entry of X as the kernel reads it; ``rows_in_place``: the
    problem is all of X's rows in order, so it copies none. On a cluster each worker also holds
    the scattered rows (in that type) and their factors."""
    row_bytes = 0 if rows_in_place else itemsize
    kernel_threads = threads or default_threads()
    local = {"a copy of X": copy_bytes, "the plan and results": plan}
    if client is None:
        check_run_fits(n, d, largest, k=k, n_threads=kernel_threads, memory_limit=memory_limit, extras=local,
                       row_bytes=row_bytes)
        return
    if copy_bytes + plan > 0:  # this process holds the copy and the plan: check them here
        _check_local_extras(local, memory_limit)
    # The work runs on the workers: check against their limit (and the user's budget), not this machine.
    user = parse_memory_limit(memory_limit)
    workers = worker_memory_limit(client)
    limits = [x for x in (user, workers) if x is not None]
    if limits:
        name = "the memory limit you set" if user is not None and user <= min(limits) else "a Dask worker's memory limit"
        check_run_fits(
            n, d, largest, k=k, n_threads=kernel_threads, memory_limit=min(limits), use_available=False,
            budget_name=name, extras={"the rows sent to each worker": itemsize * n * d + 8 * n}, row_bytes=row_bytes,
        )


def plan_chunk_size(
    n: int, d: int, K: int, threads: int, chunk_size, memory_limit, client: Any = None, copy_bytes: int = 0,
    itemsize: int = 8, plan_bytes: tuple[int, int] = (0, 0),
) -> int | None:
    """The chunk size: the user's, or None (whole data) when that fits, else the largest that fits
    (here, or with a client on the workers: their memory limit and the user's budget).
    ``plan_bytes``: what this process holds for the predictions, whole data and chunked. Here the
    n×n buffer must also be allocatable (``allocatable_rows``); on a cluster the workers decide."""
    chunk_size = check_chunk_size(chunk_size, 2)  # the one rule (_validate)
    if chunk_size is not None:
        return None if chunk_size >= n else chunk_size
    if client is None:
        limit, _ = memory_budget(memory_limit)
    else:
        limits = [x for x in (parse_memory_limit(memory_limit), worker_memory_limit(client)) if x is not None]
        limit = min(limits) if limits else None
    if client is None:
        limit = None if limit is None else limit - copy_bytes  # this process holds the copy of X too
    else:
        limit = None if limit is None else limit - itemsize * n * d - 8 * n  # each worker holds the rows sent to it

    most_rows = n if client is not None else allocatable_rows()

    def fits(rows: int) -> bool:
        plan = 0 if client is not None else plan_bytes[0] if rows >= n else plan_bytes[1]
        return rows <= most_rows and (limit is None or run_peak_bytes(n, d, rows, K, threads, row_bytes=itemsize)
                                      + plan <= limit)

    if fits(n):
        return None
    lo = largest_fitting(fits, n)
    if lo < 2 and client is None and limit is not None:
        raise MemoryBudgetError(
            f"no chunk fits: the predictions of the chunked run need {format_size(plan_bytes[1])} and even a chunk of "
            f"2 rows does not fit beside them in {format_size(limit)}. Use a larger memory_limit, fewer rounds or "
            "repeats, or a Dask cluster (client=...).", required_bytes=plan_bytes[1], available_bytes=limit)
    return lo if lo >= 2 else None  # None: check_memory refuses with the way out


def _check_local_extras(extras: dict[str, int], memory_limit: Any) -> None:
    """With a cluster: refuse when this process cannot hold its own share (the copy, the plan)."""
    limit, what = memory_budget(memory_limit)
    need = sum(extras.values())
    if limit is None or need <= limit:
        return
    parts = ", ".join(f"{name} {format_size(b)}" for name, b in extras.items() if b > 0)
    raise MemoryBudgetError(
        f"This process needs {format_size(need)} ({parts}) but {what} is {format_size(limit)}. "
        f"Use {_ways_out(extras)}or a machine with more memory.",
        required_bytes=need,
        available_bytes=limit,
    )


def worker_memory_limit(client: Any) -> int | None:
    """The smallest memory limit among the cluster's workers, or None when none is set."""
    limits = [w.get("memory_limit") or 0 for w in client.scheduler_info().get("workers", {}).values()]
    limits = [int(x) for x in limits if x > 0]
    return min(limits) if limits else None


def _ways_out(extras: dict[str, int]) -> str:
    """The advice for allocations that no chunk size reduces, naming only those present."""
    ways = []
    if extras.get("the plan and results", 0) > 0:
        ways.append("fewer repeats")
    if extras.get("a copy of X", 0) > 0:
        ways.append("X as a C-contiguous float64, float32 or uint8 array (no copy is then made)")
    if extras.get("the rows sent to each worker", 0) > 0:
        ways.append("Dask workers with a larger memory limit")
    return "".join(f"{way}, " for way in ways)


def format_size(nbytes: int) -> str:
    """GiB, as the message promises, with MiB alongside when GiB would read 0.00."""
    text = f"{nbytes / GIB:.2f} GiB"
    return text if nbytes >= GIB // 100 else f"{text} ({nbytes / 2**20:.1f} MiB)"


def _largest_fitting_problem(n_rows: int, d: int, k: int, n_threads: int, limit: int, row_bytes: int = 8) -> int:
    if limit <= 0:
        return 0
    fits = lambda size: run_peak_bytes(n_rows, d, size, k, n_threads, row_bytes=row_bytes) <= limit  # noqa: E731
    return largest_fitting(fits, min(max(n_rows, 1), allocatable_rows()))


def check_plan_fits(plan: int, memory_limit: Any, n: int, K: int, reps: int, rounds: int) -> None:
    """Refuse counts whose predictions alone cannot fit (rounds=10**9, repeats=10**9), before any work."""
    budget, what = memory_budget(memory_limit)
    if budget is not None and plan > budget:
        raise MemoryBudgetError(
            f"rounds={rounds} and {reps} partition(s) of {n} rows × {K} classes need {format_size(plan)} for the "
            f"predictions alone, but {what} is {format_size(budget)}. Use fewer rounds or repeats "
            "(the defaults are 1 and 3).", required_bytes=plan, available_bytes=budget)


# The planner's choice of the diagnosis mode (bench/large/README.md, "Time and memory against n"):
# the whole-data fit while n is at most this and its n×n buffer fits, the large-data mode past that.
EXACT_MAX_ROWS = 20_000
# With the paper's kernel the cells rank as high or higher from here on, in as little time or less
# (5000, 10 000 and 20 000 rows, three sets); the deeper kernels and "auto" keep the whole data
# longer (at 10 000 rows its choice on the whole data ranked higher, in half the time).
PAPER_EXACT_MAX_ROWS = 5_000


def choose_diagnosis_mode(mode: str, n: int, d: int, K: int, threads: int, chunk_size: Any, memory_limit: Any,
                          client: Any, copy_bytes: int, itemsize: int, plan: int, paper_kernel: bool = False) -> str:
    """"exact" (whole data, or the random chunks of ``chunk_size=``) or "large" for a checked mode=.

    "auto": chunk_size= asks for chunks (exact mode); else the whole data while n ≤ EXACT_MAX_ROWS
    (PAPER_EXACT_MAX_ROWS for the paper's kernel) and its n×n buffer fits (here: the memory budget
    and what can be allocated), else large, if one cell's fit fits the budget and holds fewer than
    all the rows, else the random chunks of the exact mode."""
    if mode == "large":
        if chunk_size is not None:
            raise ValueError("chunk_size= splits the data into random chunks of the exact mode; mode='large' plans "
                             "its own cells of nearby rows: drop chunk_size= or use mode='exact'.")
        return "large"
    if mode == "exact" or chunk_size is not None:
        return "exact"
    if n <= (PAPER_EXACT_MAX_ROWS if paper_kernel else EXACT_MAX_ROWS):
        try:
            whole = plan_chunk_size(n, d, K, threads, None, memory_limit, client, copy_bytes, itemsize,
                                    plan_bytes=(plan, plan)) is None
        except MemoryBudgetError:
            whole = False
        if whole:
            return "exact"
    from ._large import cells_plan_bytes, largest_fit_rows

    # Cells no smaller than the data would not help, and cells whose fits do not fit the budget
    # cannot run: the exact mode's random chunks (which the planner can make smaller) then.
    cell_rows = largest_fit_rows(n)
    if cell_rows >= n:
        return "exact"
    try:
        check_memory(n, d, cell_rows, threads, memory_limit, client, k=K, copy_bytes=copy_bytes, itemsize=itemsize,
                     plan=plan + cells_plan_bytes(n))
    except MemoryBudgetError:
        return "exact"
    return "large"
