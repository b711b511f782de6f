"""The depth-L ReLU NTK of the native Gram transform (docs/math.md, relu_ntk.hpp) against a 40-digit
evaluation of its recursion (mpmath), on both back ends.

Two kinds of input. Pairs (1, 0)·(cos t, sin t) give the core an exact cosine (and, near ±1, an
exact chord from the same two doubles), so the transform alone is measured, in ulps. Rows with a
large common offset (the centred-tile path) carry the rounding of their unit-length scaling: there
the bound is a few ulps plus |dK/du|·ε, the error of one rounding of the cosine.
"""

from __future__ import annotations

import numpy as np
import pytest

from cgscore_native import _core
from cgscore_native._blas import ensure_blas

mp = pytest.importorskip("mpmath")
mp.mp.dps = 40

NEAR_PARALLEL = 1.0 - 1.0 / 1024  # ntk_transform.hpp: beyond it the angle comes from the rows
DEPTHS = [1, 2, 3, 4, 8]


@pytest.fixture(params=["eigen", "blas"])
def backend(request) -> str:
    if request.param == "blas" and not ensure_blas():
        pytest.skip("no BLAS library for the core")
    return request.param


def kernel_from_angle(theta, depth: int):
    """Θᴸ (or the paper's kernel at depth 0) from the level-0 angle, in mpmath."""
    u = mp.cos(theta)
    if depth == 0:
        return u * (mp.pi - theta) / (2 * mp.pi)
    sigma, big = u, u
    for h in range(depth):
        t = theta if h == 0 else mp.acos(sigma)
        sigma_next = (mp.sin(t) + (mp.pi - t) * mp.cos(t)) / mp.pi
        big = big * (mp.pi - t) / mp.pi + sigma_next
        sigma = sigma_next
    return big


def kernel_from_cosine(u, depth: int):
    return kernel_from_angle(mp.acos(u), depth)


def ulps(value: float, reference) -> float:
    ref = float(reference)
    return abs(value - ref) / float(np.spacing(max(abs(ref), 0.5)))


def angle_pairs() -> np.ndarray:
    """Row 0 = (1, 0); then (cos t, sin t) over (0, π), near 0 and near π down to 1e-9."""
    rng = np.random.default_rng(1)
    t = np.concatenate([rng.uniform(0, np.pi, 120), 10.0 ** -rng.uniform(0, 9, 60),
                        np.pi - 10.0 ** -rng.uniform(0, 9, 60)])
    return np.ascontiguousarray(np.vstack([[1.0, 0.0], np.column_stack([np.cos(t), np.sin(t)])]))


def reference_angle(c: float, s: float):
    """The angle the core is given for the pair (1, 0), (c, s): arccos c, or near ±1 the chord's."""
    c_, s_ = mp.mpf(c), mp.mpf(s)
    if abs(c) <= NEAR_PARALLEL:
        return mp.acos(c_)
    if c > 0:
        return 2 * mp.asin(mp.sqrt((1 - c_) ** 2 + s_ ** 2) / 2)
    return mp.pi - 2 * mp.asin(mp.sqrt((1 + c_) ** 2 + s_ ** 2) / 2)


@pytest.mark.parametrize("depth", [0, *DEPTHS, 16])
def test_entries_within_a_few_ulps_of_the_recursion(backend, depth):
    X = angle_pairs()
    K = _core.ntk_gram(X, kernel_depth=depth, backend=backend)[1:, 0]
    worst = max(ulps(k, kernel_from_angle(reference_angle(c, s), depth)) for k, (c, s) in zip(K, X[1:]))
    # Measured: 1 ulp (paper), 2-5 up to depth 8, 19 at depth 16 (the levels' roundings add up).
    assert worst <= (2 if depth == 0 else 6 if depth <= 8 else 24)


def offset_rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(24, 16)) + 20.0  # every cosine above 0.99: the centred-tile path
    X[1] = X[0] + 1e-7 * rng.normal(size=16)  # a near-copy: redone from the rows
    X[2] = -X[5]  # antiparallel to row 5
    return X, 1.0 / np.linalg.norm(X, axis=1)


