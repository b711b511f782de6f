"""The large-data diagnosis (mode="large"): k-means cells with a halo, one exact fit per cell.

Design by measurement (bench/large/README.md): random chunks lose each row's neighbours, a
global low-rank kernel loses local detail; cells of nearby rows with a halo keep both at a cost
linear in n.

1. Plan the cells (cell_shape: small cores in halos nine times larger, in proportion on small
   data): spherical k-means on a seeded sample of the unit rows, then one streaming pass over
   all rows (a block at a time, never a float64 copy of X) finds every row's 1 + halo/core most
   similar centroids. Each row is the *core* row of one cell (its nearest with room, else the
   most similar cell with room: a core holds at most CAPACITY × the mean, so no fit exceeds
   largest_fit_rows), and the *halo* of cell j is up to ``halo`` rows of other cells that have j
   among their nearest centroids (displaced rows first, then by rank; most similar first).
2. Choose (kernel, λ) by PRESS of the core rows of at least SELECTION_CORE_ROWS (the kernel
   actually fitted, one fit per cell and candidate, inverting only the core's block), unless
   both are given.
3. One task per cell: factor the kernel of core ∪ halo once (the native core, exact; halo rows
   first, so that only the core's trailing block of the factor is inverted) and report the
   leave-one-out predictions F = Y − A/D of the core rows only; cleaning rounds are a second
   task per cell, from the round-0 predictions of its rows. Tasks run through
   ``_execute.run_tasks``: here, on Dask (``client=``) or from a checkpoint, bit-identical.

Every row's prediction is the exact leave-one-out prediction of kernel ridge regression on its
cell (tests/test_large_mode.py checks it against brute-force refits).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._blas import product
from ._duplicates import DEFAULT_RIDGE, diagnosis_ridges
from ._execute import run_tasks
from ._guards import warn_noise_near_random
from ._kernel_choice import CANDIDATE_DEPTHS, ridge_grid, warn_top_edge, widened_minimum
from ._kernels import Kernel
from ._loo import clean_rounds, cleaning_guarded, fit_rows, margins, signed_targets
from ._prepare import UnitRows
from ._progress import StagedBar, progress_bar
from .checkpoint import Checkpoint, TaskArrays, fingerprint
from .errors import DuplicatesWarning, SingularGramError

MODES = ("auto", "exact", "large")
# Core rows per cell and halo rows added to each fit (bench/large/README.md, "Cell size").
# Small cores in large halos: each scored row is fitted among its neighbourhood. At n = 20 000,
# 200 + 1800 ranked 0.003–0.008 above 1000 + 2000 (and above the whole data where it has local
# structure) at 1.2–1.5× the time.
CELL_ROWS = 200
HALO_ROWS = 1800
# From this many rows the cells are cheaper per row: 200 + 1800 cells cost ~0.47 ms a row at
# 10⁵ rows against confident learning's ~0.21 (5-fold logistic regression), 500 + 1000 cells
# 0.125 ms, for −0.007 AUROC (bench/large/README.md, "n = 100 000").
SMALL_CELLS_FROM = 50_000
SMALL_CELL_ROWS = 500
SMALL_HALO_ROWS = 1000
# On small data the cells shrink in proportion, so that a fit holds at most this share of the
# rows: 45 % ranked best of 30/45/60/80 % over the detection bench's 225 cells (mean AUROC
# 0.9418 against 0.9368 for the whole data; bench/detection/README.md, "Local fits").
LOCAL_FIT_SHARE = 0.45
LOCAL_MIN_ROWS = 100  # below this, one cell: the whole data
# a cell's core holds at most this × the mean core size: 2 ranked +0.0015 above 1.5 at 10⁵ and
# 3·10⁵ rows (fewer rows displaced from their nearest cell) for +5 % time and fits of 2000 not 1750
CAPACITY = 2.0
KMEANS_SAMPLE_PER_CELL = 32  # k-means runs on this many sampled rows per cell (at most KMEANS_SAMPLE)
KMEANS_SAMPLE = 65_536
KMEANS_ITERATIONS = 12
SELECTION_CELLS = 3  # at least this many cells' PRESS chooses (kernel, λ) …
SELECTION_CORE_ROWS = 3000  # … and at least this many of their core rows
_BLOCK_ROWS = 4096  # rows per block of the assignment pass


def check_mode(mode: Any) -> str:
    """mode= as one of MODES, or a one-line ValueError."""
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise ValueError(f"mode must be 'auto', 'exact' or 'large'; got {mode!r}.")
    return mode.strip().lower()


def cell_shape(n: int) -> tuple[int, int]:
    """(core rows, halo rows) per cell for n rows."""
    if n >= SMALL_CELLS_FROM:
        return SMALL_CELL_ROWS, SMALL_HALO_ROWS
    if n < LOCAL_MIN_ROWS:
        return n, 0
    scale = min(1.0, LOCAL_FIT_SHARE * n / (CELL_ROWS + HALO_ROWS))
    return max(1, round(CELL_ROWS * scale)), round(HALO_ROWS * scale)


def neighbour_count(core_rows: int, halo_rows: int) -> int:
    """Nearest centroids kept per row: a cell's halo comes from the rows that rank it 2nd … r-th,
    about (r − 1) cores of them, enough for a full halo."""
    return 1 + math.ceil(halo_rows / core_rows)


def cells_plan_bytes(n: int) -> int:
    """The plan's memory beside X: each row's nearest centroids and similarities and the halo
    candidates sorted from them (about 64 bytes per row and centroid kept)."""
    return 64 * neighbour_count(*cell_shape(n)) * n


def cell_count(n: int, core_rows: int) -> int:
    return max(1, int(round(n / core_rows)))


def cell_capacity(n: int, core_rows: int) -> int:
    """The most core rows a cell may hold: CAPACITY × the mean."""
    return int(math.ceil(CAPACITY * n / cell_count(n, core_rows)))


def largest_fit_rows(n: int) -> int:
    """The most rows one cell's fit can have (a full core plus a full halo): the planner's bound,
    which assign_cells keeps."""
    core, halo = cell_shape(n)
    if cell_count(n, core) == 1:
        return n
    return min(n, cell_capacity(n, core) + halo)


@dataclass(frozen=True)
class Cell:
    """One cell: the rows it reports (core) and the rows it is fitted with besides (halo)."""

    core: np.ndarray  # sorted row indices
    halo: np.ndarray  # row indices, most similar first

    @property
    def fit_rows(self) -> np.ndarray:
        return np.concatenate([self.core, self.halo])


# -- 1. the cells ---------------------------------------------------------------------------------


def spherical_kmeans(data: UnitRows, k: int, rng: np.random.Generator) -> np.ndarray:
    """k unit centroids (k, d) from spherical k-means on a seeded sample of the unit rows."""
    n = data.shape[0]
    size = min(n, max(k, min(KMEANS_SAMPLE, KMEANS_SAMPLE_PER_CELL * k)))
    sample = np.sort(rng.choice(n, size=size, replace=False))
    U = data.normalized(sample).astype(np.float64, copy=False)
    C = U[rng.choice(size, size=k, replace=False)].copy()
    for _ in range(KMEANS_ITERATIONS):
        S = product(U, C, transpose_b=True)
        best = np.argmax(S, axis=1)
        sums = np.zeros_like(C)
        np.add.at(sums, best, U)
        norms = np.linalg.norm(sums, axis=1)
        empty = norms == 0
        if np.any(empty):  # an empty cell restarts at the sample rows farthest from their centroid
            far = np.argsort(S[np.arange(size), best], kind="stable")[: int(empty.sum())]
            sums[empty], norms[empty] = U[far], 1.0
        C = sums / norms[:, None]
    return C


def nearest_centroids(data: UnitRows, C: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's r most similar centroids (n, r) and the similarities (n, r), most similar
    first, in one pass over the rows a block at a time."""
    n = data.shape[0]
    r = min(r, C.shape[0])
    top = np.empty((n, r), dtype=np.int64)
    sim = np.empty((n, r))
    for start in range(0, n, _BLOCK_ROWS):
        rows = np.arange(start, min(start + _BLOCK_ROWS, n))
        S = product(data.normalized(rows), C, transpose_b=True)
        part = np.argpartition(-S, r - 1, axis=1)[:, :r] if r < C.shape[0] else np.tile(np.arange(r), (rows.size, 1))
        vals = np.take_along_axis(S, part, axis=1)
        order = np.lexsort((part, -vals), axis=1)  # most similar first, ties by centroid index
        top[rows] = np.take_along_axis(part, order, axis=1)
        sim[rows] = np.take_along_axis(vals, order, axis=1)
    return top, sim


