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

import glob
import importlib.util
import os
import threading
import warnings

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
