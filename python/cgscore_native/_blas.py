"""Find the OpenBLAS that NumPy's wheels bundle and hand it to the core (backend="blas").

NumPy >= 2 wheels ship an ILP64 OpenBLAS whose symbols are ``scipy_<name>_64_``. It is
already loaded in this process by ``import numpy``; the core opens the same copy by path,
so no BLAS is linked at build time and ``pip install .`` stays self-contained. Without such
a library (a NumPy built against another BLAS), the Eigen backend is used.
"""

from __future__ import annotations

import glob
import os

import numpy as np

from . import _core

_PATTERNS = ("libscipy_openblas64_*.so*", "libscipy_openblas64_*.dylib")
_tried = False


def bundled_openblas() -> str | None:
    """Path of the OpenBLAS bundled with NumPy, or None."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    folders = [os.path.join(root, "numpy.libs"), os.path.join(root, "numpy", ".dylibs")]
    for folder in folders:
        for pattern in _PATTERNS:
            found = sorted(glob.glob(os.path.join(folder, pattern)))
            if found:
                return found[0]
    return None


def ensure_blas() -> bool:
    """Load NumPy's OpenBLAS into the core once; True when the BLAS backend is available."""
    global _tried
    if not _tried:
        _tried = True
        path = bundled_openblas()
        if path is not None:
            try:
                _core.load_blas(path)
            except ValueError:
                pass  # a library without the expected symbols: the Eigen backend serves
    return bool(_core.blas_info()["loaded"])
