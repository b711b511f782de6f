"""Warnings for inputs that run but give a misleading diagnosis: labels that are a regression
target, table columns on scales orders of magnitude apart, a numeric column that is a row ID.

Each check is cheap (one pass over the labels or the columns) and warns once, with what to do.
They stay silent on the data the diagnosis is made for (digits, images, standardized tables).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import LabelsWarning, ScaleWarning

# Labels look like a regression target when there are at least this many classes and ...
REGRESSION_MIN_CLASSES = 20
# ... at least this share of them has a single row, or the classes average fewer rows than this.
REGRESSION_SINGLETON_SHARE = 0.2
REGRESSION_MIN_ROWS_PER_CLASS = 3.0
# After the fit: an estimated noise rate at least this share of 1 − 1/K (the rate of random labels).
REGRESSION_NOISE_SHARE = 0.9
# Columns are unscaled when the largest column's root mean square exceeds the median column's by this.
SCALE_RATIO = 100.0
# Integer columns with this many rows or more that are unique and increasing are taken for row IDs.
ID_MIN_ROWS = 10
_ID_NAME = re.compile(r"(?i)^(id|idx|index|row|row_?id|uuid|key|.*[_\- ]id)$")


def regression_target_reason(labels: np.ndarray, codes: np.ndarray, K: int) -> str | None:
    """Why the labels look like a regression target (None when they do not): many classes, many
    of them single rows, or non-integer numbers."""
    n = codes.size
    values = np.asarray(labels)
    if values.dtype.kind == "f" and K > 2 and not np.all(np.isfinite(values) & (values == np.round(values))):
        return f"they are {K} distinct non-integer numbers"
    if K < REGRESSION_MIN_CLASSES:
        return None
    counts = np.bincount(codes, minlength=K)
    singletons = int(np.sum(counts == 1))
    if singletons >= REGRESSION_SINGLETON_SHARE * K or n / K < REGRESSION_MIN_ROWS_PER_CLASS:
        return f"{K} classes for {n} rows, {singletons} of them with a single row"
    return None


def warn_regression_target(labels: np.ndarray, codes: np.ndarray, K: int, stacklevel: int = 3) -> bool:
    """Warn (LabelsWarning) before the fit when the labels look like a regression target."""
    reason = regression_target_reason(labels, codes, K)
    if reason is None:
        return False
    warnings.warn(
        f"the labels look like a regression target ({reason}): the diagnosis treats every distinct value as a "
        "class, so most rows will be flagged. Pass class labels (or bin the target into a few classes).",
        LabelsWarning,
        stacklevel=stacklevel,
    )
    return True


def warn_noise_near_random(noise: float, K: int, stacklevel: int = 3) -> bool:
    """Warn (LabelsWarning) after the fit when the estimated noise rate is that of random labels.
    With two classes a rate near 50 % also follows from heavy noise (e.g. 40 % flips on a small
    set): either way the labels carry too little signal for the ranking to be trusted."""
    if K < 2 or noise < REGRESSION_NOISE_SHARE * (1 - 1 / K):
        return False
    cause = ("the labels may be shuffled, from other rows, or flipped so often that they carry little signal; "
             "the ranking and the flags are then unreliable." if K == 2 else
             "the labels may be a regression target, shuffled, or from other rows.")
    warnings.warn(
        f"estimated noise rate {noise:.1%} is close to {1 - 1 / K:.1%}, the rate of labels unrelated to the "
        f"features ({K} classes): {cause}",
        LabelsWarning,
        stacklevel=stacklevel,
    )
    return True


def column_scales(X: np.ndarray, block: int = 4096) -> np.ndarray:
    """Root mean square of every column of a 2-D array (what each feature adds to the row norms),
    summed over blocks of rows so that no float64 copy of X is made."""
    X = np.asarray(X)
    total = np.zeros(X.shape[1])
    for start in range(0, X.shape[0], block):
        part = X[start:start + block].astype(np.float64, copy=False)
        total += np.einsum("ij,ij->j", part, part)
    return np.sqrt(total / max(X.shape[0], 1))


def check_table_scale(X: np.ndarray, names: Sequence[str] | None, standardize: bool, stacklevel: int = 4) -> np.ndarray:
    """X standardized when asked (a table only); else X, with a ScaleWarning when its columns are unscaled."""
    if standardize:
        return standardized(X)
    warn_unscaled(X, names, stacklevel=stacklevel)
    return X


def unscaled_reason(X: np.ndarray, names: Sequence[str] | None = None) -> str | None:
    """Why the columns of a table look unscaled (None when they do not): the largest column's root
    mean square is ``SCALE_RATIO`` times the median column's or more. Only 2-D inputs are tables."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] < 2:
        return None
    rms = column_scales(X)
    live = rms[rms > 0]
    if live.size < 2:
        return None
    median = float(np.median(live))
    j = int(np.argmax(rms))
    ratio = float(rms[j]) / median
    if ratio < SCALE_RATIO:
        return None
    name = repr(str(names[j])) if names is not None and len(names) == rms.size else f"{j}"
    return f"column {name} is {ratio:.0f}× the median column in root mean square"


def warn_unscaled(X: np.ndarray, names: Sequence[str] | None = None, option: str = "standardize=True",
                  stacklevel: int = 3) -> bool:
    """Warn (ScaleWarning) when a table's columns differ in scale by orders of magnitude."""
    reason = unscaled_reason(X, names)
    if reason is None:
        return False
    warnings.warn(
        f"the feature columns are on very different scales ({reason}); rows are normalized to unit length, so the "
        f"largest columns decide alone. Pass {option} to give every column mean 0 and variance 1.",
        ScaleWarning,
        stacklevel=stacklevel,
    )
    return True


def standardized(X: np.ndarray) -> np.ndarray:
    """Every column to mean 0 and variance 1 (float64 copy); constant columns become 0."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"standardize=True needs a table of shape (n, d); got shape {X.shape}.")
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    out = X - mean
    nonconstant = std > 0
    out[:, nonconstant] /= std[nonconstant]
    out[:, ~nonconstant] = 0.0
    return out


def id_like_columns(columns: Sequence[Any], values: Sequence[np.ndarray]) -> list[str]:
    """Names of numeric columns that look like row IDs: named like one (``id``, ``*_id``, ``index``
    ...), or integers that are unique and increasing."""
    found = []
    for name, col in zip(columns, values):
        col = np.asarray(col)
        if col.dtype.kind not in "biuf":
            continue
        if _ID_NAME.match(str(name)):
            found.append(str(name))
        elif col.dtype.kind in "iu" and col.size >= ID_MIN_ROWS and np.all(np.diff(col) > 0):
            found.append(str(name))
    return found


def warn_id_like(columns: Sequence[Any], values: Sequence[np.ndarray], where: str, option: str,
                 stacklevel: int = 3) -> bool:
    """Warn (UserWarning) that numeric ID-like columns are used as features."""
    found = id_like_columns(columns, values)
    if not found:
        return False
    listed = ", ".join(repr(c) for c in found[:5])
    warnings.warn(
        f"{where}column(s) {listed} look like row IDs but are used as features; {option}",
        UserWarning,
        stacklevel=stacklevel,
    )
    return True
