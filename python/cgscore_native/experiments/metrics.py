"""Detection metrics for label-noise experiments: how well a score finds flagged rows.

Ranking figures (AUROC, average precision, TNR at 95 % TPR, as Neural Relation Graph, NeurIPS 2023,
reports them) and flag-budget figures (F1 and false-negative rate when as many rows are flagged as
there are noisy rows, or as a method estimates there are: Pickler, Kamassury & Silva 2025).
"""

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


def tnr_at_tpr(score, truth, tpr: float = 0.95) -> float:
    """True-negative rate when flagging every row scoring >= t, for the highest t whose recall
    (true-positive rate) reaches ``tpr``; tied rows are flagged together (the ROC curve's reading)."""
    t = _as_binary(truth)
    s = np.asarray(score, dtype=np.float64).reshape(-1)
    if s.size != t.size:
        raise ValueError(f"score has {s.size} entries but truth has {t.size}.")
    order = np.argsort(-s, kind="stable")
    s_sorted, t_sorted = s[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s.size - 1]  # the last row of each tie run
    hits = np.cumsum(t_sorted)[last]
    first = int(np.argmax(hits >= tpr * t.sum() - 1e-9))  # every row flagged reaches recall 1
    false_pos = last[first] + 1 - hits[first]
    return float(1.0 - false_pos / (~t).sum())


def budget_metrics(score, truth, budget: int) -> dict[str, float]:
    """Precision, recall, F1 and false-negative rate when the ``budget`` highest-scoring rows are flagged.

    Rows tied at the cut-off are taken in random order, so the figures are the expectation over
    that order (a tied group contributes its share of true rows per flagged row): they do not
    depend on how a sort happens to order ties.
    """
    t = _as_binary(truth)
    s = np.asarray(score, dtype=np.float64).reshape(-1)
    if s.size != t.size:
        raise ValueError(f"score has {s.size} entries but truth has {t.size}.")
    budget = int(budget)
    if not 0 <= budget <= s.size:
        raise ValueError(f"budget must lie in 0..{s.size}; got {budget}.")
    positives = int(t.sum())
    if budget == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "fnr": 1.0}
    cut = np.sort(s)[::-1][budget - 1]  # the score of the last row flagged
    above = s > cut
    tied = s == cut
    hits = float(t[above].sum()) + (budget - int(above.sum())) * float(t[tied].mean())
    recall = hits / positives
    return {"precision": hits / budget, "recall": recall, "f1": 2.0 * hits / (budget + positives), "fnr": 1.0 - recall}


def detection_metrics(score, truth) -> dict[str, float]:
    """AUROC, average precision, precision at k (k = number of true rows) and best F1 of one score."""
    return {
        "auroc": auroc(score, truth),
        "average_precision": average_precision(score, truth),
        "precision_at_k": precision_at_k(score, truth),
        "f1_max": f1_max(score, truth),
    }


def protocol_metrics(score, truth, estimated_budget: int | None = None) -> dict[str, float]:
    """TNR at 95 % TPR; F1 and FNR when the flag budget is the true number of noisy rows
    (``f1_at_true``, ``fnr_at_true``, the protocol of Pickler et al. 2025) and, when
    ``estimated_budget`` is given, at that estimated number (``f1_at_estimate``, ``fnr_at_estimate``;
    NaN without it)."""
    positives = int(_as_binary(truth).sum())
    at_true = budget_metrics(score, truth, positives)
    at_est = budget_metrics(score, truth, estimated_budget) if estimated_budget is not None else None
    return {
        "tnr_at_95_tpr": tnr_at_tpr(score, truth, 0.95),
        "f1_at_true": at_true["f1"],
        "fnr_at_true": at_true["fnr"],
        "f1_at_estimate": at_est["f1"] if at_est else float("nan"),
        "fnr_at_estimate": at_est["fnr"] if at_est else float("nan"),
    }


def flag_metrics(flags, truth) -> dict[str, float]:
    """Precision and recall of a yes/no flag: the share of flagged rows that are true, and the
    share of true rows flagged (precision is 0 when nothing is flagged)."""
    flags, truth = np.asarray(flags, dtype=bool).reshape(-1), _as_binary(truth)
    hits = int(np.sum(flags & truth))
    return {"flag_precision": hits / max(int(flags.sum()), 1), "flag_recall": hits / max(int(truth.sum()), 1)}
