"""The result of a scoring run: scores, spread across repeats, findings and diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ProblemReport:
    """Diagnostics of one binary problem (one repeat × class × chunk)."""

    repeat: int
    label: Any
    n_positives: int
    n_negatives: int
    min_pivot: float  # smallest Cholesky pivot d_k (H = L D Lᵀ form); tiny → ill-conditioned
    min_pivot_row: int  # the row of the user's data where it occurred
    # cond₁(H) = ‖H‖₁‖H⁻¹‖₁, with ‖H⁻¹‖₁ estimated as LAPACK's dpocon does (Hager–Higham):
    # never above the true value, and within a factor of 3 of it in practice
    condition_estimate: float
    chunk: int = 0  # the chunk of the class's rows in chunked mode (chunk_size=...), else 0
    ridge: float = 0.0  # the shift of this problem's Gram diagonal


@dataclass(frozen=True)
class CGResult:
    """Scores of every instance under the class-wise protocol, with what was found on the way.

    ``scores[i]`` is the mean CG-score of instance i over the repeats (each instance is scored
    once per repeat, as a positive of its own class); ``std`` and ``count`` give the spread and
    the number of repeats. ``subterms`` (when requested) holds the means of ``a2``, ``b2`` and
    ``ab`` with ``a2 + 2·ab + b2 = CG``.
    """

    scores: np.ndarray
    std: np.ndarray
    count: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    scores_by_repeat: np.ndarray  # (repeats, n)
    duplicate_groups: list[np.ndarray]
    conflicting_groups: list[np.ndarray]  # duplicate groups whose members carry different labels
    problems: list[ProblemReport]
    ridge: float  # the largest ridge any problem used (each problem's is in its report)
    seed: int  # the entropy the negatives were drawn from: pass it back to reproduce the run
    params: dict[str, Any] = field(default_factory=dict)
    subterms: dict[str, np.ndarray] | None = None
    ids: np.ndarray | None = None  # (n,) the rows' names (file paths, an ID column), or None
    id_name: str | None = None  # the name of the ids' column in to_frame(): "path", the ID column's name
    index: Any = None  # the pandas index of a DataFrame input, kept by to_frame()

    def __len__(self) -> int:
        return int(self.scores.size)

    @property
    def worst_condition_estimate(self) -> float:
        return max((p.condition_estimate for p in self.problems), default=float("nan"))

    def duplicate_group_ids(self) -> np.ndarray:
        """Per row: the index of its duplicate group in ``duplicate_groups``, or −1."""
        ids = np.full(self.scores.size, -1, dtype=np.int64)
        for g, rows in enumerate(self.duplicate_groups):
            ids[rows] = g
        return ids

    def ranking(self, descending: bool = True) -> np.ndarray:
        """Row indices from the highest score (most suspicious) to the lowest, ties by index."""
        order = np.argsort(-self.scores if descending else self.scores, kind="stable")
        return order

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per instance, in input order (needs pandas): the row ID when
        known (named ``id_name``), index (the row's position), label, cg_score, rank, ... For a
        DataFrame input its index is the frame's index, so the rows align with the input."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_frame() needs pandas: pip install pandas") from exc
        n = self.scores.size
        conflicting = np.zeros(n, dtype=bool)
        for rows in self.conflicting_groups:
            conflicting[rows] = True
        columns: dict[str, Any] = {} if self.ids is None else {self.id_name or "id": self.ids}
        columns |= {
            "index": np.arange(n),
            "label": self.labels,
            "cg_score": self.scores,
            "rank": np.argsort(self.ranking(), kind="stable") + 1,
            "percentile_in_class": _percentile_within_class(self.scores, self.labels),
            "std": self.std,
            "count": self.count,
            "duplicate_group": self.duplicate_group_ids(),
            "conflicting_duplicate": conflicting,
        }
        if self.subterms is not None:
            columns.update(self.subterms)
        return pd.DataFrame(columns, index=self.index)


def _percentile_within_class(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """100 · (rank within its class − 1) / (class size − 1); the class's top score gets 100."""
    out = np.empty(scores.size)
    _, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1)
    for c in np.unique(codes):
        rows = np.flatnonzero(codes == c)
        ranks = np.argsort(np.argsort(scores[rows], kind="stable"), kind="stable")
        out[rows] = 100.0 * ranks / max(rows.size - 1, 1)
    return out
