"""Prepare the rows for the kernel: each row's unit-length factor, and the duplicates (SPEC §3).

The rows are checked, scaled (without a normalized copy), grouped into duplicates, and the
duplicate policy decides the ridge.

One native pass (``_core.prepare_rows``) finds the unusable rows, each row's factor
1/‖x_i‖ and a hash of the normalized row; the kernel then scales x_i·x_j by those factors
itself, so X is never copied (only rows of extreme magnitude are normalized in a copy).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from . import _core
from ._validate import format_rows, reject_bad_rows
from .errors import DuplicateRowsError, DuplicatesWarning

DuplicatePolicy = Literal["ridge", "raise"]

# Rows are processed in blocks so that no temporary is as large as the data.
_BLOCK_ROWS = 2048


@dataclass(frozen=True)
class UnitRows:
    """The features as the kernel reads them: the rows as given, and the factors that make
    them unit-length (normalized row i is ``X[i] * scale[i]``)."""

    X: np.ndarray  # (n, d) C-contiguous float64
    scale: np.ndarray  # (n,) float64, 1/‖x_i‖

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.X.shape[0]), int(self.X.shape[1]))

    def take(self, rows: np.ndarray) -> UnitRows:
        """The given rows, in that order (a copy; all of them, in order: no copy)."""
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

    def grid_keys(self, rows: np.ndarray) -> np.ndarray:
        """The duplicate check's integer keys of the given rows: rint(x·s·2^30), as the native hash."""
        return np.rint(self.normalized(rows) * _core.DUPLICATE_GRID).astype(np.int64)


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


def duplicate_groups(data: UnitRows, hashes: np.ndarray) -> list[np.ndarray]:
    """Groups (sorted row indices, size >= 2) of rows equal after normalization and rounding.

    Only rows whose 64-bit hashes collide are compared in full.
    """
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    groups = []
    for h in np.flatnonzero(counts > 1):
        candidates = order[bounds[h] : bounds[h + 1]]
        _, which, sizes = np.unique(data.grid_keys(candidates), axis=0, return_inverse=True, return_counts=True)
        which = which.reshape(-1)
        groups += [candidates[which == g] for g in np.flatnonzero(sizes > 1)]
    return sorted(groups, key=lambda g: int(g[0]))


def conflicting_groups(groups: list[np.ndarray], labels: np.ndarray) -> list[np.ndarray]:
    """The duplicate groups whose members carry different labels (rows of ``labels`` for 2-D labels)."""
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return [g for g in groups if np.unique(labels[g]).size > 1]
    return [g for g in groups if np.unique(labels[g], axis=0).shape[0] > 1]


def duplicate_policy(
    groups: list[np.ndarray],
    conflicting: list[np.ndarray],
    duplicates: str,
    ridge: float,
    describe_labels: Callable[[np.ndarray], str] | None = None,
) -> float:
    """The ridge to use (0 without duplicates); raises or warns as the policy says.

    ``describe_labels(rows)``, when given, names the labels of a conflicting group in the message.
    """
    if duplicates not in ("ridge", "raise"):
        raise ValueError(f"duplicates must be 'ridge' or 'raise'; got {duplicates!r}.")
    if not groups:
        return 0.0
    listing = "; ".join(format_rows(g) for g in groups[:5]) + ("; ..." if len(groups) > 5 else "")
    summary = f"{len(groups)} group(s) of rows are equal after normalization (rows {listing})"
    if conflicting:
        first = conflicting[0]
        found = f" [labels {describe_labels(first)}]" if describe_labels is not None else ""
        summary += f", {len(conflicting)} of them with conflicting labels (e.g. rows {format_rows(first)}{found})"
    if duplicates == "raise":
        raise DuplicateRowsError(
            f"{summary}. Their Gram matrix is singular. Remove the copies, or pass duplicates='ridge' to regularize.",
            groups=groups,
        )
    if not (np.isfinite(ridge) and ridge > 0):
        raise ValueError(f"ridge must be a positive number when duplicates exist; got {ridge}.")
    warnings.warn(f"{summary}; scoring with ridge {ridge:g} on the Gram diagonal.", DuplicatesWarning, stacklevel=3)
    return float(ridge)
