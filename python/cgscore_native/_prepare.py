"""Prepare the rows for the kernel: each row's unit-length factor, and the duplicates (docs/math.md).

The rows are checked, scaled (without a normalized copy), grouped into duplicates, and the
duplicate policy decides the ridge.

One native pass (``_core.prepare_rows``) finds the unusable rows, each row's factor
1/‖x_i‖ and a hash of the normalized row; the kernel then scales x_i·x_j by those factors
itself, so X is never copied: float32 and uint8 rows are read as they are, converted to
float64 a panel at a time (only float64 rows of extreme magnitude are normalized in a copy).

Duplicates are rows equal on the 2^-30 grid. Two rows 1 ulp apart can straddle a rounding
boundary of the native grid (rint), so a second grid offset by half a cell (floor) is hashed
here in NumPy, a block at a time: an entry can straddle only one of the two grids. Rows
that escape both (entries straddling different grids) make a problem's factorization fail;
the ridge policy then treats the failure as a duplicate finding (``_kernel.score_problem``).
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
_BLOCK_ENTRIES = 1 << 20  # the offset grid's hash: 8 MiB per temporary

# The ridge of the "ridge" policy when duplicates exist and no ridge= was given.
DEFAULT_RIDGE = 1e-6


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

    def grid_keys(self, rows: np.ndarray) -> np.ndarray:
        """The duplicate check's integer keys of the given rows: rint(x·s·2^30), as the native hash."""
        return np.rint(self.normalized(rows) * _core.DUPLICATE_GRID).astype(np.int64)

    def offset_grid_keys(self, rows: np.ndarray) -> np.ndarray:
        """The keys on the grid offset by half a cell: floor(x·s·2^30)."""
        return np.floor(self.normalized(rows) * _core.DUPLICATE_GRID).astype(np.int64)

    def offset_grid_hashes(self) -> np.ndarray:
        """A 64-bit hash of every row's ``offset_grid_keys``, a block of rows at a time."""
        n, d = self.shape
        multipliers = np.random.default_rng(0x5EED).integers(0, 2**63, size=d, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        out = np.empty(n, dtype=np.uint64)
        step = max(1, _BLOCK_ENTRIES // d)
        factor = self.scale * _core.DUPLICATE_GRID  # x·(s·2^30) is (x·s)·2^30 exactly: 2^30 only shifts the exponent
        for start in range(0, n, step):
            block = self.X[start : start + step] * factor[start : start + step, None]
            keys = np.floor(block, out=block).astype(np.int64).view(np.uint64)
            keys *= multipliers  # wraps modulo 2^64, as a hash should
            out[start : start + keys.shape[0]] = keys.sum(axis=1, dtype=np.uint64)
        return out


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
    """Groups (sorted row indices, size >= 2) of rows equal after normalization and rounding
    to the 2^-30 grid or to the grid offset by half a cell (groups that share a row merge).

    ``hashes`` are the native hashes of the first grid. Only rows whose 64-bit hashes collide
    are compared in full.
    """
    found = _groups_on_grid(hashes, data.grid_keys) + _groups_on_grid(data.offset_grid_hashes(), data.offset_grid_keys)
    return merge_groups(found)


def _groups_on_grid(hashes: np.ndarray, keys: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray]:
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    groups = []
    for h in np.flatnonzero(counts > 1):
        candidates = order[bounds[h] : bounds[h + 1]]
        _, which, sizes = np.unique(keys(candidates), axis=0, return_inverse=True, return_counts=True)
        which = which.reshape(-1)
        groups += [candidates[which == g] for g in np.flatnonzero(sizes > 1)]
    return groups


def merge_groups(groups: list[np.ndarray]) -> list[np.ndarray]:
    """The groups with those that share a row merged (sorted rows; groups ordered by first row)."""
    owner: dict[int, int] = {}  # row -> index of its merged group
    merged: list[set[int]] = []
    for group in groups:
        hits = sorted({owner[int(r)] for r in group if int(r) in owner})
        if hits:
            target = hits[0]
            for other in hits[1:]:
                merged[target] |= merged[other]
                merged[other] = set()
        else:
            target = len(merged)
            merged.append(set())
        merged[target].update(int(r) for r in group)
        for r in merged[target]:
            owner[r] = target
    out = [np.array(sorted(g), dtype=np.intp) for g in merged if g]
    return sorted(out, key=lambda g: int(g[0]))


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
    ridge: float | None,
    describe_labels: Callable[[np.ndarray], str] | None = None,
) -> float:
    """The ridge to use; raises or warns as the policy says.

    An explicit ``ridge`` (a number) is always used, duplicates or not; ``None`` means
    DEFAULT_RIDGE when duplicates exist, else 0. ``describe_labels(rows)``, when given, names
    the labels of a conflicting group in the message.
    """
    if duplicates not in ("ridge", "raise"):
        raise ValueError(f"duplicates must be 'ridge' or 'raise'; got {duplicates!r}.")
    if ridge is not None and not (isinstance(ridge, (int, float, np.number)) and np.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"ridge must be a number >= 0 (or None for the default); got {ridge!r}.")
    if not groups:
        return 0.0 if ridge is None else float(ridge)
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
    used = DEFAULT_RIDGE if ridge is None else float(ridge)
    if used == 0:
        raise ValueError(f"ridge must be a positive number when duplicates exist; got {ridge}.")
    warnings.warn(f"{summary}; scoring with ridge {used:g} on the Gram diagonal.", DuplicatesWarning, stacklevel=3)
    return used


def fallback_ridge(duplicates: str, ridge: float | None, used: float) -> float:
    """The ridge a problem whose factorization fails is retried with (0: none, the failure is raised).

    Only the "ridge" policy retries, and only when no ridge was given and none is in use.
    """
    return DEFAULT_RIDGE if duplicates == "ridge" and ridge is None and used == 0 else 0.0


def near_duplicate_error(rows: tuple[int, ...]) -> DuplicateRowsError:
    """The "raise" policy's error for a pair found by a failed factorization."""
    a, b = rows
    return DuplicateRowsError(
        f"rows {a} and {b} are equal to working precision after normalization (their Gram matrix is singular). "
        "Remove one of them, or pass duplicates='ridge' to regularize.",
        groups=[rows],
    )


def warn_near_duplicates(pairs: list[tuple[int, ...]], ridge: float) -> None:
    """The "ridge" policy's warning for pairs found by failed factorizations."""
    listing = "; ".join(f"rows {a} and {b}" for a, b in pairs[:5]) + ("; ..." if len(pairs) > 5 else "")
    warnings.warn(
        f"{listing} are equal to working precision after normalization (a Gram matrix was singular); "
        f"scored their problem(s) again with ridge {ridge:g} on the Gram diagonal.",
        DuplicatesWarning,
        stacklevel=3,
    )
