"""mode="large" (docs/large-data.md): k-means cells with a halo, one exact fit per cell.

The leave-one-out identity of each cell against brute-force refits, the cells' plan, the mode
against the whole-data diagnosis on data with local structure, determinism (threads, Dask,
checkpoint resume) and the mode= argument."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import _large, _memory
from cgscore_native._kernel_choice import RidgeEdgeWarning
from cgscore_native._kernels import cross_gram
from cgscore_native._loo import signed_targets
from cgscore_native._prepare import prepare_features
from cgscore_native.experiments.label_noise import flip_labels
from cgscore_native.experiments.metrics import auroc


def clustered(n: int, classes: int = 4, clusters: int = 5, d: int = 12, seed: int = 0, spread: float = 0.9):
    """Each class a union of small Gaussian clusters (local structure), 20 % uniform flips.
    With the default spread round 0 estimates ~36 % noise, past the cleaning-round guard
    (0.3 for 4 classes); tests of the cleaning round use spread 0.5 (~21 %)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes * clusters, d))
    which = rng.integers(0, classes * clusters, size=n)
    X = centres[which] + spread * rng.standard_normal((n, d))
    noisy, flipped = flip_labels(which // clusters, 0.2, seed=seed, n_classes=classes)
    return X, noisy, flipped


@pytest.fixture
def small_cells(monkeypatch):
    monkeypatch.setattr(_large, "CELL_ROWS", 60)
    monkeypatch.setattr(_large, "HALO_ROWS", 40)


def test_cells_partition_the_rows_and_halos_come_from_other_cells(small_cells):
    X, y, _ = clustered(400)
    data, _ = prepare_features(X)
    cells = _large.plan_cells(data, entropy=5, core_rows=60, halo_rows=40)
    cores = np.concatenate([c.core for c in cells])
    assert np.array_equal(np.sort(cores), np.arange(400))  # every row reported exactly once
    for c in cells:
        assert c.halo.size <= 40 and np.intersect1d(c.halo, c.core).size == 0
        assert np.unique(c.halo).size == c.halo.size
    assert max(c.core.size for c in cells) <= int(np.ceil(_large.CAPACITY * 400 / len(cells)))
    again = _large.plan_cells(data, entropy=5, core_rows=60, halo_rows=40)
    assert all(np.array_equal(a.core, b.core) and np.array_equal(a.halo, b.halo) for a, b in zip(cells, again))


def test_crowded_data_keeps_every_fit_within_the_planners_bound(small_cells):
    # 90 % near-copies of one row: their nearest centroids fill up, and the rest must go to the
    # most similar cell with room, not pile into one core (an 11 617-row fit against a bound of
    # 2101 before, at n = 20 000: the memory planner would have been wrong by 30×).
    rng = np.random.default_rng(2)
    n = 1200
    X = rng.normal(size=(n, 8))
    X[: n * 9 // 10] = X[0] + 1e-9 * rng.normal(size=(n * 9 // 10, 8))
    data, _ = prepare_features(X)
    cells = _large.plan_cells(data, entropy=0, core_rows=60, halo_rows=40)
    assert np.array_equal(np.sort(np.concatenate([c.core for c in cells])), np.arange(n))
    capacity = int(np.ceil(_large.CAPACITY * n / len(cells)))
    assert len(cells) == 20 and max(c.core.size for c in cells) == capacity
    assert max(c.core.size + c.halo.size for c in cells) <= _large.largest_fit_rows(n) == capacity + 40
    # the spread-out rows (the last 10 %) are cores near their own centroid, not displaced
    lonely = np.arange(n * 9 // 10, n)
    owners = {int(r): j for j, c in enumerate(cells) for r in c.core}
    assert len({owners[int(r)] for r in lonely}) > 1


@pytest.mark.parametrize("depth", [0, 4])
def test_each_core_row_gets_the_exact_loo_prediction_of_its_cell(small_cells, depth):
    """Against brute force: refit kernel ridge on core ∪ halo without row i, predict x_i."""
    X, y, _ = clustered(240, seed=1)
    data, _ = prepare_features(X)
    cells = _large.plan_cells(data, entropy=0, core_rows=60, halo_rows=40)
    cell = cells[1]
    S = cell.fit_rows
    lam, K = 0.3, 4
    task = _large.CellTask("t", cell.core, cell.halo, y[S], K, lam, 1, kernel_depth=depth, cg_ridge=lam)
    out = _large.run_cell(data, task)
    U = data.normalized(S)
    G = cross_gram(U, U, depth)
    Y = signed_targets(y[S], K)
    worst = 0.0
    for i in range(cell.core.size):
        keep = np.delete(np.arange(S.size), i)
        coef = np.linalg.solve(G[np.ix_(keep, keep)] + lam * np.eye(keep.size), Y[keep])
        worst = max(worst, float(np.max(np.abs(G[i, keep] @ coef - out["loo"][i]))))
    assert worst < 1e-9  # measured about 1e-13


def test_large_mode_is_close_to_the_whole_data_on_local_structure(monkeypatch):
    monkeypatch.setattr(_large, "CELL_ROWS", 300)
    monkeypatch.setattr(_large, "HALO_ROWS", 300)
    X, y, flipped = clustered(1500, seed=2)
    exact = cg.diagnose(X, y, mode="exact", ridge=0.3, rounds=0)
    large = cg.diagnose(X, y, mode="large", ridge=0.3, rounds=0, seed=0)
    assert exact.mode == "exact" and large.mode == "large" and large.params["cells"] == 5
    gap = auroc(exact.suspicion, flipped) - auroc(large.suspicion, flipped)
    assert gap < 0.01  # measured −0.004 (exact 0.969, large 0.973); seed 3: +0.002
    assert np.mean(exact.suggested_label == large.suggested_label) > 0.88  # measured 0.918


def test_large_mode_chooses_lambda_and_runs_cleaning_rounds(small_cells):
    X, y, flipped = clustered(500, seed=3, spread=0.5)
    d = cg.diagnose(X, y, mode="large", seed=0)
    assert d.mode == "large" and d.ridge in d.ridge_scores and len(d.ridge_scores) > 2
    assert d.margin_by_round.shape == (2, 500) and len(d.set_aside) == 1 and d.set_aside[0].size > 0
    assert np.all(np.isfinite(d.suspicion)) and np.all(np.isfinite(d.cg_score))
    assert auroc(d.suspicion, flipped) > 0.8
    frame = d.to_frame()
    assert frame.attrs["mode"] == "large" and frame.attrs["cells"] == d.params["cells"]


def test_bit_identical_across_threads_and_seeded(small_cells):
    X, y, _ = clustered(400, seed=4)
    a = cg.diagnose(X, y, mode="large", seed=7, n_threads=1)
    b = cg.diagnose(X, y, mode="large", seed=7, n_threads=2)
    assert np.array_equal(a.suspicion, b.suspicion) and np.array_equal(a.cg_score, b.cg_score)
    c = cg.diagnose(X, y, mode="large", seed=8, n_threads=2)
    assert not np.array_equal(a.suspicion, c.suspicion)  # the seed picks the cells


def test_checkpoint_resume_is_identical(small_cells, tmp_path):
    X, y, _ = clustered(400, seed=5, spread=0.5)
    path = tmp_path / "ckpt"
    full = cg.diagnose(X, y, mode="large", seed=1, checkpoint=path)
    files = sorted(path.glob("cell*.npz"))
    assert len(files) >= 10
    for f in files[::2]:
        f.unlink()
    again = cg.diagnose(X, y, mode="large", seed=1, checkpoint=path)
    assert np.array_equal(full.suspicion, again.suspicion) and np.array_equal(full.cg_score, again.cg_score)


def test_dask_is_bit_identical_to_local(small_cells):
    distributed = pytest.importorskip("distributed")
    X, y, _ = clustered(300, seed=6)
    local = cg.diagnose(X, y, mode="large", seed=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        remote = cg.diagnose(X, y, mode="large", seed=2, client=client)
    assert np.array_equal(local.suspicion, remote.suspicion) and np.array_equal(local.cg_score, remote.cg_score)


def test_the_planner_picks_large_past_the_exact_limit(monkeypatch, small_cells):
    X, y, _ = clustered(300, seed=7)
    assert cg.diagnose(X, y, ridge=0.3, rounds=0).mode == "exact"
    # the paper's kernel (the default) has its own, lower limit; the deeper kernels the general one
    monkeypatch.setattr(_memory, "PAPER_EXACT_MAX_ROWS", 200)
    assert cg.diagnose(X, y, ridge=0.3, rounds=0).mode == "large"
    assert cg.diagnose(X, y, ridge=0.3, rounds=0, kernel="relu-ntk-2").mode == "exact"
    monkeypatch.setattr(_memory, "EXACT_MAX_ROWS", 200)
    assert cg.diagnose(X, y, ridge=0.3, rounds=0, kernel="relu-ntk-2").mode == "large"
    assert cg.diagnose(X, y, ridge=0.3, rounds=0, mode="exact").mode == "exact"
    assert cg.diagnose(X, y, ridge=0.3, rounds=0, chunk_size=100, seed=0).mode == "chunked"


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "big"}, r"mode must be 'auto', 'exact' or 'large'; got 'big'\."),
    ({"mode": 3}, r"mode must be 'auto', 'exact' or 'large'; got 3\."),
    ({"mode": "large", "chunk_size": 50}, r"drop chunk_size= or use mode='exact'"),
])
def test_bad_mode_is_refused_in_one_line(kwargs, message):
    X, y, _ = clustered(100)
    with pytest.raises(ValueError, match=message) as info:
        cg.diagnose(X, y, **kwargs)
    assert "\n" not in str(info.value)


