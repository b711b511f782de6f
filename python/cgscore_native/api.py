"""Public API: cg_score, cg_score_binary and score — the orchestration of the stages.

The data's path, one module per stage, in the order ``score`` calls them:

    _validate   check the arguments, X and the labels: the one input step (read_input)
    _plan       the binary problems (docs/math.md, "The class-wise protocol"), drawn from the seed
    _memory     refuse a run that cannot fit, before anything large exists
    _prepare    each row's unit-length factor and duplicate groups (_duplicates: the ridge)
    _execute    run the problems: resume from a checkpoint, a kernel thread or Dask (_dask)
    _kernel     one native call per problem
    _aggregate  per-row means in plan order, into a result.CGResult
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._aggregate import aggregate, plain
from ._duplicates import (
    DEFAULT_RIDGE,
    DuplicatePolicy,
    conflicting_groups,
    duplicate_policy,
    fallback_ridge,
    merge_groups,
    policy_error,
    retry_near_duplicate,
    singular_error_in_rows,
    warn_near_duplicates,
)
from ._execute import call_interruptibly, run_problems
from ._kernel import KernelOptions, run_kernel
from ._memory import check_memory, plan_bytes
from ._numerics import numerics
from ._plan import plan_problems, plan_size
from ._prepare import prepare_features
from ._sources import open_input
from ._validate import BINARY_ARGUMENTS, SCORE_ARGUMENTS, check_arguments, read_input
from .checkpoint import Checkpoint, fingerprint, run_entropy
from .errors import SingularGramError
from .result import CGResult

__all__ = ["DEFAULT_RIDGE", "DuplicatePolicy", "cg_score", "cg_score_binary", "score"]


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
    ridge: float | None = None,
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
        Instances of any shape; each is flattened and normalized to unit length. C-contiguous
        uint8, float32 and float64 arrays are read in place (no float64 copy; the same scores as
        the same values in float64); other types are copied once.
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
        Also return the sub-terms ``a2``, ``b2``, ``ab`` (docs/math.md, "The score of one binary problem") in ``result.subterms``.
    duplicates : {"ridge", "raise"}
        What to do when rows are equal after normalization (their Gram matrix is singular).
        "ridge" (default) adds a ridge to the diagonal of every problem's Gram matrix and warns;
        "raise" raises DuplicateRowsError. Either way the groups are in ``result.duplicate_groups``.
        Rows that escape the check (equal to working precision, but not on the 2^-30 grid) make a
        problem's factorization fail: "ridge" then reports the pair as duplicates, warns and scores
        that problem again with the default ridge; "raise" raises DuplicateRowsError naming them.
    ridge : float or None
        A shift of every Gram matrix's diagonal. A number is always used, duplicates or not.
        None (default): 1e-6 (``DEFAULT_RIDGE``) under the "ridge" policy when duplicates exist,
        else none. ``result.ridge`` is the largest used; ``result.problems[i].ridge`` each one's.
    memory_limit : int, str or None
        A budget for the run, in bytes or as a string like "4GiB" or "500MB". The run is refused
        up front, before anything large is allocated (before X is converted and before the
        problems are drawn), if its peak exceeds the budget or the available memory: the largest
        problem's n×n buffer and its copy of its rows, any copy of X (none when X is C-contiguous
        uint8, float32 or float64), the plan and per-repeat results (``repeats`` × rows), and on a
        cluster each worker's copy of the rows against the workers' memory limit.
        MemoryBudgetError says what it needs and what to do.
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

    Examples
    --------
    >>> import numpy as np
    >>> from cgscore_native import load_digits, score
    >>> X, y = load_digits()
    >>> result = score(X[:300], y[:300], seed=0)
    >>> result.scores.shape, bool(np.all(result.scores >= 0))
    ((300,), True)
    >>> result.to_frame().columns[:3].tolist()
    ['index', 'label', 'cg_score']
    """
    args = check_arguments(SCORE_ARGUMENTS, ratio=ratio, repeats=repeats, n_threads=n_threads, client=client,
                           duplicates=duplicates, ridge=ridge, chunk_size=chunk_size, memory_limit=memory_limit,
                           seed=seed)
    ratio, repeats, threads, chunk_size = args["ratio"], args["repeats"], args["n_threads"], args["chunk_size"]
    X, labels, memory_limit = open_input(X, labels, memory_limit)  # a path: .npy, shards, Parquet (_sources)
    step = read_input(X, labels)
    classes, codes = step.class_labels
    n = step.n

    # Plan and check memory on the shapes, dtype and labels alone: nothing large is allocated
    # (no copy of X, no problem list) before the refusal.
    size = plan_size(codes, classes.size, ratio=ratio, repeats=repeats, chunk_size=chunk_size)
    check_memory(
        n, step.d, size.largest, threads, memory_limit, client, copy_bytes=step.copy_bytes,
        plan=plan_bytes(size.n_problems, size.total_rows, n, size.repeats, subterms), itemsize=step.itemsize,
    )
    entropy = run_entropy(seed, checkpoint)
    problems = plan_problems(codes, classes.size, ratio=ratio, repeats=repeats, entropy=entropy, chunk_size=chunk_size)

    data, groups = prepare_features(step.kernel_rows(), threads)
    conflicting = conflicting_groups(groups, codes)
    used_ridge = duplicate_policy(
        groups, conflicting, duplicates, ridge, lambda rows: ", ".join(repr(plain(classes[c])) for c in codes[rows])
    )

    params = {
        "ratio": ratio,
        "repeats": repeats,
        "duplicates": duplicates,
        "ridge": args["ridge"],
        "chunk_size": chunk_size,
        "numerics": numerics(),  # back end, BLAS and CPU features: bit-identity holds for equal values
    }
    store = None
    if checkpoint is not None:
        store = Checkpoint(checkpoint, fingerprint(data, codes, classes, params, entropy, subterms))
    options = KernelOptions(
        ridge=used_ridge, subterms=subterms, n_threads=threads, fallback_ridge=fallback_ridge(duplicates, ridge, used_ridge)
    )
    try:
        outcomes = run_problems(
            data, problems, options, labels=classes, checkpoint=store, client=client, progress=progress
        )
    except SingularGramError as exc:
        raise policy_error(exc, duplicates, used_ridge) from None
    finally:
        if store is not None:
            store.close()
    pairs = sorted({o.near_duplicate for o in outcomes if o.near_duplicate})
    if pairs:  # duplicates the grid check missed, found by a failed factorization
        warn_near_duplicates(pairs, options.fallback_ridge)
        groups = merge_groups(groups + [np.array(p) for p in pairs])
        conflicting = conflicting_groups(groups, codes)
        used_ridge = max(o.ridge for o in outcomes)
    total = aggregate(outcomes, n, repeats, subterms, classes)
    return CGResult(
        scores=total.mean,
        std=total.std,
        count=total.count,
        labels=step.labels,
        classes=classes,
        scores_by_repeat=total.by_repeat,
        duplicate_groups=groups,
        conflicting_groups=conflicting,
        problems=total.reports,
        ridge=used_ridge,
        seed=entropy,
        params=params,
        subterms=total.subterms,
        index=step.index,  # a DataFrame's row index, kept by to_frame()
    )


