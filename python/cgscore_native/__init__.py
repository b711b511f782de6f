"""cgscore_native: fast, exact complexity-gap scores (CG-score) for data valuation.

The CG-score (Ki, Choi, Chung; ICLR 2023) rates every training instance without
training a model: high scores mark irregular, hard or mislabeled instances, low
scores mark redundant ones. See ``cg_score``, ``cg_score_binary`` and ``score``; ``diagnose``
finds likely mislabeled instances and suggests their labels (leave-one-out NTK predictions).
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "cgscore_native's compiled core (_core) could not be imported. Install the package "
        "with `pip install .` (which compiles it) rather than running from the source tree, "
        f"and check that a C++17 compiler was available. Original error: {exc}"
    ) from exc

from ._version import __version__
from .api import cg_score, cg_score_binary, score
from .datasets import load_digits
from .diagnosis import diagnose
from .diagnosis_result import Diagnosis
from .errors import (
    BlasFallbackWarning,
    CheckpointInUseError,
    CheckpointMismatchError,
    DuplicateRowsError,
    DuplicatesWarning,
    LabelsWarning,
    LookalikeLabelsWarning,
    MemoryBudgetError,
    ScaleWarning,
    SingularGramError,
)
from .result import CGResult, ProblemReport


def build_info() -> dict:
    """Facts about the compiled core: OpenMP on or off, default threads, Eigen version, SIMD,
    and the back end in use ("blas" or "eigen") with its BLAS (path, config, core name)."""
    from ._blas import blas_build_info

    return {**_core.build_info(), **blas_build_info()}


__all__ = [
    "BlasFallbackWarning",
    "CGResult",
    "CheckpointInUseError",
    "CheckpointMismatchError",
    "Diagnosis",
    "DuplicateRowsError",
    "DuplicatesWarning",
    "LabelsWarning",
    "LookalikeLabelsWarning",
    "MemoryBudgetError",
    "ProblemReport",
    "ScaleWarning",
    "SingularGramError",
    "__version__",
    "build_info",
    "cg_score",
    "cg_score_binary",
    "diagnose",
    "load_digits",
    "score",
]
