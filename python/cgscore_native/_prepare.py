"""Prepare the rows for the kernel: each row's unit-length factor, and the duplicates (docs/math.md).

The rows are checked, scaled (without a normalized copy) and grouped into duplicates.

One native pass (``_core.prepare_rows``) finds the unusable rows, each row's factor
1/‖x_i‖ and a hash of the normalized row; the kernel then scales x_i·x_j by those factors
itself, so X is never copied: float32 and uint8 rows are read as they are, converted to
float64 a panel at a time (only float64 rows of extreme magnitude are normalized in a copy).

The same pass hashes every normalized row; the groups of duplicate rows, and everything done
about them, are ``_duplicates``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from . import _core
from ._duplicates import duplicate_groups
from ._validate import reject_bad_rows

# Rows are processed in blocks so that no temporary is as large as the data.
_BLOCK_ROWS = 2048


@dataclass(frozen=True)
class UnitRows:
    """The features as the kernel reads them: the rows as given, and the factors that make
    them unit-length (normalized row i is ``X[i] * scale[i]``)."""

    X: np.ndarray  # (n, d) C-contiguous float64, float32 or uint8 (the kernel reads each in place)
    scale: np.ndarray  # (n,) float64, 1/‖x_i‖

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.X.shape[0]), int(self.X.shape[1]))

    def take(self, rows: np.ndarray) -> UnitRows:
        """The given rows, in that order (a copy in X's own type; all of them, in order: no copy)."""
        if rows.size == self.X.shape[0] and np.array_equal(rows, np.arange(rows.size)):
            return self
        return UnitRows(np.take(self.X, rows, axis=0), self.scale[rows])

    def normalized(self, rows: np.ndarray) -> np.ndarray:
        """A normalized copy of the given rows."""
        return self.X[rows] * self.scale[rows, None]

    def normalized_blocks(self) -> Iterator[np.ndarray]:
        """The normalized rows, a block at a time (no copy of the whole)."""
        for start in range(0, self.X.shape[0], _BLOCK_ROWS):
            yield self.normalized(np.arange(start, min(start + _BLOCK_ROWS, self.X.shape[0])))



def prepare_features(X: np.ndarray, n_threads: int = 0) -> tuple[UnitRows, list[np.ndarray]]:
    """Check every row, find its unit-length factor and the groups of duplicate rows.

    Raises ValueError naming rows with NaN/±Inf or all zeros.
    """
    info = _core.prepare_rows(X, n_threads)
    status = info["status"]
    reject_bad_rows(np.flatnonzero(status == 1), np.flatnonzero(status == 2))
    if not info["in_range"]:
        # Entries beyond 2^±250 could overflow x_i·x_j: normalize a copy, then scale by ~1.
        X = normalize_rows(X)
        info = _core.prepare_rows(X, n_threads)
    data = UnitRows(X, info["scale"])
    return data, duplicate_groups(data, info["hash"])


def normalize_rows(X: np.ndarray) -> np.ndarray:
    """Divide every row by its L2 norm (rows are already checked finite and non-zero); a copy.

    Rows are first divided by their largest magnitude, so that neither huge nor tiny
    values overflow or underflow in the norm.
    """
    out = np.empty(X.shape, dtype=np.float64)
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        block = out[start : start + _BLOCK_ROWS]
        np.divide(X[start : start + _BLOCK_ROWS], np.abs(X[start : start + _BLOCK_ROWS]).max(axis=1, keepdims=True), out=block)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    return out