def fill_cores(owner: np.ndarray, filled: np.ndarray, rows: np.ndarray, top: np.ndarray, sim: np.ndarray,
               capacity: int) -> None:
    """Give each of ``rows`` (unowned) the first of its candidate cells ``top`` with room, the most
    similar rows first; in place. Rows whose candidates are all full stay unowned (−1)."""
    k = filled.size
    for rank in range(top.shape[1]):
        pending = np.flatnonzero(owner[rows] < 0)
        free, want = rows[pending], top[pending, rank]
        order = np.lexsort((free, -sim[pending, rank], want))  # by cell, most similar first
        free, want = free[order], want[order]
        starts = np.searchsorted(want, np.arange(k))
        place = np.arange(free.size) - starts[want]  # position in the cell's queue
        ok = place < capacity - filled[want]
        owner[free[ok]] = want[ok]
        filled += np.bincount(want[ok], minlength=k)


def place_overflow(data: UnitRows, C: np.ndarray, owner: np.ndarray, filled: np.ndarray, capacity: int) -> None:
    """Rows whose nearest centroids were all full go to their most similar cell with room
    (crowded data, e.g. many near-copies); in place, a block of rows at a time. Ends: the cores
    hold CAPACITY × n rows in all, so a cell with room is always left."""
    left = np.flatnonzero(owner < 0)
    for start in range(0, left.size, _BLOCK_ROWS):
        rows = left[start:start + _BLOCK_ROWS]
        S = product(data.normalized(rows), C, transpose_b=True)
        while rows.size:
            if np.all(filled >= capacity):  # cannot happen (see above); never loop forever
                raise RuntimeError("internal error: every cell is full while rows are left")
            S[:, filled >= capacity] = -np.inf
            best = np.argmax(S, axis=1)[:, None]
            fill_cores(owner, filled, rows, best, np.take_along_axis(S, best, axis=1), capacity)
            waiting = owner[rows] < 0  # their best cell filled up meanwhile
            rows, S = rows[waiting], S[waiting]


