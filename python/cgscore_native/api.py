"""Public API: cg_score, cg_score_binary and score.

The data flow: validate → plan problems → check memory → normalize → duplicates →
run the problems (resuming from a checkpoint; locally or on a Dask cluster) → aggregate
in plan order. Each step lives in its own module.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Literal

import numpy as np

from ._execute import Aggregator, KernelOptions, run_kernel, singular_error_in_rows
from ._memory import check_run_fits, parse_memory_limit
from ._normalize import UnitRows, prepare_features
from ._protocol import plan_problems, resolve_seed
from ._run import call_interruptibly, run_problems
from ._validate import as_feature_matrix, as_label_codes, check_protocol_args, check_threads, format_rows
from .checkpoint import Checkpoint, digest_all, labels_digest, stored_entropy
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
    memory_limit: int | str | None = None,
    progress: bool = False,
    client: Any = None,
    chunk_size: int | None = None,
    checkpoint: str | os.PathLike | None = None,
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
        Seed of the negatives' draw (and of the chunks in chunked mode). The result is
        bit-identical for any ``n_threads`` and locally or on a cluster. With None, fresh entropy
        is drawn and stored in ``result.seed`` so the run can be reproduced; with a checkpoint,
        a rerun with None reuses the entropy the checkpoint recorded.
    n_threads : int or None
        Threads of the native kernel for this call (on a cluster: in each task); None uses
        OMP_NUM_THREADS or all cores (Dask's nanny starts workers with OMP_NUM_THREADS=1).
    subterms : bool
        Also return the sub-terms ``a2``, ``b2``, ``ab`` (SPEC §1) in ``result.subterms``.
    duplicates : {"ridge", "raise"}
        What to do when rows are equal after normalization (their Gram matrix is singular).
        "ridge" (default) adds ``ridge`` to the diagonal of every problem's Gram matrix and warns;
        "raise" raises DuplicateRowsError. Either way the groups are in ``result.duplicate_groups``.
    ridge : float
        The diagonal shift used by the "ridge" policy when duplicates exist (ignored otherwise).
    memory_limit : int, str or None
        A budget for the run, in bytes or as a string like "4GiB" or "500MB". The run is refused
        up front, before anything large is allocated, if its peak (the largest problem's n×n
        buffer and its copy of its rows) exceeds the budget or the available memory (on a
        cluster: the workers' memory limit). MemoryBudgetError says what it needs and what to do.
    progress : bool
        Show a progress bar on stderr (needs tqdm).
    client : dask.distributed.Client or None
        Run the problems as tasks on this Dask cluster (needs the ``dask`` extra, and
        cgscore_native on the workers). The features are scattered once; the result is
        bit-identical to the local run with the same seed.
    chunk_size : int or None
        Chunked mode: split each class at random into chunks so that every binary problem
        (positives plus their negatives) has at most ``chunk_size`` rows. Memory and time become
        linear in n; the scores approximate the exact ones (see bench/chunked). A chunk_size at
        least the largest problem changes nothing. None: exact, one problem per class.
    checkpoint : path or None
        A directory where each finished problem is stored atomically. A rerun with the same
        data, labels, arguments and seed resumes from it and gives exactly the uninterrupted
        result; a checkpoint of another run is refused. Ctrl-C leaves it consistent.
    """
    Xf = as_feature_matrix(X)
    n, d = Xf.shape
    classes, codes = as_label_codes(labels, n)
    check_protocol_args(ratio, repeats)
    threads = check_threads(n_threads)
    if client is not None:
        from .dask_backend import check_client

        check_client(client)
    label_values = np.asarray(labels.to_numpy() if hasattr(labels, "to_numpy") else labels).reshape(-1)

    # Plan and check memory on the labels alone: nothing large is allocated before the refusal.
    entropy = _run_entropy(seed, checkpoint)
    problems = plan_problems(
        codes, classes.size, ratio=float(ratio), repeats=int(repeats), entropy=entropy, chunk_size=chunk_size
    )
    _check_memory(n, d, max(p.size for p in problems), threads, memory_limit, client)

    data, groups = prepare_features(Xf, threads)
    del Xf
    conflicting = [g for g in groups if np.unique(codes[g]).size > 1]
    used_ridge = _duplicate_policy(groups, conflicting, classes, codes, duplicates, ridge)

    params = {
        "ratio": float(ratio),
        "repeats": int(repeats),
        "duplicates": duplicates,
        "ridge": float(ridge),
        "chunk_size": None if chunk_size is None else int(chunk_size),
    }
    store = None
    if checkpoint is not None:
        store = Checkpoint(checkpoint, _fingerprint(data, codes, classes, params, entropy, subterms))
    options = KernelOptions(ridge=used_ridge, subterms=subterms, n_threads=threads)
    outcomes = run_problems(
        data, problems, options, labels=classes, checkpoint=store, client=client, progress=progress
    )

    aggregate = Aggregator(n, int(repeats), subterms)
    reports = []
    for outcome in outcomes:  # plan order: the same arithmetic whichever back end ran them
        problem = outcome.problem
        aggregate.add(outcome)
        reports.append(
            ProblemReport(
                repeat=problem.repeat,
                label=_plain(classes[problem.class_index]),
                n_positives=int(problem.positives.size),
                n_negatives=int(problem.negatives.size),
                min_pivot=outcome.min_pivot,
                min_pivot_row=outcome.min_pivot_row,
                condition_estimate=outcome.condition_estimate,
                chunk=problem.chunk,
            )
        )
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
        params=params,
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
    client: Any = None,
    chunk_size: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    memory_limit: int | str | None = None,
) -> np.ndarray:
    """CG-scores, shape (n,), float64, under the authors' class-wise protocol (SPEC §2).

    High scores mark irregular, hard or mislabeled instances; low scores redundant ones.
    ``client`` (a Dask cluster), ``chunk_size`` (chunked mode), ``checkpoint`` (resumable
    runs) and ``memory_limit`` work as in ``score``, which also returns diagnostics.
    """
    return score(
        X,
        labels,
        ratio=ratio,
        repeats=repeats,
        seed=seed,
        n_threads=n_threads,
        client=client,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
        memory_limit=memory_limit,
    ).scores


