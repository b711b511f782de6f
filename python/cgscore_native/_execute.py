"""Run binary problems through the native kernel and aggregate their scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _core
from ._blas import ensure_blas
from ._normalize import UnitRows
from ._protocol import Problem
from ._validate import format_rows
from .errors import SingularGramError


# Below this many rows a problem is done before a second thread pays for itself
# (measured on 2 cores: n = 256 takes 2.6 ms on one thread, 4.9 ms on two). Scores are
# bit-identical for any thread count, so this changes speed only.
SERIAL_BELOW_ROWS = 512


@dataclass(frozen=True)
class KernelOptions:
    ridge: float = 0.0
    subterms: bool = False
    n_threads: int = 0  # 0: the core's default
    backend: str = "auto"  # "auto" (BLAS when NumPy's OpenBLAS is found), "blas" or "eigen"


@dataclass
class ProblemOutcome:
    problem: Problem
    scores: np.ndarray  # of the positives, in problem.positives order
    subterms: dict[str, np.ndarray] | None
    min_pivot: float
    min_pivot_row: int
    condition_estimate: float


def run_kernel(data: UnitRows, Y: np.ndarray, options: KernelOptions, first_scored: int = 0) -> dict:
    """One call of the kernel on the rows of ``data``; Y is (n,) or (n, k). Rows from
    ``first_scored`` on are scored."""
    Y2 = np.asfortranarray(Y.reshape(Y.shape[0], -1), dtype=np.float64)
    if options.backend != "eigen":
        ensure_blas()
    n = data.shape[0]
    return _core.score_binary(
        data.X,
        Y2,
        options.ridge,
        -1.0,
        options.subterms,
        1 if n < SERIAL_BELOW_ROWS else options.n_threads,
        backend=options.backend,
        row_scale=data.scale,
        first_scored=first_scored,
    )


def solve_problem(data: UnitRows, problem: Problem, options: KernelOptions, labels=None) -> ProblemOutcome:
    """Score one problem; a singular Gram matrix is reported with the user's row numbers."""
    rows = problem.rows
    try:
        out = run_kernel(data.take(rows), problem.label_vector(), options, first_scored=problem.first_scored)
    except SingularGramError as exc:
        raise singular_error_in_rows(exc, data, rows, what=_describe(problem, labels)) from None
    subterms = None
    if options.subterms:
        subterms = {name: out[name][:, 0].copy() for name in ("a2", "b2", "ab")}
    pivot_local = int(out["min_pivot_index"])
    return ProblemOutcome(
        problem=problem,
        scores=out["scores"][:, 0].copy(),
        subterms=subterms,
        min_pivot=float(out["min_pivot"]),
        min_pivot_row=int(rows[pivot_local]) if pivot_local >= 0 else -1,
        condition_estimate=float(out["condition_estimate"]),
    )


def _describe(problem: Problem, labels) -> str:
    label = labels[problem.class_index] if labels is not None else problem.class_index
    return f"the problem of class {label!r} (repeat {problem.repeat})"


def singular_error_in_rows(exc: SingularGramError, data: UnitRows, rows: np.ndarray, what: str) -> SingularGramError:
    """Name the failing row and its closest neighbour in the problem, and the way out."""
    local = exc.pivot_index
    if not 0 <= local < rows.size:
        return exc
    row = int(rows[local])
    # The pivot fails because this row is (nearly) spanned by the rows before it;
    # the most similar earlier row is the likely near-copy.
    earlier = rows[:local]
    culprit = [row]
    detail = ""
    if earlier.size:
        cosines = data.normalized(earlier) @ data.normalized(np.array([row]))[0]
        best = int(np.argmax(cosines))
        culprit = sorted([row, int(earlier[best])])
        detail = f" Row {row} has cosine similarity {cosines[best]:.15f} with row {int(earlier[best])}."
    message = (
        f"The NTK Gram matrix of {what} is singular to working precision at row {row} "
        f"(pivot {exc.pivot_value:.3g}).{detail} Near-duplicate rows cause this: remove them, or "
        "pass duplicates='ridge' with a larger ridge (e.g. ridge=1e-4) to regularize."
    )
    return SingularGramError(message, exc.pivot_index, exc.pivot_value, rows=culprit)


class Aggregator:
    """Collects positives' scores per repeat, in a fixed order, into means and spreads."""

    def __init__(self, n: int, repeats: int, subterms: bool):
        self.by_repeat = np.full((repeats, n), np.nan)
        self.subterms = {name: np.full((repeats, n), np.nan) for name in ("a2", "b2", "ab")} if subterms else None

    def add(self, outcome: ProblemOutcome) -> None:
        r, rows = outcome.problem.repeat, outcome.problem.positives
        self.by_repeat[r, rows] = outcome.scores
        if self.subterms is not None and outcome.subterms is not None:
            for name, values in outcome.subterms.items():
                self.subterms[name][r, rows] = values

    def finish(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        missing = np.flatnonzero(np.isnan(self.by_repeat).any(axis=0))
        if missing.size:  # every row is a positive of its class once per repeat
            raise RuntimeError(f"internal error: rows {format_rows(missing)} were not scored in every repeat")
        count = np.full(self.by_repeat.shape[1], self.by_repeat.shape[0], dtype=np.int64)
        mean = self.by_repeat.mean(axis=0)
        std = self.by_repeat.std(axis=0)
        sub = {name: v.mean(axis=0) for name, v in self.subterms.items()} if self.subterms is not None else None
        return mean, std, count, sub
