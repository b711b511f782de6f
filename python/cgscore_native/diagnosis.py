"""Label diagnosis (docs/math.md, "A label diagnosis"): ``diagnose``, the orchestration of the leave-one-out fits.

validate → plan (whole data, or stratified chunks over seeded partitions) → memory → prepare
→ round 0 at the λ of a hill climb on the leave-one-out squared error (PRESS) → the paper's
CG-score at λ = 0 → cleaning rounds → margins and suggestions of the partition-averaged
predictions. The math of one fit is in ``_loo``; the result is ``Diagnosis``.

Iterative cleaning: round 0 scores every row; each next round sets aside the rows with the
highest margin of the previous round, refits on the rest and scores every row again (kept
rows leave-one-out, set-aside rows by prediction).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._duplicates import DEFAULT_RIDGE, diagnosis_ridges, retry_near_duplicate, warn_near_duplicates
from ._execute import run_tasks
from ._guards import warn_noise_near_random
from ._kernel_choice import resolve_kernel  # kernel= (issue 18)
from ._large import check_mode, diagnose_large
from ._loo import LooTask, cleaning_guarded, margins, run_task, signed_targets
from ._memory import check_memory, check_plan_fits, choose_diagnosis_mode, diagnosis_plan_bytes, plan_chunk_size
from ._plan import stratified_chunks
from ._prepare import UnitRows, prepare_features
from ._progress import StagedBar, progress_bar
from ._ridge_search import RIDGE_GRID, search_grid
from ._sources import open_input
from ._validate import DIAGNOSE_ARGUMENTS, check_arguments, check_chunk_classes, default_threads, read_input
from .checkpoint import Checkpoint, TaskArrays, fingerprint, run_entropy
from .diagnosis_result import Diagnosis, diagnosis_from_fits
from .errors import SingularGramError

# The defaults, by measurement: bench/diagnosis/README.md, "The defaults" (run.py --tune).
# One round setting aside as many rows as the estimated noise rate is as good as two on digits
# and within 0.001 elsewhere, for one factorization less.
DEFAULT_ROUNDS = 1
# set_aside="auto": this multiple of the estimated noise rate, within these bounds.
SET_ASIDE_FACTOR = 1.0
SET_ASIDE_BOUNDS = (0.05, 0.5)
# The cleaning round is skipped when round 0 disagrees with this share of the chance rate
# (K − 1)/K of the given labels: the set-aside rows are then as much signal as noise, and the
# refit ranks worse than round 0 (bench/detection/README.md, "The cleaning-round guard").
CLEANING_GUARD = 0.4


def diagnose(
    X: Any,
    labels: Any = None,
    *,
    label_column: str | None = None,
    drop: Sequence[str] | None = None,
    standardize: bool = False,
    ridge: float | str = "auto",
    rounds: int = DEFAULT_ROUNDS,
    set_aside: float | str = "auto",
    seed: int | None = None,
    n_threads: int | None = None,
    chunk_size: int | None = None,
    repeats: int | None = None,
    client: Any = None,
    checkpoint: str | os.PathLike | None = None,
    memory_limit: int | str | None = None,
    progress: bool = False,
    predictions: bool = False,
    ridge_grid: Sequence[float] = RIDGE_GRID,
    ridge_search: str = "climb",
    kernel: str | int = "paper",
    mode: str = "auto",
) -> Diagnosis:
    """Which labels look wrong, and what they should be: leave-one-out NTK predictions (docs/math.md, "A label diagnosis").

    Parameters
    ----------
    X : array-like, shape (n, ...)
        Instances of any shape; each is flattened and normalized to unit length. C-contiguous
        uint8, float32 and float64 arrays are read in place (no float64 copy; the same scores as
        the same values in float64); other types are copied once.
    labels : array-like of hashable, shape (n,), or a column name
        The given class labels; at least two distinct values. With a DataFrame X, a column name
        works as ``label_column``.
    label_column : str or None
        With a pandas DataFrame X: the column holding the labels (left out of the features).
        The DataFrame's index names the rows: ``result.to_frame()`` keeps it.
    drop : sequence of str or None
        With a DataFrame X: columns left out of the features (IDs, text, leaks).
    standardize : bool
        Give every feature column mean 0 and variance 1 first. Use it for tables whose columns
        are measured in different units (a ScaleWarning says when the largest column's scale is
        100 times the median's); not for images or embeddings, whose scale is meaningful.
    ridge : float or "auto"
        λ added to the Gram diagonal for the predictions. "auto" (default) picks from
        ``ridge_grid`` the λ of least round-0 leave-one-out squared error ‖F_i − Y_i‖² against
        the given labels (see ``ridge_search``); 0 is the exact interpolant. The λ used is
        ``result.ridge``; the errors of the λ tried are in ``result.ridge_scores``.
    rounds : int
        Cleaning rounds after round 0 (0: round 0 only). Each sets aside the rows with the
        highest margin of the previous round, refits on the rest and scores every row again.
    set_aside : float or "auto"
        Share of the rows set aside in each round. "auto": ``SET_ASIDE_FACTOR`` × the estimated
        noise rate (the share of rows whose round-0 suggested label differs from the given
        one), clipped to ``SET_ASIDE_BOUNDS``.
    seed : int or None
        Seed of the stratified chunks in chunked mode (unused otherwise: the whole-data
        diagnosis is deterministic). Results are bit-identical for any ``n_threads``.
    n_threads : int or None
        Threads of the native kernel; None uses OMP_NUM_THREADS or all cores.
    chunk_size : int or None
        Chunked mode: split the rows at random into stratified chunks (every class in every
        chunk) of at most this many rows, diagnose each chunk on its own and average the
        predictions over ``repeats`` fresh partitions. None: one whole-data problem, unless it
        does not fit in memory, in which case the largest chunk that fits is used.
    repeats : int or None
        Partitions averaged in chunked mode (default 3); ignored for the whole-data problem.
    client : dask.distributed.Client or None
        Run the fits as tasks on a Dask cluster (the features are scattered once; each chunk's
        fit is one task). The result is bit-identical to the local run: the tasks are the same
        and their outcomes are combined in the same order.
    checkpoint : path or None
        A directory where every finished fit is stored; a rerun with the same data, labels,
        arguments and seed loads them instead of refitting, and gives exactly the
        uninterrupted result. A checkpoint of another run is refused.
    memory_limit : int, str or None
        A budget in bytes or as "4GiB"; the run is refused up front when a problem's n×n buffer
        cannot fit (and, with chunk_size=None, the large mode's cells or, when they do not fit
        either, chunked mode are chosen instead).
    progress : bool
        Show a progress bar over the factorizations on stderr (needs tqdm).
    predictions : bool
        Also return the last round's per-class predictions ``loo_predictions`` (n, K), columns
        in the order of ``result.classes``.
    ridge_grid : sequence of float
        The candidates of ridge="auto".
    ridge_search : {"climb", "grid"}
        "climb" (default) walks the grid from λ = 0.1 towards lower LOO error and stops at a
        local minimum (a few factorizations); "grid" tries every λ.
    kernel : "paper", "auto", "relu-ntk-L" or int L
        The kernel of the predictions (docs/math.md). "paper" (default): the CG-score's kernel,
        exactly as before. "relu-ntk-L" or L (1 … 64): the ReLU NTK of an L-hidden-layer
        network (more local as L grows; 0 is "paper"), its λ chosen by PRESS from one
        eigendecomposition. "auto": the (kernel, λ) of least PRESS over the paper's kernel and
        depths 1, 2, 4, 8 (on a stratified subsample of 1000 rows for larger data), then one
        fit of the whole data. The kernel used is ``result.kernel``; cg_score is always the
        paper's kernel.
    mode : {"auto", "exact", "large"}
        "exact": the whole data in one fit (O(n³)). "large": cells of nearby rows, each fitted
        exactly, linear in n (docs/large-data.md). "auto" (default): exact while the n×n buffer
        fits and n ≤ 5 000 with the paper's kernel (20 000 with the others), large past that.
        The mode that ran is ``result.mode``, its parameters ``result.params``.

    Examples
    --------
    Two labels of the digits flipped by hand are found, with the right digit suggested:

    >>> from cgscore_native import diagnose, load_digits
    >>> X, y = load_digits()
    >>> X, y = X[:300], y[:300].copy()
    >>> y[5], y[17] = 6, 8  # truly a 9 and a 7
    >>> result = diagnose(X, y)
    >>> result.label_issues().index[:2].tolist()
    [17, 5]
    >>> result.suggested_label[[5, 17]].tolist()
    [9, 7]
    """
    args = check_arguments(DIAGNOSE_ARGUMENTS, n_threads=n_threads, rounds=rounds, ridge=(ridge, ridge_grid),
                           kernel=kernel, set_aside=set_aside, ridge_search=ridge_search, client=client,
                           repeats=repeats, chunk_size=chunk_size, memory_limit=memory_limit, seed=seed)
    threads, rounds, grid, kernel_spec = args["n_threads"], args["rounds"], args["ridge"], args["kernel"]
    fraction, chunk_size = args["set_aside"], args["chunk_size"]
    # row IDs, DataFrame columns and the guards (_table_input, _guards) included
    X, labels, memory_limit = open_input(X, labels, memory_limit)  # a path: .npy, shards, Parquet (_sources)
    step = read_input(X, labels, label_column=label_column, drop=drop, standardize=standardize)
    classes, codes = step.class_labels
    n, d, K = step.n, step.d, classes.size
    # -- mode= (docs/large-data.md): the large-data mode plans its own cells (_large) --
    chosen_mode = choose_diagnosis_mode(check_mode(mode), n, d, K, threads or default_threads(), chunk_size,
                                        memory_limit, client, step.copy_bytes, step.itemsize,
                                        diagnosis_plan_bytes(n, K, 1, rounds, len(grid)),
                                        paper_kernel=kernel_spec is not None and kernel_spec.depth == 0)
    if chosen_mode == "large":
        return diagnose_large(step.features, codes, classes, step.labels, step.index, kernel=kernel_spec,
                              grid=list(grid), fixed_ridge=not isinstance(ridge, str), rounds=rounds,
                              fraction=fraction, set_aside=set_aside, seed=seed, threads=threads, client=client,
                              checkpoint=checkpoint, memory_limit=memory_limit, progress=progress,
                              predictions=predictions, auto_share=_auto_share,
                              cleaning_guard=CLEANING_GUARD)

    kernel_threads = threads or default_threads()
    copy, itemsize = step.copy_bytes, step.itemsize
    chunked_reps = 3 if repeats is None else args["repeats"]
    # The predictions' bytes, whole data or chunked, counted before any partition is drawn.
    plans = {reps: diagnosis_plan_bytes(n, K, reps, rounds, len(grid)) for reps in (1, chunked_reps)}
    check_plan_fits(plans[1], memory_limit, n, K, 1, rounds)  # the least any mode needs
    chunk = plan_chunk_size(n, d, K, kernel_threads, chunk_size, memory_limit, client, copy, itemsize,
                             plan_bytes=(plans[1], plans[chunked_reps]))
    reps = 1 if chunk is None else chunked_reps
    plan = plans[reps]
    check_plan_fits(plan, memory_limit, n, K, reps, rounds)
    if chunk is not None:
        check_chunk_classes(codes, classes, chunk, chosen=chunk_size is None)
    check_memory(n, d, min(chunk or n, n), threads, memory_limit, client, k=K, copy_bytes=copy, itemsize=itemsize,
                 plan=plan)
    if chunk is None:
        partitions = [[np.arange(n)]]
        entropy = None
    else:
        repeats = reps
        entropy = run_entropy(seed, checkpoint)
        partitions = [stratified_chunks(codes, K, chunk, np.random.default_rng([entropy, r])) for r in range(repeats)]

    data, groups = prepare_features(step.kernel_rows(), threads)
    grid, cg_ridge = diagnosis_ridges(groups, grid)
    used_kernel, grid, choice = resolve_kernel(kernel_spec, grid, not isinstance(ridge, str), data, codes, K, threads)
    params: dict[str, Any] = {
        "mode": "exact" if chunk is None else "chunked",
        "kernel": used_kernel.name,
        "rounds": rounds,
        "set_aside": set_aside,
        "chunk_size": chunk,
        "repeats": len(partitions),
        "seed": entropy,
        "ridge_grid": list(grid),
    }
    store = None
    if checkpoint is not None:
        fields = {"run": "diagnose", "ridge_search": ridge_search, **params}
        fields.pop("seed")
        store = TaskArrays(Checkpoint(checkpoint, fingerprint(data, codes, classes, fields, entropy or 0, False)))

    n_chunks = sum(len(p) for p in partitions)
    # Fits planned: the climb's first 3 λ (every λ of a grid search), the CG-score's, the cleaning
    # rounds'; the bar's total grows when the climb takes more steps.
    lams = len(grid) if ridge_search == "grid" or len(grid) <= 2 else min(3, len(grid))
    total = n_chunks * (lams + min(rounds, 1)) + (0 if cg_ridge in grid and lams == len(grid) else len(partitions[0]))
    bar = StagedBar(progress_bar(total, progress, description="diagnose", unit="fit"), total)
    try:
        run = _Runner(data, codes, K, threads, partitions, store, client, bar, kernel_depth=used_kernel.depth)
        outcome = run.all(grid, cg_ridge, rounds, fraction, exhaustive=ridge_search == "grid")
    finally:
        bar.close()

    warn_noise_near_random(outcome.noise_rate, K)
    return diagnosis_from_fits(
        outcome.margin_by_round, outcome.predictions, codes, classes, predictions,
        cg_score=outcome.cg_score,
        ridge=outcome.ridge,
        estimated_noise_rate=outcome.noise_rate,
        labels=step.labels,
        set_aside=outcome.set_aside,
        ridge_scores=outcome.ridge_scores if choice is None else choice.press[used_kernel.name],
        cg_ridge=outcome.cg_ridge,
        kernel=used_kernel.name,
        kernel_scores={} if choice is None else choice.press,
        params=params,
        index=step.index,
        mode=params["mode"],
    )


@dataclass(frozen=True)
class _Outcome:
    """What the fits of a diagnosis found, before it is put in the user's terms (``Diagnosis``)."""

    margin_by_round: np.ndarray  # (rounds + 1, n), of the partition-averaged predictions
    predictions: np.ndarray  # (n, K) the last round's, averaged over the partitions
    cg_score: np.ndarray  # (n,) the multi-class CG-score at cg_ridge
    cg_ridge: float
    ridge: float  # the λ of the predictions
    ridge_scores: dict[float, float]  # PRESS per row and class of every λ tried ({} for a given ridge)
    noise_rate: float  # the share of rows whose round-0 suggestion differs from the given label
    set_aside: list[np.ndarray]  # the rows set aside in each cleaning round


class _Runner:
    """The fits of one diagnosis as tasks (``_loo.LooTask``), run in stages: round 0 at each λ
    the climb visits, the CG-score's λ, the cleaning rounds. Each stage's outcomes come back in
    task order, here, on a cluster or from a checkpoint alike, so the result does not depend
    on where or in how many threads the fits ran."""

    def __init__(self, data: UnitRows, codes: np.ndarray, K: int, threads: int, partitions: list[list[np.ndarray]],
                 store: TaskArrays | None, client: Any, bar: Any, kernel_depth: int = 0):
        self.data, self.codes, self.K, self.threads = data, codes, K, threads
        self.depth = kernel_depth  # of the predictions; cg_score is the paper's kernel (depth 0)
        self.partitions, self.store, self.client, self.bar = partitions, store, client, bar
        # (repeat, chunk, rows) of every chunk, in plan order
        self.chunks = [(r, k, rows) for r, p in enumerate(partitions) for k, rows in enumerate(p)]

    def run(self, tasks: list[LooTask]) -> list[dict[str, np.ndarray]]:
        return run_tasks(self.data, tasks, run_task, store=self.store, client=self.client, bar=self.bar)

    def round0(self, lam: float, chunks: list[tuple[int, int, np.ndarray]],
               depth: int | None = None) -> list[dict[str, np.ndarray]]:
        """Round 0 at λ of the given chunks (kernel: the predictions', or ``depth``)."""
        depth = self.depth if depth is None else depth
        tag = f"-depth{depth}" if depth else ""
        return self.run([
            LooTask(f"r{r}-k{k}-ridge{lam!r}{tag}", rows, self.codes, self.K, lam, self.threads, kernel_depth=depth)
            for r, k, rows in chunks
        ])

    def all(self, grid: list[float], cg_ridge: float, rounds: int, fraction: float | None,
            exhaustive: bool) -> _Outcome:
        n = self.codes.size
        reps = len(self.partitions)
        # Round 0 at the λ of the grid, for every chunk; λ by the LOO squared error summed over chunks.
        first: dict[float, list[dict[str, np.ndarray]]] = {}

        part0 = [c for c in self.chunks if c[0] == 0]
        later = len(self.chunks) if rounds else 0  # the cleaning rounds' fits

        def fitness(lam: float) -> float | None:
            """−Σ ‖F_i − Y_i‖² (LOO, against the given labels) over all chunks; None if singular."""
            # progress: the climb evaluates at least 3 λ (all of them when exhaustive)
            planned = len(grid) if exhaustive or len(grid) <= 2 else min(3, len(grid))
            more_lams = max(planned - len(first) - 1, 0)
            cg_fits = 0 if cg_ridge in first or cg_ridge == lam else len(part0)
            self.bar.stage(f"λ search, round 0 at λ = {lam:g}", len(self.chunks),
                           more_lams * len(self.chunks) + cg_fits + later)
            try:
                first[lam] = self.round0(lam, self.chunks)
            except SingularGramError:
                if len(grid) == 1:
                    raise
                return None  # near-copies: this λ is out
            return -sum(float(np.sum((o["loo"] - signed_targets(self.codes[o["rows"]], self.K)) ** 2))
                        for o in first[lam])

        values = search_grid(grid, fitness, exhaustive=exhaustive)
        usable = [v for v, c in values.items() if c is not None]
        if not usable:
            raise SingularGramError("the Gram matrix is singular at every ridge of the grid; pass a larger ridge.")
        lam = max(usable, key=lambda v: (values[v], v))
        press = {float(v): -c / (n * reps * self.K) for v, c in sorted(values.items()) if c is not None}
        if len(grid) == 1:
            press = {}

        # The paper's CG-score (no ridge), from round 0 of the first partition.
        part0 = [c for c in self.chunks if c[0] == 0]
        at_cg = first.get(cg_ridge) if self.depth == 0 else None
        if at_cg is None:
            self.bar.stage(f"CG-score at λ = {cg_ridge:g}", len(part0), later)
            fits, cg_ridge, pair = retry_near_duplicate(  # near-copies the duplicate check does not catch
                lambda lam: self.round0(lam, part0, depth=0), cg_ridge, DEFAULT_RIDGE, lambda exc: exc)
            at_cg = fits
            if pair:
                warn_near_duplicates([pair], cg_ridge, stacklevel=4, then="cg_score uses ridge {ridge:g} instead")
        cg = np.zeros(n)
        for o in at_cg[:len(part0)]:
            cg[o["rows"]] = o["cg"]

        F_sum = np.zeros((rounds + 1, n, self.K))  # predictions of each round, summed over partitions
        wrong = 0
        cleaning = []
        for (r, k, rows), o in zip(self.chunks, first[lam]):
            F0 = o["loo"]
            sugg = margins(F0, self.codes[rows])[1]
            wrong += int(np.sum(sugg != self.codes[rows]))
            F_sum[0, rows] += F0
            share = fraction if fraction is not None else _auto_share(float(np.mean(sugg != self.codes[rows])))
            cleaning.append(LooTask(f"r{r}-k{k}-clean-ridge{lam!r}{f'-depth{self.depth}' if self.depth else ''}",
                                    rows, self.codes, self.K, lam, self.threads, rounds=rounds, share=share,
                                    start=F0, kernel_depth=self.depth))
        aside_rows: list[list[np.ndarray]] = [[] for _ in range(rounds)]
        if rounds and cleaning_guarded(wrong / (n * reps), self.K, CLEANING_GUARD):
            F_sum[1:] = F_sum[0]  # the guard: every round keeps round 0's predictions, nothing set aside
            cleaning = []
        if rounds and cleaning:
            self.bar.stage(f"cleaning round{'s' if rounds > 1 else ''} (set aside, refit {rounds}×)", len(cleaning))
            for task, o in zip(cleaning, self.run(cleaning)):
                F_sum[1:, task.rows] += o["rounds"]
                bounds = np.concatenate([[0], np.cumsum(o["aside_counts"])])
                for i in range(rounds):
                    aside_rows[i].append(task.rows[o["aside"][bounds[i]:bounds[i + 1]]])
        noise = wrong / (n * reps)
        aside = [np.unique(np.concatenate(a)) if a else np.empty(0, dtype=np.intp) for a in aside_rows]
        F_mean = F_sum / reps
        margin_by_round = np.stack([margins(F_r, self.codes)[0] for F_r in F_mean])
        return _Outcome(margin_by_round, F_mean[-1], cg, cg_ridge, float(lam), press, noise, aside)


def _auto_share(noise: float) -> float:
    lo, hi = SET_ASIDE_BOUNDS
    return float(min(max(SET_ASIDE_FACTOR * noise, lo), hi))