def test_the_cli_runs_the_large_mode(tmp_path):
    pytest.importorskip("pandas")
    from _cli_support import run_cli

    X, y, _ = clustered(300, seed=8)
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=y)
    out = run_cli("diagnose", path, "-o", tmp_path / "d.csv", "--mode", "large", "--ridge", "0.3", "--seed", "3")
    assert out.returncode == 0, out.stderr
    cells = max(1, round(300 / _large.cell_shape(300)[0]))
    assert f"large mode, {cells} cells, seed 3" in out.stdout
    api = cg.diagnose(X, y, mode="large", ridge=0.3, seed=3)
    import pandas as pd

    assert np.array_equal(pd.read_csv(tmp_path / "d.csv")["suspicion"].to_numpy(), api.suspicion)
    bad = run_cli("diagnose", path, "-o", tmp_path / "e.csv", "--mode", "huge")
    assert bad.returncode == 2 and "invalid choice: 'huge'" in bad.stderr


@pytest.mark.filterwarnings("ignore::cgscore_native.LabelsWarning")
def test_auto_falls_back_to_random_chunks_when_the_cells_do_not_fit_the_budget():
    # 6000 rows: the whole data's 6000×6000 buffer needs about 280 MiB, a cell's fit at most
    # largest_fit_rows (2200 rows, about 36 MiB with the plan). At 40 MiB the cells fit (large);
    # at 30 MiB only the exact mode's smaller random chunks do, which auto must pick instead of
    # refusing.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6000, 16)), np.arange(6000) % 10
    assert cg.diagnose(X, y, memory_limit="40MiB", seed=0, rounds=0, ridge=0.3).mode == "large"
    small = cg.diagnose(X, y, memory_limit="30MiB", seed=0, rounds=0, ridge=0.3)
    assert small.mode == "chunked" and small.params["chunk_size"] < _large.largest_fit_rows(6000)


