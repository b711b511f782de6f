"""The kernel against explicit leave-one-out solves (docs/math.md, "The score of one binary problem"), d < n and d > n."""

from __future__ import annotations

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import _core
from cgscore_native._blas import ensure_blas
from conftest import gaussian_problem
from reference import brute_force_binary, brute_force_subterms, ntk_gram


def assert_scores_close(actual: np.ndarray, expected: np.ndarray) -> None:
    # Relative 1e-10; scores a trillion times below the largest are limited by the
    # conditioning of α_i ≈ 0 itself, so they get an absolute floor that small.
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-14 * np.abs(expected).max())


SHAPES = [(2, 3), (7, 2), (17, 5), (40, 3), (60, 10), (60, 30), (45, 45), (50, 200), (30, 500)]


@pytest.mark.parametrize("n,d", SHAPES)
@pytest.mark.parametrize("positive_share", [0.5, 0.2, 0.9])
def test_matches_brute_force_leave_one_out(rng, n, d, positive_share):
    X, y = gaussian_problem(rng, n, d, positive_share)
    assert_scores_close(cg.cg_score_binary(X, y, n_threads=2), brute_force_binary(X, y))


def test_single_instance_is_its_whole_complexity():
    # n = 1: C(y) = y²/H_11 = 2 and the empty problem has complexity 0.
    np.testing.assert_allclose(cg.cg_score_binary([[3.0, 4.0]], [1]), [2.0], rtol=1e-15)


def test_boolean_labels_equal_signed_labels(rng):
    X, y = gaussian_problem(rng, 25, 8)
    np.testing.assert_array_equal(cg.cg_score_binary(X, y > 0), cg.cg_score_binary(X, y))


def test_several_label_columns_share_one_factorization(rng):
    X, _ = gaussian_problem(rng, 40, 12)
    Y = np.where(rng.random((40, 3)) < 0.5, 1.0, -1.0)
    together = cg.cg_score_binary(X, Y)
    assert together.shape == (40, 3)
    for k in range(3):
        np.testing.assert_allclose(together[:, k], cg.cg_score_binary(X, Y[:, k]), rtol=1e-13)


@pytest.mark.parametrize("n,d", [(30, 6), (50, 80)])
def test_subterms_match_explicit_inverse(rng, n, d):
    X, y = gaussian_problem(rng, n, d)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    out = _core.score_binary(Xn, np.asfortranarray(y[:, None]), subterms=True)
    expected = brute_force_subterms(X, y)
    for name in ("a2", "b2", "ab"):
        np.testing.assert_allclose(out[name][:, 0], expected[name], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["inverse_diagonal"], np.diag(np.linalg.inv(ntk_gram(X))), rtol=1e-12)


def test_ntk_gram_matches_formula(rng):
    X = rng.normal(size=(300, 7))  # more than one 256-row tile
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    H = _core.ntk_gram(Xn, 0.0, 2)
    np.testing.assert_allclose(H, ntk_gram(X), rtol=1e-14, atol=1e-15)
    assert np.all(np.diag(H) == 0.5)


def test_pivot_report_and_condition_estimate(rng):
    X, y = gaussian_problem(rng, 50, 20)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    out = _core.score_binary(Xn, np.asfortranarray(y[:, None]))
    H = ntk_gram(X)
    L = np.linalg.cholesky(H)
    pivots = np.diag(L) ** 2
    assert out["min_pivot"] == pytest.approx(pivots.min(), rel=1e-10)
    assert out["min_pivot_index"] == int(np.argmin(pivots))
    cond1 = np.linalg.cond(H, 1)
    assert cond1 / 3 <= out["condition_estimate"] <= cond1 * (1 + 1e-9)


@pytest.mark.parametrize("first", [0, 1, 17, 39, 40])
def test_scoring_only_the_last_rows_matches_brute_force(rng, first):
    """first_scored = s: only rows s..n−1 are scored, from the inverse of L's trailing block."""
    X, y = gaussian_problem(rng, 40, 60)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    Y = np.asfortranarray(y[:, None])
    backends = ["eigen"] + (["blas"] if ensure_blas() else [])
    for backend in backends:
        full = _core.score_binary(Xn, Y, subterms=True, backend=backend)
        part = _core.score_binary(Xn, Y, subterms=True, first_scored=first, backend=backend)
        assert part["scores"].shape == (40 - first, 1)
        if first < 40:
            np.testing.assert_allclose(part["scores"][:, 0], brute_force_binary(X, y)[first:], rtol=1e-10)
        for key in ("scores", "inverse_diagonal", "a2", "b2", "ab"):
            np.testing.assert_allclose(part[key], full[key][first:], rtol=1e-11, atol=1e-15)
        assert part["condition_estimate"] == full["condition_estimate"]


@pytest.mark.parametrize("first", [-1, 41])
def test_first_scored_outside_the_rows_is_refused(rng, first):
    X, y = gaussian_problem(rng, 40, 6)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    with pytest.raises(ValueError, match="first_scored must be between 0 and the number of rows"):
        _core.score_binary(Xn, np.asfortranarray(y[:, None]), first_scored=first)


@pytest.mark.parametrize("n,d", [(700, 40), (1100, 300)])
def test_leave_one_out_on_the_thread_path(rng, n, d):
    """Above SERIAL_BELOW_ROWS with n_threads=2 the kernel's threads really run; eight rows are
    checked against their own leave-one-out solve. Measured relative error: 4e-14 (700 × 40),
    5e-15 (1100 × 300); the tolerance is 100× the larger."""
    from cgscore_native._kernel import SERIAL_BELOW_ROWS
    from reference import complexity

    assert n > SERIAL_BELOW_ROWS
    X, y = gaussian_problem(rng, n, d, 0.4)
    scores = cg.cg_score_binary(X, y, n_threads=2)
    H = ntk_gram(X)
    total = complexity(H, y)
    for i in rng.choice(n, 8, replace=False):
        keep = np.arange(n) != i
        expected = float(total - complexity(H[np.ix_(keep, keep)], y[keep]))
        assert abs(scores[i] - expected) <= 5e-12 * abs(expected), (i, scores[i], expected)
