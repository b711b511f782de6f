"""Detection metrics for label-noise experiments: how well a score finds flagged rows."""

from __future__ import annotations

import numpy as np


def _as_binary(truth) -> np.ndarray:
    t = np.asarray(truth).astype(bool).reshape(-1)
    if t.all() or not t.any():
        raise ValueError("truth must hold both positives and negatives to rank against each other.")
    return t


def auroc(score, truth) -> float:
    """Area under the ROC curve of `score` for telling truth=True rows from the rest (ties count 1/2)."""
    t = _as_binary(truth)
    s = np.asarray(score, dtype=np.float64).reshape(-1)
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size)
    sorted_s = s[order]
    # Average ranks over ties (Mann-Whitney U).
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    n_pos, n_neg = t.sum(), (~t).sum()
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def precision_at_k(score, truth, k: int | None = None) -> float:
    """Share of truth=True rows among the k highest scores (k defaults to the number of True rows)."""
    t = _as_binary(truth)
    k = int(t.sum()) if k is None else int(k)
    top = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")[:k]
    return float(t[top].mean())


def _precision_recall_at_thresholds(score, truth) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall when flagging every row scoring >= t, for each distinct score t (descending).

    Tied rows are flagged together, so the figures do not depend on the order of ties.
    """
    t = _as_binary(truth)
    s = np.asarray(score, dtype=np.float64).reshape(-1)
    if s.size != t.size:
        raise ValueError(f"score has {s.size} entries but truth has {t.size}.")
    order = np.argsort(-s, kind="stable")
    s_sorted, t_sorted = s[order], t[order]
    # The last row of each run of equal scores closes one threshold.
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s.size - 1]
    hits = np.cumsum(t_sorted)[last]
    flagged = last + 1
    return hits / flagged, hits / t.sum()


def average_precision(score, truth) -> float:
    """Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over the distinct score thresholds (as scikit-learn computes it)."""
    precision, recall = _precision_recall_at_thresholds(score, truth)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def f1_max(score, truth) -> float:
    """The best F1 over all thresholds: flag the rows scoring >= t, for the t that suits the score best.

    It rates the ranking when a user picks a good cut-off; with k = number of true rows as the
    cut-off, F1 equals ``precision_at_k``, so this is the complementary view.
    """
    precision, recall = _precision_recall_at_thresholds(score, truth)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return float(f1.max())


def detection_metrics(score, truth) -> dict[str, float]:
    """AUROC, average precision, precision at k (k = number of true rows) and best F1 of one score."""
    return {
        "auroc": auroc(score, truth),
        "average_precision": average_precision(score, truth),
        "precision_at_k": precision_at_k(score, truth),
        "f1_max": f1_max(score, truth),
    }


def flag_metrics(flags, truth) -> dict[str, float]:
    """Precision and recall of a yes/no flag: the share of flagged rows that are true, and the
    share of true rows flagged (precision is 0 when nothing is flagged)."""
    flags, truth = np.asarray(flags, dtype=bool).reshape(-1), _as_binary(truth)
    hits = int(np.sum(flags & truth))
    return {"flag_precision": hits / max(int(flags.sum()), 1), "flag_recall": hits / max(int(truth.sum()), 1)}
