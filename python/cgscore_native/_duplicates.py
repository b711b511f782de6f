"""Duplicate rows, in one place: finding them, the policy that decides the ridge, and the retry of
a factorization that fails on a near-copy the grid check missed (docs/math.md, "Duplicates").

Rows equal after normalization (``x_i = c·x_j``, ``c > 0``) make the Gram matrix singular.

- **Detection.** Duplicates are rows equal on the 2^-30 grid. Two rows 1 ulp apart can straddle a
  rounding boundary of the native grid (rint), so a second grid offset by half a cell (floor) is
  hashed here in NumPy, a block at a time: an entry can straddle only one of the two grids.
- **Policy.** ``score``: "ridge" adds ``DEFAULT_RIDGE`` (or the given ridge) to every Gram diagonal
  and warns naming the rows, "raise" raises ``DuplicateRowsError``. ``diagnose``: ridge 0 leaves
  its grid and cg_score uses ``DEFAULT_RIDGE``, with a warning naming the rows.
- **Retry.** Rows that escape both grids make a factorization fail; the failure names the pair
  (``singular_error_in_rows``) and ``retry_near_duplicate`` scores that problem again with the
  fallback ridge, reporting the pair as a duplicate finding.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np

from . import _core
from ._validate import format_rows
from .errors import DuplicateRowsError, DuplicatesWarning, SingularGramError

if TYPE_CHECKING:
    from ._prepare import UnitRows

DuplicatePolicy = Literal["ridge", "raise"]

# The ridge of the "ridge" policy when duplicates exist and no ridge= was given.
DEFAULT_RIDGE = 1e-6

_BLOCK_ENTRIES = 1 << 20  # the offset grid's hash: 8 MiB per temporary

T = TypeVar("T")


# -- detection --

def grid_keys(data: UnitRows, rows: np.ndarray) -> np.ndarray:
    """The duplicate check's integer keys of the given rows: rint(x·s·2^30), as the native hash."""
    return np.rint(data.normalized(rows) * _core.DUPLICATE_GRID).astype(np.int64)


def offset_grid_keys(data: UnitRows, rows: np.ndarray) -> np.ndarray:
    """The keys on the grid offset by half a cell: floor(x·s·2^30)."""
    return np.floor(data.normalized(rows) * _core.DUPLICATE_GRID).astype(np.int64)