def assign_cells(data: UnitRows, C: np.ndarray, top: np.ndarray, sim: np.ndarray, capacity: int,
                 halo: int) -> list[Cell]:
    """Core rows: each row to its nearest centroid with room (most similar rows first), else to
    the most similar cell with room: no core exceeds ``capacity``. Halo of j: rows of other
    cells with j among their nearest, up to ``halo``."""
    n, r = top.shape
    k = C.shape[0]
    owner = np.full(n, -1, dtype=np.int64)
    filled = np.zeros(k, dtype=np.int64)
    fill_cores(owner, filled, np.arange(n), top, sim, capacity)
    place_overflow(data, C, owner, filled, capacity)
    # halo candidates: (cell, rank, −similarity, row) with cell ≠ the row's own
    cand_cell = top.reshape(-1)
    cand_rank = np.repeat(np.arange(r)[None, :], n, axis=0).reshape(-1)
    cand_sim = sim.reshape(-1)
    cand_row = np.repeat(np.arange(n), r)
    keep = cand_cell != owner[cand_row]
    cand_cell, cand_rank, cand_sim, cand_row = cand_cell[keep], cand_rank[keep], cand_sim[keep], cand_row[keep]
    order = np.lexsort((cand_row, -cand_sim, cand_rank, cand_cell))
    cand_cell, cand_row = cand_cell[order], cand_row[order]
    bounds = np.searchsorted(cand_cell, np.arange(k + 1))
    core_order = np.argsort(owner, kind="stable")
    core_bounds = np.searchsorted(owner[core_order], np.arange(k + 1))
    cells = []
    for j in range(k):
        core = core_order[core_bounds[j]:core_bounds[j + 1]]
        if core.size:
            cells.append(Cell(core=np.sort(core), halo=cand_row[bounds[j]:min(bounds[j + 1], bounds[j] + halo)]))
    return cells


