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