def test_the_large_mode_warns_when_the_labels_look_unrelated_to_the_features():
    # Shuffled labels: the estimated noise rate is near 1 − 1/K, as the exact mode warns too.
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(2400, 8)), rng.integers(0, 5, size=2400)
    with pytest.warns(cg.LabelsWarning, match="close to 80.0%"):
        d = cg.diagnose(X, y, mode="large", seed=0, rounds=0, ridge=0.3)
    assert d.mode == "large"


def test_the_large_mode_widens_lambda_beyond_a_winning_edge(small_cells):
    # A grid whose best λ is its top (the leave-one-out error still falling) is widened, as the
    # exact mode's choice is: the λ chosen is then beyond the grid given, and no edge warning.
    X, y, _ = clustered(500, seed=3)
    d = cg.diagnose(X, y, mode="large", seed=0, rounds=0, ridge="auto", ridge_grid=[1e-3, 3e-3, 1e-2])
    tried = sorted(d.ridge_scores)
    assert tried[-1] > 1e-2 and d.ridge > 1e-2  # widened past the top given
    assert d.params["ridge_grid"] == tried
    assert d.ridge == min(d.ridge_scores, key=d.ridge_scores.get)


def test_the_large_mode_warns_when_lambda_stays_at_the_top_edge(small_cells):
    # Labels unrelated to the features: PRESS falls past the widened grid (three decades above
    # 1e-3; its least is near λ = 10 here); the warning points at the caller's line.
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(500, 6)), rng.integers(0, 2, size=500)
    with pytest.warns(RidgeEdgeWarning, match="top of the grid") as caught:
        d = cg.diagnose(X, y, mode="large", seed=0, rounds=0, ridge="auto", ridge_grid=[1e-4, 1e-3])
    assert d.ridge == max(d.ridge_scores) and d.ridge > 0.3
    assert any(w.filename == __file__ for w in caught)