def cg_score_binary(
    X: Any,
    y: Any,
    *,
    n_threads: int | None = None,
    duplicates: DuplicatePolicy = "ridge",
    ridge: float = DEFAULT_RIDGE,
    memory_limit: int | str | None = None,
) -> np.ndarray:
    """Exact CG-scores of every instance of one binary problem (SPEC §1).

    ``y`` holds +1/−1 (or booleans, True = +1) with one entry per instance; a 2-D ``y`` of
    shape (n, k) scores k label vectors from one factorization and returns shape (n, k).
    ``memory_limit`` (bytes or a string like "4GiB") works as in ``score``.
    """
    Xf = as_feature_matrix(X)
    n, d = Xf.shape
    Y = _as_signed_labels(y, n)
    threads = check_threads(n_threads)
    _check_memory(n, d, n, threads, memory_limit, None, k=Y.shape[1] if Y.ndim == 2 else 1)
    data, groups = prepare_features(Xf, threads)
    conflicting = [g for g in groups if np.unique(Y[g], axis=0).shape[0] > 1]
    used_ridge = _duplicate_policy(groups, conflicting, None, None, duplicates, ridge)
    try:
        out = call_interruptibly(run_kernel, data, Y, KernelOptions(ridge=used_ridge, n_threads=threads))
    except SingularGramError as exc:
        raise singular_error_in_rows(exc, data, np.arange(n), what="the binary problem") from None
    return out["scores"] if Y.ndim == 2 else out["scores"][:, 0]


def _run_entropy(seed: int | None, checkpoint) -> int:
    """The seed entropy; with seed=None, a checkpoint's recorded entropy wins over fresh entropy."""
    if seed is None and checkpoint is not None:
        stored = stored_entropy(checkpoint)
        if stored is not None:
            return stored
    return resolve_seed(seed)


def _check_memory(n: int, d: int, largest: int, threads: int, memory_limit, client, k: int = 1) -> None:
    """Refuse a run that cannot fit, here or (with a client) on the cluster's workers."""
    kernel_threads = threads or os.cpu_count() or 1
    if client is None:
        check_run_fits(n, d, largest, k=k, n_threads=kernel_threads, memory_limit=memory_limit)
        return
    from .dask_backend import worker_memory_limit

    # The work runs on the workers: check against their limit (and the user's budget), not this machine.
    user = parse_memory_limit(memory_limit)
    workers = worker_memory_limit(client)
    limits = [x for x in (user, workers) if x is not None]
    if limits:
        name = "the memory limit you set" if user is not None and user <= min(limits) else "a Dask worker's memory limit"
        check_run_fits(
            n, d, largest, k=k, n_threads=kernel_threads, memory_limit=min(limits), use_available=False, budget_name=name
        )


def _fingerprint(data: UnitRows, codes, classes, params: dict, entropy: int, subterms: bool) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: the data, the labels, every argument that
    changes a score, the seed entropy and the package version."""
    return {
        "data": digest_all(data.normalized_blocks()),  # a row scaled by 2^k normalizes to the same bits
        "labels": labels_digest(codes, classes),
        **params,
        "seed_entropy": int(entropy),
        "subterms": bool(subterms),
        "version": _package_version(),
    }


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("cgscore-native")
    except Exception:  # not installed as a distribution (e.g. a source checkout on sys.path)
        return "unknown"


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
        found = f" [labels {', '.join(repr(_plain(classes[c])) for c in codes[first])}]" if classes is not None else ""
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
