"""Rows are never normalized in a copy: the native pass finds 1/‖x_i‖ and the kernel scales
x_i·x_j itself. These tests pin that path to the normalized-copy arithmetic it replaced."""

from __future__ import annotations

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import _core
from cgscore_native._duplicates import grid_keys
from cgscore_native._prepare import UnitRows, normalize_rows, prepare_features


def test_prepare_rows_reports_scale_status_and_range(rng):
    X = rng.normal(size=(6, 5))
    X[1, 2] = np.nan
    X[3] = 0.0
    X[4, 0] = -np.inf
    out = _core.prepare_rows(X)
    np.testing.assert_array_equal(out["status"], [0, 1, 0, 2, 1, 0])
    ok = [0, 2, 5]
    np.testing.assert_allclose(out["scale"][ok], 1.0 / np.linalg.norm(X[ok], axis=1), rtol=1e-15)
    assert np.all(out["scale"][[1, 3, 4]] == 0.0)
    assert out["in_range"]
    X[0] *= 1e300
    assert not _core.prepare_rows(X)["in_range"]


def test_hash_is_equal_for_copies_and_power_of_two_multiples_only(rng):
    X = rng.normal(size=(5, 40))
    X[1] = X[0]
    X[2] = X[0] * 8.0
    X[3] = X[0] + 1e-6  # a different row
    h = _core.prepare_rows(X)["hash"]
    assert h[0] == h[1] == h[2]
    assert len({int(h[0]), int(h[3]), int(h[4])}) == 3


def test_python_grid_keys_agree_with_the_native_hash(rng):
    """Hash collisions are settled on keys computed in numpy: the two must round alike."""
    X = rng.normal(size=(200, 9)) * rng.uniform(0.1, 10.0, size=(200, 1))
    info = _core.prepare_rows(X)
    data = UnitRows(X, info["scale"])
    keys = grid_keys(data, np.arange(200))
    rows_equal = (keys[:, None, :] == keys[None, :, :]).all(axis=2)
    hashes_equal = info["hash"][:, None] == info["hash"][None, :]
    np.testing.assert_array_equal(rows_equal, hashes_equal)


@pytest.mark.parametrize("n", [3, 129, 257, 513])
def test_kernel_with_row_scale_matches_normalized_rows(rng, backend, n):
    X = rng.normal(size=(n, 19)) * rng.uniform(0.01, 100.0, size=(n, 1))
    y = np.asfortranarray(np.where(rng.random((n, 1)) < 0.5, 1.0, -1.0))
    scale = _core.prepare_rows(X)["scale"]
    raw = _core.score_binary(X, y, n_threads=2, backend=backend, row_scale=scale)
    unit = _core.score_binary(normalize_rows(X), y, n_threads=2, backend=backend)
    np.testing.assert_allclose(raw["scores"], unit["scores"], rtol=1e-9)
    np.testing.assert_allclose(raw["inverse_diagonal"], unit["inverse_diagonal"], rtol=1e-9)
    H = _core.ntk_gram(X, backend=backend, row_scale=scale)
    np.testing.assert_allclose(H, _core.ntk_gram(normalize_rows(X), backend=backend), rtol=1e-13, atol=1e-15)


def test_row_scale_of_the_wrong_length_is_refused(rng):
    X = rng.normal(size=(4, 3))
    with pytest.raises(ValueError, match="row_scale must have one entry per row"):
        _core.score_binary(X, np.ones((4, 1), order="F"), row_scale=np.ones(3))


def test_power_of_two_row_scaling_gives_bit_identical_scores(rng):
    X = rng.normal(size=(120, 30))
    y = np.where(np.arange(120) % 3 == 0, 1, -1)
    scaled = X * (2.0 ** rng.integers(-40, 40, size=(120, 1)))
    np.testing.assert_array_equal(cg.cg_score_binary(scaled, y), cg.cg_score_binary(X, y))


def test_extreme_magnitudes_score_like_their_normalized_rows(rng):
    """Rows beyond 2^±250 take the normalized-copy path; the scores must not notice."""
    X = rng.normal(size=(60, 12))
    labels = np.arange(60) % 3
    extreme = X * np.where(np.arange(60) % 2 == 0, 1e280, 1e-280)[:, None]
    data, groups = prepare_features(extreme)
    assert groups == [] and data.X is not extreme  # a normalized copy was made
    np.testing.assert_allclose(
        cg.score(extreme, labels, seed=1).scores, cg.score(X, labels, seed=1).scores, rtol=1e-9
    )
