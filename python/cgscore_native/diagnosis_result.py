"""The result of a label diagnosis: suspicion, suggested labels, flags, row IDs and what was chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._calibration import fit_temperature, softmax

# The columns of ``Diagnosis.to_frame()`` (and of ``cgscore diagnose``'s table), after the row ID.
FRAME_COLUMNS = ("index", "given_label", "suggested_label", "suspicion", "is_label_issue", "rank", "multiclass_cg_score")
_REPR_SUSPECTS = 5


@dataclass(frozen=True, repr=False)
class Diagnosis:
    """Which labels look wrong and what they should be, from leave-one-out NTK predictions (docs/math.md, "A label diagnosis").

    ``suspicion[i]`` is the margin of the last round: how far the best other class's prediction
    for row i lies above the prediction for its given class (> 0: another class is predicted;
    higher = more likely mislabeled). Kept rows are predicted leave-one-out, set-aside rows
    from the kept ones. ``is_label_issue`` flags the rows whose suggested label differs from
    the given one after the last round (suspicion > 0). In chunked mode the predictions are
    averaged over the partitions first, and margins and suggestions come from the averages.

    Rows are named by ``ids`` when the input had names for them (an image folder's relative
    file paths, a table's ``--id-column``; ``id_name`` is the column's name) and by ``index``,
    the pandas index of a DataFrame input, which ``to_frame()`` keeps.
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
    kernel: str = "paper"  # the kernel of the predictions: "paper" or "relu-ntk-L" (docs/math.md)
    # kernel="auto": kernel name → {λ: PRESS} on the selection rows (the least pair wins)
    kernel_scores: dict[str, dict[float, float]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    ids: np.ndarray | None = None  # (n,) the rows' names (file paths, an ID column), or None
    id_name: str | None = None  # the name of the ids' column in to_frame(): "path", the ID column's name
    index: Any = None  # the pandas index of a DataFrame input, kept by to_frame()
    # (n, K) the last round's per-class predictions, always kept for pred_probs()
    class_scores: np.ndarray | None = None
    # which diagnosis ran: "exact" (whole data), "chunked" (random chunks) or "large" (cells with a
    # halo, docs/large-data.md); its parameters are in ``params``
    mode: str = "exact"

    def __len__(self) -> int:
        return int(self.suspicion.size)

    @property
    def rank(self) -> np.ndarray:
        """1 for the most suspicious row, n for the least (ties by row order)."""
        order = np.argsort(-self.suspicion, kind="stable")
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(1, order.size + 1)
        return rank

    def ranking(self) -> np.ndarray:
        """Row positions from the most suspicious to the least (ties by row order)."""
        return np.argsort(-self.suspicion, kind="stable")

    def row_names(self) -> list[str]:
        """Each row's name for people: its ID, its index label, or its position."""
        if self.ids is not None:
            return [str(v) for v in self.ids]
        if self.index is not None:
            return [str(v) for v in self.index]
        return [str(i) for i in range(len(self))]

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per instance, in input order: the row ID (when known, named
        ``id_name``), index (the row's position), given_label, suggested_label, suspicion,
        is_label_issue, rank and multiclass_cg_score (what ``cgscore diagnose`` writes). For a
        DataFrame input its index is the frame's index, so the rows align with the input.

        >>> from cgscore_native import diagnose, load_digits
        >>> X, y = load_digits()
        >>> frame = diagnose(X[:200], y[:200]).to_frame()
        >>> frame.shape, frame.columns[:4].tolist()
        ((200, 7), ['index', 'given_label', 'suggested_label', 'suspicion'])
        """
        import pandas as pd

        columns: dict[str, Any] = {}
        if self.ids is not None:
            columns[self.id_name or "id"] = self.ids
        columns.update({
            "index": np.arange(len(self)),
            "given_label": self.labels,
            "suggested_label": self.suggested_label,
            "suspicion": self.suspicion,
            "is_label_issue": self.is_label_issue,
            "rank": self.rank,
            "multiclass_cg_score": self.cg_score,
        })
        frame = pd.DataFrame(columns, index=self.index)
        frame.attrs.update(kernel=self.kernel, ridge=self.ridge, mode=self.mode)  # what the predictions were made with
        if self.mode == "large":
            frame.attrs.update({key: self.params[key] for key in ("cells", "cell_rows", "halo_rows") if key in self.params})
        return frame

    def label_issues(self) -> Any:
        """The flagged rows of ``to_frame()``, most suspicious first: the relabel worksheet.

        >>> from cgscore_native import diagnose, load_digits
        >>> X, y = load_digits()
        >>> y = y[:300].copy()
        >>> y[17] = 8  # truly a 7
        >>> issues = diagnose(X[:300], y).label_issues()
        >>> [int(v) for v in issues.iloc[0][["index", "given_label", "suggested_label"]]]
        [17, 8, 7]
        >>> bool(issues["is_label_issue"].all()), bool(issues["rank"].is_monotonic_increasing)
        (True, True)
        """
        frame = self.to_frame()
        order = self.ranking()
        order = order[self.is_label_issue[order]]
        return frame.iloc[order]

    def pred_probs(self, temperature: float | None = None) -> np.ndarray:
        """Class probabilities (n, K), columns in the order of ``classes``: a softmax of the last
        round's predictions F / T (leave-one-out for the kept rows).

        The temperature T is fitted by the log-loss of these leave-one-out probabilities against
        the given labels (no clean labels needed; the fitted T is in ``fitted_temperature()``),
        or given. Rows sum to 1; feed them to cleanlab as ``pred_probs``.
        """
        F = self._scores()
        T = fit_temperature(F, self._codes()) if temperature is None else float(temperature)
        if not (np.isfinite(T) and T > 0):
            raise ValueError(f"temperature must be a positive number; got {temperature!r}.")
        return softmax(F, T)

    def fitted_temperature(self) -> float:
        """The temperature ``pred_probs()`` uses: least leave-one-out log-loss on the given labels."""
        return fit_temperature(self._scores(), self._codes())

    def given_codes(self) -> np.ndarray:
        """The given labels as positions in ``classes`` (cleanlab's integer labels)."""
        return self._codes()

    def _scores(self) -> np.ndarray:
        F = self.class_scores if self.class_scores is not None else self.loo_predictions
        if F is None:
            raise ValueError("this Diagnosis holds no per-class predictions; rerun diagnose() (or with predictions=True).")
        return F

    def _codes(self) -> np.ndarray:
        return np.searchsorted(self.classes, self.labels)

    def __repr__(self) -> str:
        n, K = len(self), self.classes.size
        shown = ", ".join(map(repr, self.classes[:6].tolist())) + (", ..." if K > 6 else "")
        kernel = self.kernel
        flagged = int(np.sum(self.is_label_issue))
        head = (f"Diagnosis(n={n}, classes={K} [{shown}], {f'kernel={kernel}, ' if kernel else ''}ridge={self.ridge:g}, "
                f"flagged={flagged} ({flagged / max(n, 1):.1%}), estimated_noise_rate={self.estimated_noise_rate:.1%}")
        rows = [r for r in self.ranking()[:_REPR_SUSPECTS] if self.is_label_issue[r]]
        if not rows:
            return head + ")"
        names = self.row_names()
        lines = [f"    {names[r]}: {self.labels[r]!s} -> {self.suggested_label[r]!s} (suspicion {self.suspicion[r]:.3g})"
                 for r in rows]
        return head + ",\n  top suspects:\n" + "\n".join(lines) + "\n)"


def diagnosis_from_fits(margin_by_round: np.ndarray, predictions: np.ndarray, codes: np.ndarray, classes: np.ndarray,
                        keep_predictions: bool, **fields: Any) -> Diagnosis:
    """A Diagnosis from what the fits found (every mode alike): the suspicion is the last round's
    margin, the suggestion the argmax of the last round's predictions, the flag suspicion > 0."""
    from ._loo import margins

    suspicion = margin_by_round[-1]
    return Diagnosis(
        suspicion=suspicion,
        suggested_label=classes[margins(predictions, codes)[1]],
        is_label_issue=suspicion > 0,
        margin_by_round=margin_by_round,
        classes=classes,
        loo_predictions=predictions if keep_predictions else None,
        class_scores=predictions,
        **fields,
    )
