"""Load the package's own OpenBLAS into the core (backend="blas").

The build copies the OpenBLAS of the ``scipy-openblas64`` wheel (a build requirement: ILP64,
symbols ``scipy_<name>_64_``, the same build NumPy and SciPy vendor) into the package folder,
beside the compiled core, as NumPy and SciPy vendor theirs. That file is loaded here, by path,
once per process: the fast path does not depend on how NumPy was built (NumPy 1.x, MKL,
Accelerate), and the copy is ours alone, so its thread setting is invisible to NumPy, SciPy
or anyone else. A build without the copy falls back to an installed ``scipy_openblas64``
package (found without importing it), then to the Eigen backend with one
``BlasFallbackWarning``.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import threading
import warnings
from typing import Any

import numpy as np

from . import _core
from .errors import BlasFallbackWarning

_PATTERNS = ("libscipy_openblas64_*.so*", "libscipy_openblas64_*.dylib", "libscipy_openblas64_*.dll")
# Where the build puts the package's copy, relative to the compiled core's folder.
VENDORED_FOLDER = "_openblas"

_lock = threading.Lock()
_tried = False
_load_errors: list[str] = []
_warned = False


def _find_in(folder: str) -> str | None:
    for pattern in _PATTERNS:
        found = sorted(glob.glob(os.path.join(folder, pattern)))
        if found:
            return found[0]
    return None


def candidate_libraries() -> list[str]:
    """Paths to try, best first: the copy shipped with the package, then the library of an
    installed ``scipy_openblas64`` package. NumPy's own bundled copy is never used: its thread
    setting is NumPy's."""
    paths = []
    vendored = _find_in(os.path.join(os.path.dirname(os.path.abspath(_core.__file__)), VENDORED_FOLDER))
    if vendored is not None:
        paths.append(vendored)
    try:
        spec = importlib.util.find_spec("scipy_openblas64")  # located, not imported
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        installed = _find_in(os.path.join(os.path.dirname(spec.origin), "lib"))
        if installed is not None:
            paths.append(installed)
    return paths


def ensure_blas(warn: bool = True) -> bool:
    """Load the package's OpenBLAS into the core once (thread-safe); True when the BLAS
    backend is available. Otherwise, and when ``warn``, issue one ``BlasFallbackWarning``
    per process."""
    global _tried, _warned
    with _lock:
        if not _tried:
            _tried = True
            for path in candidate_libraries():
                try:
                    _core.load_blas(path)
                    break
                except ValueError as exc:  # a file without the expected symbols: try the next
                    _load_errors.append(str(exc))
        available = bool(_core.blas_info()["loaded"])
        if available or not warn or _warned:
            return available
        _warned = True
    reason = "; ".join(_load_errors) or "the package's copy of OpenBLAS was not found (built without scipy-openblas64?)"
    warnings.warn(
        f"cgscore_native: the fast BLAS backend is unavailable ({reason}); using the Eigen "
        "backend, 2-3x slower. Reinstall the package from a wheel, or build it with the "
        "scipy-openblas64 package installed.",
        BlasFallbackWarning,
        stacklevel=3,
    )
    return False


def blas_build_info() -> dict:
    """The back end ``backend="auto"`` uses and the BLAS behind it (loading it if needed,
    without a warning)."""
    available = ensure_blas(warn=False)
    info = dict(_core.blas_info())
    blas = None
    if available:
        blas = {
            "path": info["path"],
            "config": info["config"],
            "corename": info["corename"],
            "shared_with_other_code": info["shared"],
            "per_thread_setting": info["per_thread_setting"],
        }
    return {"backend": "blas" if available else "eigen", "blas": blas}


# -- products whose bits do not depend on NumPy's BLAS threads -----------------------------------

_CBLAS_ROW_MAJOR, _CBLAS_NO_TRANS, _CBLAS_TRANS = 101, 111, 112
_dgemm: Any = None


def _cblas_dgemm() -> Any:
    """The package's OpenBLAS ``cblas_dgemm`` (ILP64) through ctypes, or None (Eigen back end).

    It is the copy the core loaded and set to one thread, so a product's bits are the same
    whatever NumPy's BLAS does: NumPy's OpenBLAS splits small products differently by thread
    count (measured: A @ B.T of 80×64 by 637×64 differed in 30 entries between 1 and 2 threads)."""
    global _dgemm
    if _dgemm is None:
        _dgemm = False
        if ensure_blas(warn=False):
            lib = ctypes.CDLL(_core.blas_info()["path"])  # the same handle the core opened
            fn = getattr(lib, "scipy_cblas_dgemm64_", None)
            if fn is not None:
                i64, dbl, ptr = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p
                fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i64, i64, i64, dbl, ptr, i64, ptr, i64,
                               dbl, ptr, i64]
                fn.restype = None
                _dgemm = fn
    return _dgemm or None


def product(A: np.ndarray, B: np.ndarray, transpose_b: bool = False) -> np.ndarray:
    """A @ B (or A @ B.T) in float64, the same bits for any thread count here or on a cluster
    worker: one-threaded BLAS, or NumPy's einsum loops without it."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.ascontiguousarray(B, dtype=np.float64)
    m, k = A.shape
    n = B.shape[0] if transpose_b else B.shape[1]
    if (B.shape[1] if transpose_b else B.shape[0]) != k:
        raise ValueError(f"product: shapes {A.shape} and {B.shape}{'ᵀ' if transpose_b else ''} do not match.")
    out = np.zeros((m, n))
    if m == 0 or n == 0 or k == 0:
        return out
    dgemm = _cblas_dgemm()
    if dgemm is None:
        return np.einsum("ik,jk->ij" if transpose_b else "ik,kj->ij", A, B, out=out)
    dgemm(_CBLAS_ROW_MAJOR, _CBLAS_NO_TRANS, _CBLAS_TRANS if transpose_b else _CBLAS_NO_TRANS, m, n, k, 1.0,
          A.ctypes.data, k, B.ctypes.data, B.shape[1], 0.0, out.ctypes.data, n)
    return out