@pytest.mark.parametrize("depth", [0, *DEPTHS])
def test_offset_data_has_no_cliff(backend, depth):
    X, scale = offset_rows()
    K = _core.ntk_gram(X, row_scale=scale, kernel_depth=depth, backend=backend)
    worst = 0.0
    for i in range(X.shape[0]):
        a = [mp.mpf(float(v)) for v in X[i]]
        for j in range(i):
            b = [mp.mpf(float(v)) for v in X[j]]
            u = mp.fsum(p * q for p, q in zip(a, b)) / mp.sqrt(mp.fsum(p * p for p in a) * mp.fsum(q * q for q in b))
            ref = kernel_from_cosine(u, depth)
            slope = abs(mp.diff(lambda v: kernel_from_cosine(v, depth), u)) if abs(u) < 1 else mp.inf
            bound = 4 * float(np.spacing(max(abs(float(ref)), 0.5))) + float(slope) * np.finfo(float).eps
            worst = max(worst, abs(K[i, j] - float(ref)) / bound)
    assert worst <= 1.0  # measured 0.43 (paper) to 0.58 (depth 8)


@pytest.mark.parametrize("depth", [0, 2, 8])
def test_diagonal_is_depth_plus_one_and_ridge_adds(depth):
    X = np.random.default_rng(0).normal(size=(30, 5))
    K = _core.ntk_gram(X, row_scale=1 / np.linalg.norm(X, axis=1), ridge=0.25, kernel_depth=depth)
    np.testing.assert_array_equal(np.diag(K), np.full(30, (0.5 if depth == 0 else depth + 1.0) + 0.25))
    np.testing.assert_array_equal(K, K.T)


@pytest.mark.parametrize("depth", [1, 4])
def test_identical_for_one_and_two_threads_and_compact_inputs(backend, depth):
    rng = np.random.default_rng(5)
    X8 = rng.integers(0, 256, size=(700, 40), dtype=np.uint8)  # pixel-like: offset, near-parallel
    X = X8.astype(np.float64)
    scale = 1.0 / np.linalg.norm(X, axis=1)
    one = _core.ntk_gram(X, row_scale=scale, kernel_depth=depth, n_threads=1, backend=backend)
    two = _core.ntk_gram(X, row_scale=scale, kernel_depth=depth, n_threads=2, backend=backend)
    compact = _core.ntk_gram(X8, row_scale=scale, kernel_depth=depth, n_threads=2, backend=backend)
    single = _core.ntk_gram(X.astype(np.float32), row_scale=scale, kernel_depth=depth, n_threads=2,
                            backend=backend)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, compact)
    np.testing.assert_array_equal(one, single)


def test_paper_kernel_is_the_default_bit_for_bit(backend):
    X = np.random.default_rng(2).normal(size=(300, 20)) + 3.0
    scale = 1.0 / np.linalg.norm(X, axis=1)
    np.testing.assert_array_equal(_core.ntk_gram(X, row_scale=scale, backend=backend),
                                  _core.ntk_gram(X, row_scale=scale, kernel_depth=0, backend=backend))
    Y = np.asfortranarray(np.where(np.arange(300) % 3 == 0, 1.0, -1.0)[:, None])
    default = _core.score_binary(X, Y, 0.01, row_scale=scale, backend=backend)
    paper = _core.score_binary(X, Y, 0.01, row_scale=scale, backend=backend, kernel_depth=0)
    np.testing.assert_array_equal(default["alpha"], paper["alpha"])


def test_score_binary_solves_the_depth_kernel(backend):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 10))
    scale = 1.0 / np.linalg.norm(X, axis=1)
    Y = np.asfortranarray(rng.choice([-1.0, 1.0], size=(120, 2)))
    out = _core.score_binary(X, Y, 0.3, row_scale=scale, backend=backend, kernel_depth=3)
    K = _core.ntk_gram(X, row_scale=scale, kernel_depth=3, ridge=0.3)
    np.testing.assert_allclose(out["alpha"], np.linalg.solve(K, Y), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["inverse_diagonal"], np.diag(np.linalg.inv(K)), rtol=1e-10)


@pytest.mark.parametrize("depth", [-1, 65])
def test_bad_depth_is_a_value_error(depth):
    with pytest.raises(ValueError, match="kernel_depth must be 0"):
        _core.ntk_gram(np.eye(3), kernel_depth=depth)


def test_symmetric_eigen_reconstructs_and_is_ascending():
    A = _core.ntk_gram(np.random.default_rng(6).normal(size=(200, 30)), row_scale=None, kernel_depth=2)
    s, V = _core.symmetric_eigen(A)
    assert np.all(np.diff(s) >= 0)
    np.testing.assert_allclose(V @ np.diag(s) @ V.T, A, atol=1e-12 * np.abs(s).max())
    np.testing.assert_allclose(V.T @ V, np.eye(200), atol=1e-12)
