"""The result of a label diagnosis: suspicion, suggested labels, flags and what was chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Diagnosis:
    """Which labels look wrong and what they should be, from leave-one-out NTK predictions (docs/math.md, "A label diagnosis").

    ``suspicion[i]`` is the margin of the last round: how far the best other class's prediction
    for row i lies above the prediction for its given class (> 0: another class is predicted;
    higher = more likely mislabeled). Kept rows are predicted leave-one-out, set-aside rows
    from the kept ones. ``is_label_issue`` flags the rows whose suggested label differs from
    the given one after the last round (suspicion > 0). In chunked mode the predictions are
    averaged over the partitions first, and margins and suggestions come from the averages.
    """

    suspicion: np.ndarray  # float64 (n,)
    suggested_label: np.ndarray  # (n,), values from the given labels
    is_label_issue: np.ndarray  # bool (n,)
    cg_score: np.ndarray  # float64 (n,): Σ_k A_ik²/D_i of round 0 without ridge (the paper's, multi-class)
    ridge: float  # the λ of the predictions
    margin_by_round: np.ndarray  # float64 (rounds + 1, n)
    estimated_noise_rate: float  # share of rows whose round-0 suggested label differs from the given one
    labels: np.ndarray  # the given labels (n,)
    classes: np.ndarray  # the distinct labels, in the order of the prediction columns
    set_aside: list[np.ndarray] = field(default_factory=list)  # rows set aside in round r = 1, 2, ...
    # ridge="auto": λ tried → round-0 LOO mean squared error against the given labels (the least wins)
    ridge_scores: dict[float, float] = field(default_factory=dict)
    cg_ridge: float = 0.0  # the ridge of cg_score: 0, or the duplicate ridge when rows repeat
    loo_predictions: np.ndarray | None = None  # (n, K) last round, when predictions=True
    kernel: str = "paper"  # the kernel of the predictions: "paper" or "relu-ntk-L" (SPEC §8)
    # kernel="auto": kernel name → {λ: PRESS} on the selection rows (the least pair wins)
    kernel_scores: dict[str, dict[float, float]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.suspicion.size)

    @property
    def rank(self) -> np.ndarray:
        """1 for the most suspicious row, n for the least (ties by row order)."""
        order = np.argsort(-self.suspicion, kind="stable")
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(1, order.size + 1)
        return rank

    def to_frame(self):
        """A pandas DataFrame, one row per instance: index, given_label, suggested_label, suspicion,
        is_label_issue, rank and cg_score (what ``cgscore diagnose`` writes); ``attrs`` holds the
        kernel and ridge of the predictions."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                "index": np.arange(len(self)),
                "given_label": self.labels,
                "suggested_label": self.suggested_label,
                "suspicion": self.suspicion,
                "is_label_issue": self.is_label_issue,
                "rank": self.rank,
                "cg_score": self.cg_score,
            }
        )
        frame.attrs.update(kernel=self.kernel, ridge=self.ridge)  # what the predictions were made with
        return frame