def plan_cells(data: UnitRows, entropy: int, core_rows: int, halo_rows: int) -> list[Cell]:
    """The cells of the run (seeded: the same cells for the same seed, here or on a cluster)."""
    n = data.shape[0]
    k = cell_count(n, core_rows)
    if k == 1:
        return [Cell(core=np.arange(n), halo=np.empty(0, dtype=np.int64))]
    rng = np.random.default_rng([entropy, 0x1A26E])
    C = spherical_kmeans(data, k, rng)
    top, sim = nearest_centroids(data, C, neighbour_count(core_rows, halo_rows))
    return assign_cells(data, C, top, sim, cell_capacity(n, core_rows), halo_rows)


# -- 2. the kernel and λ ---------------------------------------------------------------------------


def selection_cells(cells: list[Cell]) -> list[Cell]:
    """Cells evenly spread over the plan, at least SELECTION_CELLS of them and at least
    SELECTION_CORE_ROWS core rows in all (or every cell)."""
    mean_core = sum(c.core.size for c in cells) / len(cells)
    count = min(len(cells), max(SELECTION_CELLS, math.ceil(SELECTION_CORE_ROWS / mean_core)))
    picks = np.unique(np.linspace(0, len(cells) - 1, count).round().astype(int))
    return [cells[p] for p in picks]


def choose_in_cells(data: UnitRows, cells: list[Cell], codes: np.ndarray, K: int, kernels: list[Kernel],
                    grids: dict[int, list[float]], threads: int) -> tuple[Kernel, float, dict[str, dict[float, float]]]:
    """The (kernel, λ) of least PRESS of the core rows of selection_cells() cells (evenly spread
    over the plan), each cell fitted with its halo, as in the run. Each (kernel, λ) is one fit
    per cell that inverts only the core's block (an eigendecomposition of the whole cell, which
    serves every λ, costs about 20 such fits); the λ grid is walked by the hill climb of the
    exact mode. Ties: the shallower kernel, then the larger λ. Returns the choice and PRESS per
    kernel and λ (per row and class)."""
    chosen_cells = selection_cells(cells)
    table: dict[str, dict[float, float]] = {}
    best: tuple[float, int, float] | None = None
    chosen = (kernels[0], grids[kernels[0].depth][0])
    for kernel in kernels:
        def cells_press(lam: float, depth: int = kernel.depth) -> float:
            total, count = 0.0, 0
            for cell in chosen_cells:
                try:
                    fit = fit_rows(data, np.concatenate([cell.halo, cell.core]), codes, K, lam, threads,
                                   kernel_depth=depth, first_scored=cell.halo.size)
                except SingularGramError:
                    return math.inf
                total += float(np.sum((signed_targets(codes[cell.core], K) - fit.loo) ** 2))
                count += fit.loo.size
            return total / count

        grid = grids[kernel.depth]
        # the same widening (and RidgeEdgeWarning at the top edge) as the exact mode's choice
        _, values = widened_minimum(cells_press, grid, 0.0, kernel.name, widen=len(grid) > 1, warn=False, climb=True)
        values = {lam: v for lam, v in values.items() if math.isfinite(v)}
        if not values:
            continue
        table[kernel.name] = values
        for lam, value in values.items():
            key = (value, kernel.depth, -lam)
            if best is None or key < best:
                best, chosen = key, (kernel, lam)
    if best is None:
        raise ValueError("no λ of the grid makes the cells' Gram matrices positive definite; pass a larger ridge.")
    warn_top_edge(table[chosen[0].name], chosen[1], chosen[0].name, stacklevel=5)  # as the exact mode does
    return chosen[0], float(chosen[1]), table


# -- 3. the fits, as tasks --------------------------------------------------------------------------