def offset_grid_hashes(data: UnitRows) -> np.ndarray:
    """A 64-bit hash of every row's ``offset_grid_keys``, a block of rows at a time."""
    n, d = data.shape
    multipliers = np.random.default_rng(0x5EED).integers(0, 2**63, size=d, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    out = np.empty(n, dtype=np.uint64)
    step = max(1, _BLOCK_ENTRIES // d)
    factor = data.scale * _core.DUPLICATE_GRID  # x·(s·2^30) is (x·s)·2^30 exactly: 2^30 only shifts the exponent
    for start in range(0, n, step):
        block = data.X[start : start + step] * factor[start : start + step, None]
        keys = np.floor(block, out=block).astype(np.int64).view(np.uint64)
        keys *= multipliers  # wraps modulo 2^64, as a hash should
        out[start : start + keys.shape[0]] = keys.sum(axis=1, dtype=np.uint64)
    return out


def duplicate_groups(data: UnitRows, hashes: np.ndarray) -> list[np.ndarray]:
    """Groups (sorted row indices, size >= 2) of rows equal after normalization and rounding
    to the 2^-30 grid or to the grid offset by half a cell (groups that share a row merge).

    ``hashes`` are the native hashes of the first grid. Only rows whose 64-bit hashes collide
    are compared in full.
    """
    found = _groups_on_grid(hashes, lambda rows: grid_keys(data, rows))
    found += _groups_on_grid(offset_grid_hashes(data), lambda rows: offset_grid_keys(data, rows))
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


def _listing(groups: list[np.ndarray]) -> str:
    """'rows 1, 4; 7, 9' of the first five groups, for a message."""
    return "; ".join(format_rows(g) for g in groups[:5]) + ("; ..." if len(groups) > 5 else "")


# -- policy --

def duplicate_policy(
    groups: list[np.ndarray],
    conflicting: list[np.ndarray],
    duplicates: str,
    ridge: float | None,
    describe_labels: Callable[[np.ndarray], str] | None = None,
    stacklevel: int = 3,
) -> float:
    """The ridge ``score`` and ``cg_score_binary`` use; raises or warns as the policy says.

    ``duplicates`` and ``ridge`` are checked (``_validate``'s argument rules). An explicit
    ``ridge`` (a number) is always used, duplicates or not; ``None`` means
    DEFAULT_RIDGE when duplicates exist, else 0. ``describe_labels(rows)``, when given, names
    the labels of a conflicting group in the message.
    """
    if not groups:
        return 0.0 if ridge is None else float(ridge)
    summary = f"{len(groups)} group(s) of rows are equal after normalization (rows {_listing(groups)})"
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
    warnings.warn(f"{summary}; scoring with ridge {used:g} on the Gram diagonal.", DuplicatesWarning,
                  stacklevel=stacklevel)
    return used


def diagnosis_ridges(groups: list[np.ndarray], grid: list[float], stacklevel: int = 3) -> tuple[list[float], float]:
    """The policy of ``diagnose``: (its λ grid, cg_score's λ). With duplicates, ridge 0 (singular)
    leaves the grid and cg_score uses DEFAULT_RIDGE; a DuplicatesWarning names the rows."""
    if not groups:
        return grid, 0.0
    warnings.warn(
        f"{len(groups)} group(s) of rows are equal after normalization (rows {_listing(groups)}); their Gram matrix "
        f"is singular, so ridge 0 is replaced by {DEFAULT_RIDGE:g} (also for cg_score).",
        DuplicatesWarning,
        stacklevel=stacklevel,
    )
    return [lam for lam in grid if lam > 0] or [DEFAULT_RIDGE], DEFAULT_RIDGE


def fallback_ridge(duplicates: str, ridge: float | None, used: float) -> float:
    """The ridge a problem whose factorization fails is retried with (0: none, the failure is raised).

    Only the "ridge" policy retries, and only when no ridge was given and none is in use.
    """
    return DEFAULT_RIDGE if duplicates == "ridge" and ridge is None and used == 0 else 0.0


# -- the retry of a failed factorization --

def retry_near_duplicate(fit: Callable[[float], T], ridge: float, fallback: float,
                         name_rows: Callable[[SingularGramError], SingularGramError]) -> tuple[T, float, tuple[int, ...]]:
    """(outcome, ridge used, pair) of ``fit(ridge)``; when that factorization fails on a pair of rows
    (a near-copy the grid check missed) with no ridge in use and a fallback ridge allowed, of
    ``fit(fallback)``, the pair being a duplicate finding. ``name_rows`` puts a failure in the
    user's row numbers; any other failure is raised so named."""
    try:
        return fit(ridge), ridge, ()
    except SingularGramError as exc:
        error = name_rows(exc)
        if not (fallback > 0 and ridge == 0 and len(error.rows) == 2):
            raise error from None
    try:
        return fit(fallback), fallback, error.rows
    except SingularGramError as again:
        raise name_rows(again) from None


def near_duplicate_error(rows: tuple[int, ...]) -> DuplicateRowsError:
    """The "raise" policy's error for a pair found by a failed factorization."""
    a, b = rows
    return DuplicateRowsError(
        f"rows {a} and {b} are equal to working precision after normalization (their Gram matrix is singular). "
        "Remove one of them, or pass duplicates='ridge' to regularize.",
        groups=[rows],
    )


def policy_error(exc: SingularGramError, duplicates: str, used: float) -> Exception:
    """What a failed factorization is raised as: under "raise" with no ridge a pair is a duplicate finding
    (DuplicateRowsError), else the failure itself."""
    if duplicates == "raise" and used == 0 and len(exc.rows) == 2:
        return near_duplicate_error(exc.rows)
    return exc


def warn_near_duplicates(pairs: list[tuple[int, ...]], ridge: float, stacklevel: int = 3,
                         then: str = "scored their problem(s) again with ridge {ridge:g} on the Gram diagonal") -> None:
    """The warning for pairs found by failed factorizations; ``then`` says what was done about them."""
    listing = "; ".join(f"rows {a} and {b}" for a, b in pairs[:5]) + ("; ..." if len(pairs) > 5 else "")
    warnings.warn(
        f"{listing} are equal to working precision after normalization (a Gram matrix was singular); "
        f"{then.format(ridge=ridge)}.",
        DuplicatesWarning,
        stacklevel=stacklevel,
    )


def singular_error_in_rows(exc: SingularGramError, data: UnitRows, rows: np.ndarray, what: str) -> SingularGramError:
    """A failed factorization in the user's terms: the failing row, its closest earlier row in
    the problem (the likely near-copy: ``rows`` of the error) and the way out."""
    local = exc.pivot_index
    if not 0 <= local < rows.size:
        return exc
    row = int(rows[local])
    # The pivot fails because this row is (nearly) spanned by the rows before it;
    # the most similar earlier row is the likely near-copy.
    earlier = rows[:local]
    culprit = [row]
    detail = ""
    if earlier.size:
        cosines = data.normalized(earlier) @ data.normalized(np.array([row]))[0]
        best = int(np.argmax(cosines))
        culprit = sorted([row, int(earlier[best])])
        detail = f" Row {row} has cosine similarity {cosines[best]:.15f} with row {int(earlier[best])}."
    message = (
        f"The NTK Gram matrix of {what} is singular to working precision at row {row} "
        f"(pivot {exc.pivot_value:.3g}).{detail} Near-duplicate rows cause this: remove them, or "
        "pass duplicates='ridge' with a larger ridge (e.g. ridge=1e-4) to regularize."
    )
    return SingularGramError(message, exc.pivot_index, exc.pivot_value, rows=culprit)
