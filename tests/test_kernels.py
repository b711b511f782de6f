"""The kernel family in Python (_kernels.py): names, the NumPy cross-Gram matrix against the
native Gram matrix, and the leave-one-out fit and predictions of _loo with a depth-L kernel."""

from __future__ import annotations

import numpy as np
import pytest

from cgscore_native import _core
from cgscore_native._kernels import Kernel, cross_gram, parse_kernel
from cgscore_native._loo import fit_rows, ntk_cross_gram, predict_rows, signed_targets
from cgscore_native._prepare import prepare_features


def rows_with_hard_pairs(seed: int = 0) -> np.ndarray:
    """Gaussian rows, an offset cluster, near-copies and an antiparallel pair."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(160, 12))
    X[40:80] += 15.0  # concentrated: every cosine above 0.99
    X[1] = X[0] + 1e-7 * rng.normal(size=12)
    X[2] = -X[3] + 1e-6 * rng.normal(size=12)
    X[41] = X[40] * (1 + 1e-9)
    return X


@pytest.mark.parametrize("depth", [0, 1, 2, 4, 8])
def test_cross_gram_matches_the_native_gram(depth):
    X = rows_with_hard_pairs()
    data, _ = prepare_features(X, 1)
    U = data.normalized(np.arange(X.shape[0]))
    native = _core.ntk_gram(data.X, row_scale=data.scale, kernel_depth=depth)
    mine = cross_gram(U, U, depth)
    off = ~np.eye(X.shape[0], dtype=bool)
    # In ulps of max(|K|, 1/2): NumPy's arccos against the branch-free asin, and unit rows
    # rounded once more by normalized(). Measured 2-7 ulps on the centred rows (80-159) and the
    # near-parallel pairs; 12 (paper) to 54 (depth 8) in the offset cluster, where the core takes
    # the angle from shifted rows and NumPy from the cosine, whose last bit the slope amplifies.
    err = np.abs(native - mine) / np.spacing(np.maximum(np.abs(native), 0.5))
    assert err[np.ix_(range(80, 160), range(80, 160))][off[80:, 80:]].max() <= 8
    assert err[:4, :4][off[:4, :4]].max() <= 8
    assert err[off].max() <= 64


def test_paper_cross_gram_is_the_old_one_bit_for_bit():
    U = prepare_features(rows_with_hard_pairs(1), 1)[0].normalized(np.arange(160))
    np.testing.assert_array_equal(cross_gram(U, U[:70], 0), ntk_cross_gram(U, U[:70]))


@pytest.mark.parametrize("depth", [2, 8])
def test_fit_and_predict_with_a_depth_kernel_match_a_dense_solve(depth):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(140, 9))
    codes = rng.integers(0, 3, size=140)
    data, _ = prepare_features(X, 1)
    inside, outside = np.arange(100), np.arange(100, 140)
    fit = fit_rows(data, inside, codes, 3, 0.2, 1, kernel_depth=depth)
    U = data.normalized(np.arange(140))
    K = _core.ntk_gram(data.X, row_scale=data.scale, kernel_depth=depth)
    Kin = K[np.ix_(inside, inside)] + 0.2 * np.eye(100)
    Y = signed_targets(codes[inside], 3)
    inv = np.linalg.inv(Kin)
    np.testing.assert_allclose(fit.alpha, inv @ Y, rtol=1e-10, atol=1e-12)
    # Leave-one-out against 100 refits without each row.
    for i in (0, 37, 99):
        keep = np.delete(inside, i)
        coef = np.linalg.solve(K[np.ix_(keep, keep)] + 0.2 * np.eye(99), signed_targets(codes[keep], 3))
        np.testing.assert_allclose(fit.loo[i], K[i, keep] @ coef, rtol=0, atol=1e-10)
    expected = cross_gram(U[outside], U[inside], depth) @ fit.alpha
    np.testing.assert_allclose(predict_rows(data, outside, fit), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(predict_rows(data, outside, fit), K[np.ix_(outside, inside)] @ fit.alpha,
                               rtol=0, atol=1e-11)


@pytest.mark.parametrize(("value", "depth"), [("paper", 0), (0, 0), ("relu-ntk-2", 2), ("RELU-NTK-8", 8), (4, 4),
                                              ("3", 3), (np.int64(5), 5)])
def test_kernel_names_parse(value, depth):
    kernel = parse_kernel(value)
    assert kernel == Kernel(depth)
    assert parse_kernel(kernel.name) == kernel


def test_auto_parses_to_none():
    assert parse_kernel("auto") is None


@pytest.mark.parametrize("value", ["relu", "ntk-2", "relu-ntk-65", -1, 65, 2.0, True, None, "relu-ntk-"])
def test_bad_kernel_names_list_the_valid_ones(value):
    with pytest.raises(ValueError, match=r"kernel must be 'auto', 'paper', 'relu-ntk-L' or a whole number L"):
        parse_kernel(value)
