"""The one call of the native kernel, per binary problem, its errors in the user's row numbers
(``_duplicates.singular_error_in_rows``) and the retry of a near-copy's failure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import _core
from ._blas import ensure_blas
from ._duplicates import retry_near_duplicate, singular_error_in_rows
from ._plan import Problem
from ._prepare import UnitRows

# Below this many rows a problem is done before a second thread pays for itself
# (measured on 2 cores: n = 256 takes 2.6 ms on one thread, 4.9 ms on two). Scores are
# bit-identical for any thread count, so this changes speed only.
SERIAL_BELOW_ROWS = 512

# The kernel's sub-terms of the score (docs/math.md, "The score of one binary problem"): a2 + 2·ab + b2 = CG.
SUBTERMS = ("a2", "b2", "ab")


@dataclass(frozen=True)
class KernelOptions:
    """What the kernel needs besides the rows and labels (the back end is chosen by the core:
    BLAS when NumPy's OpenBLAS is found, else Eigen)."""

    ridge: float = 0.0
    subterms: bool = False
    n_threads: int = 0  # 0: the core's default
    # A problem whose factorization fails is scored again with this ridge, the failure being
    # a pair of duplicates the grid check missed (0: the failure is raised).
    fallback_ridge: float = 0.0
    condition_estimate: bool = True  # False: skip it (the label diagnosis does not report it)
    # 0: the paper's kernel u(π − arccos u)/(2π) (the CG-score's); L ≥ 1: the depth-L ReLU NTK (docs/math.md).
    kernel_depth: int = 0


@dataclass
class ProblemOutcome:
    """The scores of one problem's positives and the kernel's diagnostics."""

    problem: Problem
    scores: np.ndarray  # of the positives, in problem.positives order
    subterms: dict[str, np.ndarray] | None
    min_pivot: float
    min_pivot_row: int
    condition_estimate: float
    ridge: float = 0.0  # the ridge this problem was scored with
    near_duplicate: tuple[int, ...] = ()  # the pair whose failed factorization made it use fallback_ridge


def run_kernel(data: UnitRows, Y: np.ndarray, options: KernelOptions, first_scored: int = 0) -> dict[str, Any]:
    """One call of the kernel on the rows of ``data``; Y is (n,) or (n, k). Rows from
    ``first_scored`` on are scored."""
    Y2 = np.asfortranarray(Y.reshape(Y.shape[0], -1), dtype=np.float64)
    ensure_blas()
    n = data.shape[0]
    return _core.score_binary(
        data.X,
        Y2,
        options.ridge,
        -1.0,
        options.subterms,
        1 if n < SERIAL_BELOW_ROWS else options.n_threads,
        row_scale=data.scale,
        first_scored=first_scored,
        condition_estimate=options.condition_estimate,
        kernel_depth=options.kernel_depth,
    )


def score_problem(data: UnitRows, problem: Problem, options: KernelOptions, labels: Any = None) -> ProblemOutcome:
    """Score one problem; a singular Gram matrix is reported with the user's row numbers."""
    rows = problem.rows
    out, ridge, pair = retry_near_duplicate(
        lambda lam: run_kernel(data.take(rows), problem.label_vector(), replace(options, ridge=lam, fallback_ridge=0.0),
                               first_scored=problem.first_scored),
        options.ridge, options.fallback_ridge,
        lambda exc: singular_error_in_rows(exc, data, rows, what=_describe(problem, labels)),
    )
    subterms = None
    if options.subterms:
        subterms = {name: out[name][:, 0].copy() for name in SUBTERMS}
    pivot_local = int(out["min_pivot_index"])
    return ProblemOutcome(
        problem=problem,
        scores=out["scores"][:, 0].copy(),
        subterms=subterms,
        min_pivot=float(out["min_pivot"]),
        min_pivot_row=int(rows[pivot_local]) if pivot_local >= 0 else -1,
        condition_estimate=float(out["condition_estimate"]),
        ridge=float(ridge),
        near_duplicate=tuple(int(r) for r in pair),
    )


def _describe(problem: Problem, labels: Any) -> str:
    label = labels[problem.class_index] if labels is not None else problem.class_index
    label = label.item() if isinstance(label, np.generic) else label
    return f"the problem of class {label!r} (repeat {problem.repeat})"
