"""Row normalization and the up-front duplicate check (SPEC §3)."""

from __future__ import annotations

import numpy as np

# Normalized rows are compared after rounding to this grid: rows closer than this
# make H singular to working precision anyway, so they are duplicates in effect.
_DUPLICATE_GRID = 2.0**30


def normalize_rows(X: np.ndarray) -> np.ndarray:
    """Divide every row by its L2 norm (rows are already checked finite and non-zero).

    Rows are first divided by their largest magnitude, so that neither huge nor tiny
    values overflow or underflow in the norm.
    """
    scaled = X / np.abs(X).max(axis=1, keepdims=True)
    return np.ascontiguousarray(scaled / np.linalg.norm(scaled, axis=1, keepdims=True))


def duplicate_groups(Xn: np.ndarray) -> list[np.ndarray]:
    """Groups (sorted row indices, size >= 2) of rows equal after normalization."""
    keys = np.ascontiguousarray(np.round(Xn * _DUPLICATE_GRID).astype(np.int64))
    rows_as_bytes = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
    _, first, inverse, counts = np.unique(rows_as_bytes, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    dup_ids = np.flatnonzero(counts > 1)
    if dup_ids.size == 0:
        return []
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    groups = [order[bounds[g] : bounds[g + 1]] for g in dup_ids]
    return sorted((np.sort(g) for g in groups), key=lambda g: int(g[0]))
