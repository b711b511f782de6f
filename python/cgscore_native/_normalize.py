"""Row normalization and the up-front duplicate check (SPEC §3)."""

from __future__ import annotations

import numpy as np

# Normalized rows are compared after rounding to this grid: rows closer than this
# make H singular to working precision anyway, so they are duplicates in effect.
_DUPLICATE_GRID = 2.0**30


# Rows are processed in blocks so that no temporary is as large as the data.
_BLOCK_ROWS = 2048


def normalize_rows(X: np.ndarray) -> np.ndarray:
    """Divide every row by its L2 norm (rows are already checked finite and non-zero).

    Rows are first divided by their largest magnitude, so that neither huge nor tiny
    values overflow or underflow in the norm.
    """
    out = np.empty(X.shape, dtype=np.float64)
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        block = out[start : start + _BLOCK_ROWS]
        np.divide(X[start : start + _BLOCK_ROWS], np.abs(X[start : start + _BLOCK_ROWS]).max(axis=1, keepdims=True), out=block)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _grid_keys(rows: np.ndarray) -> np.ndarray:
    return np.round(rows * _DUPLICATE_GRID).astype(np.int64)


def duplicate_groups(Xn: np.ndarray) -> list[np.ndarray]:
    """Groups (sorted row indices, size >= 2) of rows equal after normalization.

    Each row's grid key is hashed to 64 bits block by block; only rows whose hashes
    collide are compared in full.
    """
    n, d = Xn.shape
    multipliers = np.random.default_rng(0x5EED).integers(1, 2**63, size=d, dtype=np.uint64) | np.uint64(1)
    hashes = np.empty(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, n, _BLOCK_ROWS):
            keys = _grid_keys(Xn[start : start + _BLOCK_ROWS]).view(np.uint64)
            hashes[start : start + _BLOCK_ROWS] = (keys * multipliers).sum(axis=1, dtype=np.uint64)
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    groups = []
    for h in np.flatnonzero(counts > 1):
        candidates = order[bounds[h] : bounds[h + 1]]
        _, which, sizes = np.unique(_grid_keys(Xn[candidates]), axis=0, return_inverse=True, return_counts=True)
        which = which.reshape(-1)
        groups += [candidates[which == g] for g in np.flatnonzero(sizes > 1)]
    return sorted(groups, key=lambda g: int(g[0]))
