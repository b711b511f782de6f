"""What the scores' last bits depend on besides the data and arguments: the back end, the BLAS
(library, version, the core it picked for this CPU) and the CPU's features (``numerics``).

Recorded in ``CGResult.params["numerics"]`` and in checkpoint fingerprints, so that a checkpoint
refuses to resume on another numerical path. Beside ``_blas``, which loads the library described.
"""

from __future__ import annotations

import copy
import ctypes
import functools
import os
import platform
from typing import Any

from . import _core
from ._blas import ensure_blas

# CPU features that change which kernels OpenBLAS and the core's SIMD clones run (and so the last bits).
_CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512vl", "neon", "asimd", "sve")
# Facts of build_info() that do not change a score (bit-identical for any thread count).
_NOT_NUMERICAL = ("default_threads", "openmp")


def numerics() -> dict[str, Any]:
    """What the scores' last bits depend on besides the data and arguments: the back end, the BLAS
    (library, version and the core it picked for this CPU) and the CPU's features. Scores are
    bit-identical for the same values; recorded in ``result.params`` and checkpoint fingerprints
    (on a Dask cluster: the client's; the workers are assumed to match)."""
    return copy.deepcopy(_numerics())


@functools.lru_cache(maxsize=1)
def _numerics() -> dict[str, Any]:
    blas = ensure_blas(warn=False)
    info = {k: v if isinstance(v, (bool, int, float, str)) or v is None else str(v)
            for k, v in dict(_core.build_info()).items() if k not in _NOT_NUMERICAL}
    out: dict[str, Any] = {"backend": "blas" if blas else "eigen", "build": info, "machine": platform.machine()}
    if blas:
        loaded = dict(_core.blas_info())
        path = str(loaded.get("path", ""))
        facts: dict[str, Any] = {"config": loaded.get("config"), "core": loaded.get("corename")}
        if not all(facts.values()):  # a core that does not report them: ask the library
            facts = _openblas_facts(path)
        out["blas"] = {"library": os.path.basename(path), **{k: " ".join(str(v).split()) for k, v in facts.items()}}
    out["cpu_flags"] = _cpu_flags()
    return out


def _openblas_facts(path: str) -> dict[str, str]:
    """OpenBLAS's configuration string and core name, when the library exports them."""
    facts: dict[str, str] = {}
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return facts
    for key, names in (("config", ("scipy_openblas_get_config64_", "openblas_get_config64_", "openblas_get_config")),
                       ("core", ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"))):
        for name in names:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                facts[key] = " ".join((fn() or b"").decode(errors="replace").split())
                break
    return facts


def _cpu_flags() -> list[str]:
    """The CPU features of _CPU_FLAGS this machine has (Linux: /proc/cpuinfo; elsewhere none known)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    have = set(line.split(":", 1)[1].split())
                    return [flag for flag in _CPU_FLAGS if flag in have]
    except OSError:
        pass
    return []