def cg_score(
    X: Any,
    labels: Any,
    *,
    ratio: float = 1.0,
    repeats: int = 1,
    seed: int | None = None,
    n_threads: int | None = None,
    duplicates: DuplicatePolicy = "ridge",
    ridge: float | None = None,
    memory_limit: int | str | None = None,
    progress: bool = False,
    client: Any = None,
    chunk_size: int | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> np.ndarray:
    """CG-scores, shape (n,), float64, under the authors' class-wise protocol (docs/math.md, "The class-wise protocol").

    High scores mark irregular, hard or mislabeled instances; low scores redundant ones.
    Every argument works as in ``score`` (which takes the same ones, plus ``subterms``, and
    also returns diagnostics); ``cg_score(X, y, **kw)`` is ``score(X, y, **kw).scores``.

    >>> from cgscore_native import cg_score, load_digits
    >>> X, y = load_digits()
    >>> cg_score(X[:200], y[:200], seed=0).shape
    (200,)
    """
    return score(
        X,
        labels,
        ratio=ratio,
        repeats=repeats,
        seed=seed,
        n_threads=n_threads,
        duplicates=duplicates,
        ridge=ridge,
        memory_limit=memory_limit,
        progress=progress,
        client=client,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
    ).scores


def cg_score_binary(
    X: Any,
    y: Any,
    *,
    n_threads: int | None = None,
    duplicates: DuplicatePolicy = "ridge",
    ridge: float | None = None,
    memory_limit: int | str | None = None,
) -> np.ndarray:
    """Exact CG-scores of every instance of one binary problem (docs/math.md, "The score of one binary problem").

    ``y`` holds +1/−1 (or booleans, True = +1) with one entry per instance; a 2-D ``y`` of
    shape (n, k) scores k label vectors from one factorization and returns shape (n, k).
    ``memory_limit`` (bytes or a string like "4GiB") works as in ``score``.

    >>> import numpy as np
    >>> from cgscore_native import cg_score_binary
    >>> X = np.random.default_rng(0).normal(size=(50, 8))
    >>> y = np.repeat([1, -1], 25)
    >>> cg_score_binary(X, y).shape, cg_score_binary(X, np.stack([y, -y], axis=1)).shape
    ((50,), (50, 2))
    """
    args = check_arguments(BINARY_ARGUMENTS, n_threads=n_threads, duplicates=duplicates, ridge=ridge,
                           memory_limit=memory_limit)
    threads = args["n_threads"]
    step = read_input(X, y, binary=True)
    Y, n = step.labels, step.n
    check_memory(n, step.d, n, threads, memory_limit, k=Y.shape[1] if Y.ndim == 2 else 1, copy_bytes=step.copy_bytes,
                 itemsize=step.itemsize, rows_in_place=True)
    data, groups = prepare_features(step.kernel_rows(), threads)
    used_ridge = duplicate_policy(groups, conflicting_groups(groups, Y), duplicates, ridge)
    retry = fallback_ridge(duplicates, ridge, used_ridge)
    try:
        out, _, pair = retry_near_duplicate(
            lambda lam: call_interruptibly(run_kernel, data, Y, KernelOptions(ridge=lam, n_threads=threads)),
            used_ridge, retry, lambda exc: singular_error_in_rows(exc, data, np.arange(n), what="the binary problem"),
        )
    except SingularGramError as exc:
        raise policy_error(exc, duplicates, used_ridge) from None
    if pair:  # a duplicate the grid check missed
        warn_near_duplicates([pair], retry)
    scores: np.ndarray = out["scores"]
    return scores if Y.ndim == 2 else scores[:, 0]