@dataclass(frozen=True)
class CellTask:
    """One cell's fit: round 0 (``rounds`` = 0: LOO and CG of the core rows) or its cleaning
    rounds from the round-0 predictions ``start`` of core ∪ halo. Holds the labels of its own
    rows only, so a task is small on a cluster."""

    name: str
    rows: np.ndarray  # the core rows (what is reported, and checked against a checkpoint)
    halo: np.ndarray
    codes: np.ndarray  # the class codes of core ∪ halo
    n_classes: int
    ridge: float
    n_threads: int
    kernel_depth: int = 0
    cg_ridge: float = 0.0
    rounds: int = 0
    share: float = 0.0
    start: np.ndarray | None = None  # (|core| + |halo|, K)

    def expected_shapes(self, stored: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
        m, K = self.rows.size, self.n_classes
        if self.rounds == 0:
            return {"loo": (m, K), "cg": (m,), "cg_ridge": (1,)}
        counts = stored.get("aside_counts")
        aside = int(counts.sum()) if counts is not None and counts.shape == (self.rounds,) else -1
        return {"rounds": (self.rounds, m, K), "aside_counts": (self.rounds,), "aside": (aside,)}


def run_cell(data: UnitRows, task: CellTask) -> dict[str, np.ndarray]:
    """A cell's outcome as plain arrays, for its core rows (positions 0 … |core| − 1 of its fit)."""
    rows = np.concatenate([task.rows, task.halo])
    sub = data.take(rows)  # the cell's rows in X's own type: the only copy
    local = np.arange(rows.size)
    m = task.rows.size
    if task.rounds == 0:
        # halo first, core last: the native core inverts only the core's trailing block of the factor
        order = np.concatenate([local[m:], local[:m]])
        halo = task.halo.size

        def fit_core(ridge: float, depth: int) -> Any:
            return fit_rows(sub, order, task.codes, task.n_classes, ridge, task.n_threads, kernel_depth=depth,
                            first_scored=halo)

        fit = fit_core(task.ridge, task.kernel_depth)
        cg_ridge = task.cg_ridge
        if task.kernel_depth == 0 and cg_ridge == task.ridge:
            cg = fit.cg
        else:
            try:
                cg = fit_core(cg_ridge, 0).cg
            except SingularGramError:  # near-copies in the cell: the duplicate ridge instead
                cg_ridge = DEFAULT_RIDGE
                cg = fit_core(cg_ridge, 0).cg
        return {"rows": task.rows, "loo": fit.loo, "cg": cg, "cg_ridge": np.array([cg_ridge])}
    if task.start is None:
        raise ValueError("a cleaning task needs its round-0 predictions (start).")
    F, aside = clean_rounds(sub, local, task.codes, task.n_classes, task.ridge, task.n_threads, task.start,
                            task.rounds, task.share, kernel_depth=task.kernel_depth, reported=m)
    core_aside = [a[a < m] for a in aside]
    return {
        "rows": task.rows,
        "rounds": F[:, :m],
        "aside": np.concatenate(core_aside).astype(np.int64),
        "aside_counts": np.array([a.size for a in core_aside], dtype=np.int64),
    }


@dataclass(frozen=True)
class LargeRequest:
    """What diagnose() hands the large mode after its checks (docs/large-data.md)."""

    data: UnitRows
    codes: np.ndarray
    classes: np.ndarray
    kernel: Kernel | None  # None: "auto"
    grid: list[float]  # the λ candidates of the paper's kernel (one λ when ridge was given)
    fixed_ridge: bool
    rounds: int
    fraction: float | None  # set_aside share, or None for "auto"
    set_aside: Any  # as given (for params)
    entropy: int
    threads: int
    client: Any
    checkpoint: str | os.PathLike | None
    progress: bool
    cg_ridge: float  # 0, or the duplicate ridge
    cleaning_guard: float = 0.4  # diagnosis.CLEANING_GUARD: no cleaning round at this share of (K − 1)/K or more


@dataclass(frozen=True)
class LargeOutcome:
    margin_by_round: np.ndarray
    predictions: np.ndarray
    cg_score: np.ndarray
    cg_ridge: float
    ridge: float
    kernel: Kernel
    scores: dict[str, dict[float, float]]
    noise_rate: float
    set_aside: list[np.ndarray]
    params: dict[str, Any]


def run_large(req: LargeRequest, auto_share: Any) -> LargeOutcome:
    """Plan cells → choose (kernel, λ) → round-0 tasks → cleaning tasks → combine, in cell order."""
    data, codes, K = req.data, req.codes, req.classes.size
    n = codes.size
    core_rows, halo_rows = cell_shape(n)
    cells = plan_cells(data, req.entropy, core_rows, halo_rows)

    candidates = [Kernel(d) for d in CANDIDATE_DEPTHS] if req.kernel is None else [req.kernel]
    positive = [v for v in req.grid if v > 0] or [DEFAULT_RIDGE]
    grids = {k.depth: (list(req.grid) if req.fixed_ridge else
                       positive if k.depth == 0 else ridge_grid(k, positive)) for k in candidates}
    if len(candidates) == 1 and len(grids[candidates[0].depth]) == 1:
        kernel, lam = candidates[0], float(grids[candidates[0].depth][0])
        scores: dict[str, dict[float, float]] = {}
    else:
        kernel, lam, scores = choose_in_cells(data, cells, codes, K, candidates, grids, req.threads)
    # The CG-score of the paper's kernel at the predictions' λ when that is the kernel fitted:
    # one factorization per cell less (recorded as cg_ridge).
    cg_ridge = max(lam, req.cg_ridge) if kernel.depth == 0 else req.cg_ridge

    params: dict[str, Any] = {
        "mode": "large", "kernel": kernel.name, "rounds": req.rounds, "set_aside": req.set_aside,
        "chunk_size": None, "repeats": 1, "seed": req.entropy, "ridge_grid": sorted(scores.get(kernel.name, grids[kernel.depth])),
        "cells": len(cells), "cell_rows": core_rows, "halo_rows": halo_rows,
        "largest_fit": max(c.core.size + c.halo.size for c in cells),
    }
    store = None
    if req.checkpoint is not None:
        fields = {"run": "diagnose", **{k: v for k, v in params.items() if k not in ("seed", "ridge_grid")},
                  "ridge": lam, "cg_ridge": cg_ridge}
        store = TaskArrays(Checkpoint(req.checkpoint, fingerprint(data, codes, req.classes, fields, req.entropy, False)))

    tag = f"-depth{kernel.depth}" if kernel.depth else ""
    total = len(cells) * (1 + min(req.rounds, 1))
    bar = StagedBar(progress_bar(total, req.progress, description="diagnose (large)", unit="cell"), total)
    try:
        bar.stage(f"round 0 in {len(cells)} cells at λ = {lam:g}", len(cells), total - len(cells))
        first = [CellTask(f"cell{j}-ridge{lam!r}{tag}", c.core, c.halo, codes[c.fit_rows], K, lam, req.threads,
                          kernel.depth, cg_ridge) for j, c in enumerate(cells)]
        outcomes = run_tasks(data, first, run_cell, store=store, client=req.client, bar=bar)
        F = np.zeros((req.rounds + 1, n, K))
        cg = np.zeros(n)
        for o in outcomes:
            F[0, o["rows"]] = o["loo"]
            cg[o["rows"]] = o["cg"]
        used_cg = float(max(float(o["cg_ridge"][0]) for o in outcomes))
        if used_cg != cg_ridge:
            warnings.warn(f"near-copies in some cells make λ = {cg_ridge:g} singular; cg_score uses ridge "
                          f"{DEFAULT_RIDGE:g} there.", DuplicatesWarning, stacklevel=3)
        suggested = margins(F[0], codes)[1]
        noise = float(np.mean(suggested != codes))
        share = req.fraction if req.fraction is not None else auto_share(noise)
        aside: list[np.ndarray] = []
        if req.rounds and cleaning_guarded(noise, K, req.cleaning_guard):  # as the exact mode: round 0 kept
            F[1:] = F[0]
            aside = [np.zeros(0, dtype=np.int64) for _ in range(req.rounds)]
        elif req.rounds:
            bar.stage(f"cleaning round{'s' if req.rounds > 1 else ''} in {len(cells)} cells", len(cells))
            again = [CellTask(f"cell{j}-clean-ridge{lam!r}{tag}-share{share!r}", c.core, c.halo, codes[c.fit_rows], K,
                              lam, req.threads, kernel.depth, cg_ridge, rounds=req.rounds, share=share,
                              start=F[0, c.fit_rows]) for j, c in enumerate(cells)]
            per_round: list[list[np.ndarray]] = [[] for _ in range(req.rounds)]
            for task, o in zip(again, run_tasks(data, again, run_cell, store=store, client=req.client, bar=bar)):
                F[1:, task.rows] = o["rounds"]
                bounds = np.concatenate([[0], np.cumsum(o["aside_counts"])])
                for i in range(req.rounds):
                    per_round[i].append(task.rows[o["aside"][bounds[i]:bounds[i + 1]]])
            aside = [np.sort(np.concatenate(a)) for a in per_round]
    finally:
        bar.close()
    margin_by_round = np.stack([margins(F_r, codes)[0] for F_r in F])
    return LargeOutcome(margin_by_round, F[-1], cg, used_cg, lam, kernel, scores, noise, aside, params)


def diagnose_large(Xa: Any, codes: np.ndarray, classes: np.ndarray, label_values: np.ndarray, index: Any, *,
                   kernel: Kernel | None, grid: list[float], fixed_ridge: bool, rounds: int, fraction: float | None,
                   set_aside: Any, seed: int | None, threads: int, client: Any,
                   checkpoint: str | os.PathLike | None, memory_limit: Any, progress: bool, predictions: bool,
                   auto_share: Any, cleaning_guard: float) -> Any:
    """diagnose(..., mode="large") after diagnose()'s checks of the input: refuse what cannot fit,
    prepare the rows, run the cells, and put the outcome in a Diagnosis."""
    from ._memory import check_memory, diagnosis_plan_bytes
    from ._prepare import prepare_features
    from ._validate import conversion_bytes, kernel_dtype, to_kernel_rows
    from .checkpoint import run_entropy
    from .diagnosis_result import diagnosis_from_fits

    n, d = int(Xa.shape[0]), int(np.prod(Xa.shape[1:], dtype=np.int64))
    K = classes.size
    # Beside X: the predictions of every round, the cells' plan and one cell's fit at a time per task.
    plan = diagnosis_plan_bytes(n, K, 1, rounds, 1) + cells_plan_bytes(n)
    check_memory(n, d, largest_fit_rows(n), threads, memory_limit, client, k=K, copy_bytes=conversion_bytes(Xa),
                 itemsize=kernel_dtype(Xa.dtype).itemsize, plan=plan)
    entropy = 0 if seed is None and checkpoint is None else run_entropy(seed, checkpoint)
    data, groups = prepare_features(to_kernel_rows(Xa), threads)
    grid, cg_ridge = diagnosis_ridges(groups, grid, stacklevel=4)  # the one duplicates policy (_duplicates)
    request = LargeRequest(data=data, codes=codes, classes=classes, kernel=kernel, grid=list(grid),
                           fixed_ridge=fixed_ridge, rounds=rounds, fraction=fraction, set_aside=set_aside,
                           entropy=entropy, threads=threads, client=client, checkpoint=checkpoint,
                           progress=progress, cg_ridge=cg_ridge, cleaning_guard=cleaning_guard)
    out = run_large(request, auto_share)
    warn_noise_near_random(out.noise_rate, K, stacklevel=4)  # labels unrelated to the features, as in exact mode
    return diagnosis_from_fits(
        out.margin_by_round, out.predictions, codes, classes, predictions,
        cg_score=out.cg_score,
        ridge=out.ridge,
        estimated_noise_rate=out.noise_rate,
        labels=label_values,
        set_aside=out.set_aside,
        ridge_scores=out.scores.get(out.kernel.name, {}),
        cg_ridge=out.cg_ridge,
        kernel=out.kernel.name,
        kernel_scores=out.scores if kernel is None else {},
        params=out.params,
        index=index,
        mode="large",
    )
