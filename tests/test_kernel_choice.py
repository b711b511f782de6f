"""The kernel choice (_kernel_choice.py): PRESS and the leave-one-out predictions from one
eigendecomposition against brute-force refits, the widened grid, the stratified subsample, and
a choice that is reproducible and the same for any thread count."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cgscore_native import _core
from cgscore_native._kernel_choice import (
    RidgeEdgeWarning,
    best_ridge,
    choose_kernel,
    loo_residual,
    press,
    ridge_grid,
    selection_rows,
    spectrum,
)
from cgscore_native._kernels import Kernel
from cgscore_native._loo import fit_rows, signed_targets
from cgscore_native._prepare import prepare_features


def clustered(n: int = 120, seed: int = 0, flip: float = 0.1):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 8)) * 2.0
    which = rng.integers(0, 6, size=n)
    X = centres[which] + rng.normal(size=(n, 8))
    codes = which % 3
    flipped = rng.random(n) < flip
    codes[flipped] = (codes[flipped] + 1) % 3
    return X, codes


@pytest.mark.parametrize("depth", [0, 2, 8])
@pytest.mark.parametrize("ridge", [0.01, 0.3, 5.0])
def test_press_and_loo_match_brute_force_refits(depth, ridge):
    X, codes = clustered(60)
    data, _ = prepare_features(X, 1)
    rows = np.arange(60)
    sp = spectrum(data, rows, codes, 3, Kernel(depth))
    R, A = loo_residual(sp, ridge)
    K = _core.ntk_gram(data.X, row_scale=data.scale, kernel_depth=depth)
    Y = signed_targets(codes, 3)
    loo = np.empty_like(Y)
    for i in range(60):  # leave row i out, refit, predict it
        keep = np.delete(rows, i)
        coef = np.linalg.solve(K[np.ix_(keep, keep)] + ridge * np.eye(59), Y[keep])
        loo[i] = K[i, keep] @ coef
    scale = np.abs(Y - loo).max()
    # Measured: 1e-13 relative at λ = 0.01 (cond(K + λI) ≈ 1e4), 1e-15 at λ = 5.
    np.testing.assert_allclose(Y - R, loo, rtol=0, atol=1e-11 * scale)
    np.testing.assert_allclose(A, np.linalg.solve(K + ridge * np.eye(60), Y), rtol=0, atol=1e-10)
    assert press(sp, ridge) == pytest.approx(np.mean((Y - loo) ** 2), rel=1e-10)
    # The native factorization's LOO agrees too.
    fit = fit_rows(data, rows, codes, 3, ridge, 1, kernel_depth=depth)
    np.testing.assert_allclose(fit.loo, Y - R, rtol=0, atol=1e-11 * scale)


def test_edge_of_the_grid_widens_and_then_warns():
    X, codes = clustered(80, flip=0.6)  # mostly noise: PRESS falls as λ grows
    data, _ = prepare_features(X, 1)
    sp = spectrum(data, np.arange(80), codes, 3, Kernel(0))
    grid = [0.01, 0.03, 0.1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lam, values = best_ridge(sp, grid)
    assert max(values) > max(grid)  # widened upwards
    assert lam == min(values, key=values.get)
    if lam == max(values):
        assert any(issubclass(w.category, RidgeEdgeWarning) for w in caught)
    # Without widening the edge is where it stops.
    assert best_ridge(sp, grid, widen=False)[0] == 0.1


def test_ridge_grid_follows_the_kernel_scale():
    assert ridge_grid(Kernel(0))[:2] == [0.003, 0.01]
    np.testing.assert_allclose(ridge_grid(Kernel(4)), np.array(ridge_grid(Kernel(0))) * 10)


def test_selection_rows_are_stratified_and_fixed():
    codes = np.repeat([0, 1, 2], [3000, 900, 100])
    rows = selection_rows(codes, 3, limit=500)
    counts = np.bincount(codes[rows], minlength=3)
    assert abs(rows.size - 500) <= 2 and np.all(np.diff(rows) > 0)
    assert list(counts) == [375, 112, 12] or abs(counts - [375, 112.5, 12.5]).max() <= 1
    np.testing.assert_array_equal(rows, selection_rows(codes, 3, limit=500))
    np.testing.assert_array_equal(selection_rows(codes[:400], 3, limit=500), np.arange(400))


def test_choice_is_reproducible_and_the_same_for_any_thread_count():
    X, codes = clustered(700, seed=4)
    data, _ = prepare_features(X, 1)
    one = choose_kernel(data, codes, 3, n_threads=1, limit=500)
    two = choose_kernel(data, codes, 3, n_threads=2, limit=500)
    again = choose_kernel(data, codes, 3, n_threads=2, limit=500)
    assert one.rows == 500
    assert (one.kernel, one.ridge) == (two.kernel, two.ridge) == (again.kernel, again.ridge)
    assert one.press == two.press == again.press  # bit for bit
    assert set(one.press) == {"paper", "relu-ntk-1", "relu-ntk-2", "relu-ntk-4", "relu-ntk-8"}
    best = min((v, k, lam) for k, t in one.press.items() for lam, v in t.items())
    assert best[0] == one.press[one.kernel.name][one.ridge]


def test_a_local_kernel_wins_on_classes_made_of_many_small_clusters():
    # Each class a union of 8 tight clusters in 10 dimensions: the paper's kernel smooths over them.
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(24, 10))
    which = rng.integers(0, 24, size=600)
    X = centres[which] + 0.15 * rng.normal(size=(600, 10))
    data, _ = prepare_features(X, 1)
    choice = choose_kernel(data, which % 3, 3)
    assert choice.kernel.depth > 0
    assert min(choice.press[choice.kernel.name].values()) < min(choice.press["paper"].values())