def test_the_large_mode_keeps_round_0_under_heavy_noise_as_the_exact_mode_does(small_cells):
    # Round 0 estimates ~36 % noise here, past CLEANING_GUARD·(K − 1)/K = 0.3 for 4 classes: the
    # cleaning round (measured to rank worse there) is skipped in both modes.
    X, y, _ = clustered(500, seed=3)
    d = cg.diagnose(X, y, mode="large", seed=0, ridge=0.3)
    assert d.estimated_noise_rate >= cg.diagnosis.CLEANING_GUARD * 3 / 4
    np.testing.assert_array_equal(d.margin_by_round[1], d.margin_by_round[0])
    assert len(d.set_aside) == 1 and d.set_aside[0].size == 0
    exact = cg.diagnose(X, y, mode="exact", ridge=0.3)
    np.testing.assert_array_equal(exact.margin_by_round[1], exact.margin_by_round[0])


def _brute_loo(G: np.ndarray, Y: np.ndarray, fit: np.ndarray, lam: float, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``: kernel ridge on ``fit`` without that row, evaluated at it."""
    out = np.empty((rows.size, Y.shape[1]))
    for t, i in enumerate(rows):
        keep = fit[fit != i]
        coef = np.linalg.solve(G[np.ix_(keep, keep)] + lam * np.eye(keep.size), Y[keep])
        out[t] = G[i, keep] @ coef
    return out


def test_a_cleaning_task_gives_the_exact_predictions_of_its_core_rows(small_cells):
    """Against brute force: the rows of core ∪ halo with the highest round-0 margins set aside,
    kept core rows leave-one-out on the kept rows, set-aside core rows predicted from them (the
    core's block alone is scored: halo rows first in the factor)."""
    X, y, _ = clustered(240, seed=1, spread=0.5)
    data, _ = prepare_features(X)
    cell = _large.plan_cells(data, entropy=0, core_rows=60, halo_rows=40)[1]
    S, m, lam, K, share = cell.fit_rows, cell.core.size, 0.3, 4, 0.2
    G = cross_gram(data.normalized(S), data.normalized(S), 0)
    Y = signed_targets(y[S], K)
    start = _brute_loo(G, Y, np.arange(S.size), lam, np.arange(S.size))
    task = _large.CellTask("t", cell.core, cell.halo, y[S], K, lam, 1, rounds=1, share=share, start=start)
    out = _large.run_cell(data, task)
    margin = np.max(np.where(Y > 0, -np.inf, start), axis=1) - start[Y > 0]
    aside = np.sort(np.argsort(-margin, kind="stable")[: int(round(share * S.size))])
    kept = np.setdiff1d(np.arange(S.size), aside)
    expected = np.empty((m, K))
    kept_core, aside_core = kept[kept < m], aside[aside < m]
    expected[kept_core] = _brute_loo(G, Y, kept, lam, kept_core)
    coef = np.linalg.solve(G[np.ix_(kept, kept)] + lam * np.eye(kept.size), Y[kept])
    expected[aside_core] = G[np.ix_(aside_core, kept)] @ coef
    assert aside_core.size > 0 and np.array_equal(out["aside"], aside_core)
    assert np.max(np.abs(out["rounds"][0] - expected)) < 1e-9  # measured about 1e-13


def test_the_cells_choice_is_the_least_press_of_the_core_rows(small_cells, monkeypatch):
    """PRESS of the cells against brute-force LOO of their core rows; the climb visits fewer λ
    than the grid and lands on the grid's least PRESS."""
    monkeypatch.setattr(_large, "SELECTION_CORE_ROWS", 0)  # SELECTION_CELLS cells, whatever their size
    X, y, _ = clustered(360, seed=5, spread=0.5)
    data, _ = prepare_features(X)
    cells = _large.plan_cells(data, entropy=0, core_rows=60, halo_rows=40)
    K, grid = 4, [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0]
    kernel, lam, table = _large.choose_in_cells(data, cells, y, K, [cg._kernels.Kernel(0)], {0: grid}, 1)
    picks = [cells[p] for p in np.unique(np.linspace(0, len(cells) - 1, _large.SELECTION_CELLS).round().astype(int))]

    def brute_press(ridge: float) -> float:
        errors = []
        for c in picks:
            S = c.fit_rows
            G = cross_gram(data.normalized(S), data.normalized(S), 0)
            Y = signed_targets(y[S], K)
            core = np.arange(c.core.size)
            errors.append((Y[core] - _brute_loo(G, Y, np.arange(S.size), ridge, core)).ravel())
        return float(np.mean(np.concatenate(errors) ** 2))

    visited = table["paper"]
    assert 2 < len(visited) < len(grid)
    for ridge in (min(visited), lam):
        assert visited[ridge] == pytest.approx(brute_press(ridge), rel=1e-10)
    full = {r: brute_press(r) for r in grid}
    assert kernel.depth == 0 and lam == min(full, key=full.get)


def test_small_data_get_cells_in_proportion():
    # fits of LOCAL_FIT_SHARE of the rows in the core:halo ratio of the full cells, up to them
    full = _large.CELL_ROWS + _large.HALO_ROWS
    assert _large.cell_shape(20_000) == (_large.CELL_ROWS, _large.HALO_ROWS)
    core, halo = _large.cell_shape(2000)
    assert core + halo == round(_large.LOCAL_FIT_SHARE * 2000) and core * full == _large.CELL_ROWS * (core + halo)
    assert _large.cell_shape(50) == (50, 0)  # tiny data: one cell, the whole data
    assert _large.largest_fit_rows(50) == 50 and _large.largest_fit_rows(2000) < 2000


def test_the_selection_takes_enough_cells_for_its_core_rows():
    """At least SELECTION_CELLS cells and SELECTION_CORE_ROWS core rows, evenly spread, or every cell."""
    def cells_of(sizes):
        return [_large.Cell(core=np.arange(s), halo=np.empty(0, dtype=np.int64)) for s in sizes]

    big = _large.selection_cells(cells_of([5000] * 10))
    assert len(big) == _large.SELECTION_CELLS
    small = _large.selection_cells(cells_of([200] * 100))
    assert len(small) == math.ceil(_large.SELECTION_CORE_ROWS / 200) and sum(c.core.size for c in small) >= 3000
    assert len(_large.selection_cells(cells_of([200] * 4))) == 4
