"""Class probabilities from leave-one-out predictions: a softmax with a fitted temperature.

The per-class predictions F (the NTK ridge fit to ±1 targets) are scores, not probabilities.
``softmax(F / T)`` turns them into probabilities; T is the one that minimises the log-loss of
the given labels, which needs no clean labels because F is leave-one-out: row i's own label
never entered its prediction. The log-loss is convex in 1/T, so a bracketed golden-section
search on log T finds the minimum.
"""

from __future__ import annotations

import math

import numpy as np

# log10 T is searched in this range (F lies in about [-1, 1], so T of 1e-3 is a hard argmax
# and 1e2 nearly uniform); the search stops when the bracket is this narrow in log10 T.
_LOG_T_RANGE = (-3.0, 2.0)
_TOLERANCE = 1e-4


def softmax(F: np.ndarray, T: float) -> np.ndarray:
    """Row-wise softmax of F / T, shifted by the row maximum (no overflow)."""
    Z = np.asarray(F, dtype=np.float64) / T
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def log_loss(F: np.ndarray, codes: np.ndarray, T: float) -> float:
    """Mean −log p(given label) of softmax(F / T)."""
    Z = np.asarray(F, dtype=np.float64) / T
    top = Z.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(Z - top).sum(axis=1))
    return float(np.mean(log_norm - Z[np.arange(Z.shape[0]), codes]))


def fit_temperature(F: np.ndarray, codes: np.ndarray) -> float:
    """The T of least ``log_loss(F, codes, T)``, by golden-section search on log10 T."""
    lo, hi = _LOG_T_RANGE
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = log_loss(F, codes, 10**a), log_loss(F, codes, 10**b)
    while hi - lo > _TOLERANCE:
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = log_loss(F, codes, 10**a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = log_loss(F, codes, 10**b)
    return float(10 ** ((lo + hi) / 2))
