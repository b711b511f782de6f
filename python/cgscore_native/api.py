"""Public API: cg_score, cg_score_binary and score.

The data flow: validate → normalize → duplicates → plan problems → kernel per
problem → aggregate. Each step lives in its own module.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from ._execute import Aggregator, KernelOptions, run_kernel, singular_error_in_rows, solve_problem
from ._memory import check_problem_fits
from ._normalize import duplicate_groups, normalize_rows
from ._progress import progress_bar
from ._protocol import plan_problems, resolve_seed
from ._validate import as_feature_matrix, as_label_codes, check_protocol_args, check_threads, format_rows
from .errors import DuplicateRowsError, DuplicatesWarning, SingularGramError
from .result import CGResult, ProblemReport

DuplicatePolicy = Literal["ridge", "raise"]
DEFAULT_RIDGE = 1e-6


def score(
    X: Any,
    labels: Any,
    *,
    ratio: float = 1.0,
    repeats: int = 1,
    seed: int | None = None,
    n_threads: int | None = None,
    subterms: bool = False,
    duplicates: DuplicatePolicy = "ridge",
    ridge: float = DEFAULT_RIDGE,
    memory_limit: int | None = None,
    progress: bool = False,
) -> CGResult:
    """CG-scores of every instance under the authors' class-wise protocol, with diagnostics.

    Parameters
    ----------
    X : array-like, shape (n, ...)
        Instances of any shape; each is flattened, converted to float64 and normalized to unit length.
    labels : array-like of hashable, shape (n,)
        Class labels (ints, strings, ...); at least two distinct values.
    ratio : float
        Negatives drawn per positive (the authors' ``unbalance_ratio``); > 0.
    repeats : int
        Number of repeats (the authors' ``rep_num``); scores are averaged over them.
    seed : int or None
        Seed of the negatives' draw. The result is bit-identical for any ``n_threads``. With None,
        fresh entropy is drawn and stored in ``result.seed`` so the run can be reproduced.
    n_threads : int or None
        Threads of the native kernel for this call; None uses OMP_NUM_THREADS or all cores.
    subterms : bool
        Also return the sub-terms ``a2``, ``b2``, ``ab`` (SPEC §1) in ``result.subterms``.
    duplicates : {"ridge", "raise"}
        What to do when rows are equal after normalization (their Gram matrix is singular).
        "ridge" (default) adds ``ridge`` to the diagonal of every problem's Gram matrix and warns;
        "raise" raises DuplicateRowsError. Either way the groups are in ``result.duplicate_groups``.
    ridge : float
        The diagonal shift used by the "ridge" policy when duplicates exist (ignored otherwise).
    memory_limit : int or None
        A budget in bytes for the largest problem; by default the available memory.
    progress : bool
        Show a progress bar on stderr (needs tqdm).
    """
    Xf = as_feature_matrix(X)
    n = Xf.shape[0]
    classes, codes = as_label_codes(labels, n)
    check_protocol_args(ratio, repeats)
    threads = check_threads(n_threads)
    label_values = np.asarray(labels.to_numpy() if hasattr(labels, "to_numpy") else labels).reshape(-1)

    Xn = normalize_rows(Xf)
    del Xf
    groups = duplicate_groups(Xn)
    conflicting = [g for g in groups if np.unique(codes[g]).size > 1]
    used_ridge = _duplicate_policy(groups, conflicting, classes, codes, duplicates, ridge)

    entropy = resolve_seed(seed)
    problems = plan_problems(codes, classes.size, ratio=float(ratio), repeats=int(repeats), entropy=entropy)
    check_problem_fits(max(p.size for p in problems), Xn.shape[1], 1, memory_limit)

    options = KernelOptions(ridge=used_ridge, subterms=subterms, n_threads=threads)
    aggregate = Aggregator(n, int(repeats), subterms)
    reports = []
    bar = progress_bar(len(problems), progress)
    try:
        for problem in problems:
            outcome = solve_problem(Xn, problem, options, labels=classes)
            aggregate.add(outcome)
            reports.append(
                ProblemReport(
                    repeat=problem.repeat,
                    label=_plain(classes[problem.class_index]),
                    n_positives=int(problem.positives.size),
                    n_negatives=int(problem.negatives.size),
                    min_pivot=outcome.min_pivot,
                    min_pivot_row=outcome.min_pivot_row,
                    condition_bound=outcome.condition_bound,
                )
            )
            bar.update(1)
    finally:
        bar.close()
    mean, std, count, sub = aggregate.finish()
    return CGResult(
        scores=mean,
        std=std,
        count=count,
        labels=label_values,
        classes=classes,
        scores_by_repeat=aggregate.by_repeat,
        duplicate_groups=groups,
        conflicting_groups=conflicting,
        problems=reports,
        ridge=used_ridge,
        seed=entropy,
        params={"ratio": float(ratio), "repeats": int(repeats), "duplicates": duplicates, "ridge": float(ridge)},
        subterms=sub,
    )


def cg_score(
    X: Any,
    labels: Any,
    *,
    ratio: float = 1.0,
    repeats: int = 1,
    seed: int | None = None,
    n_threads: int | None = None,
) -> np.ndarray:
    """CG-scores, shape (n,), float64, under the authors' class-wise protocol (SPEC §2).

    High scores mark irregular, hard or mislabeled instances; low scores redundant ones.
    See ``score`` for the parameters and for a result with diagnostics.
    """
    return score(X, labels, ratio=ratio, repeats=repeats, seed=seed, n_threads=n_threads).scores


def cg_score_binary(
    X: Any,
    y: Any,
    *,
    n_threads: int | None = None,
    duplicates: DuplicatePolicy = "ridge",
    ridge: float = DEFAULT_RIDGE,
) -> np.ndarray:
    """Exact CG-scores of every instance of one binary problem (SPEC §1).

    ``y`` holds +1/−1 (or booleans, True = +1) with one entry per instance; a 2-D ``y`` of
    shape (n, k) scores k label vectors from one factorization and returns shape (n, k).
    """
    Xf = as_feature_matrix(X)
    n = Xf.shape[0]
    Y = _as_signed_labels(y, n)
    threads = check_threads(n_threads)
    Xn = normalize_rows(Xf)
    groups = duplicate_groups(Xn)
    conflicting = [g for g in groups if np.unique(Y[g], axis=0).shape[0] > 1]
    used_ridge = _duplicate_policy(groups, conflicting, None, None, duplicates, ridge)
    check_problem_fits(n, Xn.shape[1], Y.shape[1] if Y.ndim == 2 else 1)
    try:
        out = run_kernel(Xn, Y, KernelOptions(ridge=used_ridge, n_threads=threads))
    except SingularGramError as exc:
        raise singular_error_in_rows(exc, Xn, np.arange(n), what="the binary problem") from None
    return out["scores"] if Y.ndim == 2 else out["scores"][:, 0]


def _as_signed_labels(y: Any, n: int) -> np.ndarray:
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.dtype == bool:
        arr = np.where(arr, 1.0, -1.0)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"y must hold +1/−1 or booleans; got dtype {arr.dtype}.")
    if arr.ndim not in (1, 2) or arr.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, k) to match X; got {arr.shape}.")
    bad = np.flatnonzero(~np.isin(arr, (1, -1)).reshape(n, -1).all(axis=1))
    if bad.size:
        raise ValueError(f"y must hold only +1 and −1 (or booleans); rows {format_rows(bad)} hold other values.")
    return arr.astype(np.float64)


def _duplicate_policy(groups, conflicting, classes, codes, duplicates: str, ridge: float) -> float:
    """The ridge to use (0 without duplicates); raises or warns as the policy says."""
    if duplicates not in ("ridge", "raise"):
        raise ValueError(f"duplicates must be 'ridge' or 'raise'; got {duplicates!r}.")
    if not groups:
        return 0.0
    listing = "; ".join(format_rows(g) for g in groups[:5]) + ("; ..." if len(groups) > 5 else "")
    summary = f"{len(groups)} group(s) of rows are equal after normalization (rows {listing})"
    if conflicting:
        first = conflicting[0]
        found = f" [labels {', '.join(repr(classes[c]) for c in codes[first])}]" if classes is not None else ""
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


def _plain(value):
    """numpy scalars to Python scalars, for readable reports."""
    return value.item() if isinstance(value, np.generic) else value
