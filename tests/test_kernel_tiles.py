"""The native kernel at tile and block boundaries, for every backend.

The Eigen backend tiles the Gram matrix by 256 and factors in blocks of 128; the BLAS
backend builds the Gram matrix and its trailing updates in panels 256 wide (512 from n = 2048
on), splits its triangular calls into blocks of 128 to 512, and recurses down to leaves of 128. Sizes around those numbers,
degenerate shapes (n = 1, d = 1, very large d), thread counts and the OpenBLAS thread
setting are checked here against NumPy references.
"""

from __future__ import annotations

import numpy as np
import pytest

from cgscore_native import SingularGramError, _core
from cgscore_native._blas import ensure_blas
from reference import brute_force_binary, brute_force_subterms, ntk_gram

BOUNDARY_SIZES = [1, 2, 5, 127, 128, 129, 255, 256, 257, 300, 383, 513]


def unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    X = rng.normal(size=(n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def signs(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.5, 1.0, -1.0)


def kernel(X, y, backend, ridge=0.0, subterms=False, n_threads=2):
    Y = np.asfortranarray(np.asarray(y, dtype=np.float64).reshape(len(X), -1))
    return _core.score_binary(
        np.ascontiguousarray(X), Y, ridge, -1.0, subterms, n_threads, backend=backend
    )


def closed_form(X, y, ridge=0.0):
    """docs/math.md, "The score of one binary problem", through an explicit float64 inverse: fine for well-conditioned H."""
    Hinv = np.linalg.inv(ntk_gram(X) + ridge * np.eye(len(X)))
    return (Hinv @ y) ** 2 / np.diag(Hinv)


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_small_n_matches_brute_force(rng, backend, n):
    X, y = unit_rows(rng, n, 8), signs(rng, n)
    out = kernel(X, y, backend)
    assert out["backend"] == backend
    np.testing.assert_allclose(out["scores"][:, 0], brute_force_binary(X, y), rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("n", BOUNDARY_SIZES)
def test_tile_boundaries_match_closed_form(rng, backend, n):
    X, y = unit_rows(rng, n, 2 * n + 16), signs(rng, n)  # d ≫ n keeps H well conditioned
    out = kernel(X, y, backend)
    np.testing.assert_allclose(out["scores"][:, 0], closed_form(X, y), rtol=1e-8)
    Hinv_diag = np.diag(np.linalg.inv(ntk_gram(X)))
    np.testing.assert_allclose(out["inverse_diagonal"], Hinv_diag, rtol=1e-9)


@pytest.mark.parametrize("n", [257, 513, 2049, 2100])
def test_backends_agree(rng, n):
    if not ensure_blas():
        pytest.skip("NumPy's bundled OpenBLAS was not found")
    X, y = unit_rows(rng, n, 600), signs(rng, n)
    eigen, blas = kernel(X, y, "eigen"), kernel(X, y, "blas")
    np.testing.assert_allclose(blas["scores"], eigen["scores"], rtol=1e-10)
    assert blas["min_pivot_index"] == eigen["min_pivot_index"]
    assert blas["min_pivot"] == pytest.approx(eigen["min_pivot"], rel=1e-12)
    assert blas["condition_estimate"] == pytest.approx(eigen["condition_estimate"], rel=1e-10)


@pytest.mark.parametrize("n", [1, 2, 257, 513, 1025, 2100])
def test_condition_estimate_is_within_lapacks_bounds(rng, backend, n):
    """‖H‖₁ is summed tile by tile while the Gram matrix is built, ‖H⁻¹‖₁ estimated from
    triangular solves: the product never exceeds cond₁(H) and is within a factor of 3."""
    X, y = unit_rows(rng, n, 64), signs(rng, n)
    out = kernel(X, y, backend, ridge=0.1)
    H = ntk_gram(X) + 0.1 * np.eye(n)
    assert (H < 0).any() or n < 3  # negative entries: the norm must sum absolute values
    cond1 = np.abs(H).sum(axis=0).max() * np.abs(np.linalg.inv(H)).sum(axis=0).max()
    assert cond1 / 3 <= out["condition_estimate"] <= cond1 * (1 + 1e-9)


def test_condition_estimate_finds_an_ill_conditioned_matrix(rng, backend):
    X = unit_rows(rng, 300, 40)
    X[250] = X[17] + 1e-6 * rng.normal(size=40)  # a near-copy: cond₁(H) jumps by many decades
    X[250] /= np.linalg.norm(X[250])
    out = kernel(X, signs(rng, 300), backend)
    H = ntk_gram(X)
    cond1 = np.abs(H).sum(axis=0).max() * np.abs(np.linalg.inv(H)).sum(axis=0).max()
    assert cond1 > 1e6
    assert cond1 / 3 <= out["condition_estimate"] <= cond1 * (1 + 1e-6)


def test_d_equal_one_needs_the_ridge_and_then_matches(rng, backend):
    # With d = 1 every normalized row is +1 or −1: H is singular without a ridge.
    X = rng.normal(size=(300, 1))
    y = signs(rng, 300)
    with pytest.raises(SingularGramError):
        kernel(X / np.abs(X), y, backend)
    out = kernel(X / np.abs(X), y, backend, ridge=0.25)
    np.testing.assert_allclose(out["scores"][:, 0], closed_form(X / np.abs(X), y, ridge=0.25), rtol=1e-8)


def test_very_large_d(rng, backend):
    X, y = unit_rows(rng, 40, 200_003), signs(rng, 40)
    out = kernel(X, y, backend)
    np.testing.assert_allclose(out["scores"][:, 0], closed_form(X, y), rtol=1e-9)


@pytest.mark.parametrize("n", [129, 300, 700, 2100])
def test_one_and_two_threads_are_bit_identical(rng, backend, n):
    X, y = unit_rows(rng, n, 90), signs(rng, n)
    one = kernel(X, y, backend, subterms=True, n_threads=1)
    two = kernel(X, y, backend, subterms=True, n_threads=2)
    for key in ("scores", "inverse_diagonal", "a2", "b2", "ab"):
        assert np.array_equal(one[key], two[key]), key
    assert one["min_pivot"] == two["min_pivot"] and one["condition_estimate"] == two["condition_estimate"]


@pytest.mark.parametrize("n", [2, 129, 300])
def test_subterms_sum_to_score_and_match_the_inverse(rng, backend, n):
    X, Y = unit_rows(rng, n, 2 * n), np.stack([signs(rng, n), signs(rng, n)], axis=1)
    out = kernel(X, Y, backend, subterms=True)
    # The identity a2 + 2·ab + b2 = CG (docs/math.md), asserted here only: every other layer hands the
    # kernel's sub-terms on unchanged (and is tested for that). Measured: ≤ 2.1e-16 × max score.
    total = out["a2"] + 2 * out["ab"] + out["b2"]
    np.testing.assert_allclose(total, out["scores"], rtol=0, atol=2e-15 * np.abs(out["scores"]).max())
    reference = brute_force_subterms(X, Y[:, 1])
    for key in ("a2", "b2", "ab"):
        np.testing.assert_allclose(out[key][:, 1], reference[key], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("second", [1, 127, 128, 129, 200, 299])
def test_duplicate_is_named_at_its_pivot(rng, backend, second):
    X = unit_rows(rng, 300, 400)
    # A one-hot row and its copy: their cosine is exactly 1 in any summation order,
    # so H is exactly singular at pivot `second`.
    X[0] = X[second] = np.eye(400)[5]
    with pytest.raises(SingularGramError) as caught:
        kernel(X, signs(rng, 300), backend)
    assert caught.value.pivot_index == second


def test_ntk_transform_is_accurate_across_its_branches(backend):
    # Row 0 is e₀ and row i is (uᵢ, √(1 − uᵢ²)): column 0 of the Gram matrix is uᵢ exactly,
    # so it shows the transform alone, against a long-double evaluation.
    u = np.concatenate([np.linspace(-1.0, 1.0, 2001), [0.5, -0.5, np.nextafter(0.5, 0), 1e-300, -1e-300]])
    u = np.concatenate([[1.0], u])
    X = np.stack([u, np.sqrt(1.0 - u * u)], axis=1)
    H = _core.ntk_gram(X, backend=backend)
    ul = u[1:].astype(np.longdouble)
    pi = np.longdouble(np.pi) + (np.arccos(np.longdouble(-1.0)) - np.longdouble(np.pi))
    expected = ul * (pi - np.arccos(ul)) / (2 * pi)
    np.testing.assert_allclose(H[1:, 0], expected.astype(np.float64), rtol=0, atol=2.5e-16)
    assert H[0, 0] == 0.5


@pytest.mark.parametrize("gap", [1e-3, 1e-5, 1e-7, 1e-9])
def test_near_parallel_pairs_keep_full_precision(rng, backend, gap):
    """Near u = ±1 arccos has an infinite slope; those H entries come from the rows' difference
    (or sum) and must match a long-double evaluation of the exact angle."""
    X = rng.normal(size=(6, 30))
    X[1] = X[0] + gap * rng.normal(size=30)   # near-copy
    X[2] = -X[3] + gap * rng.normal(size=30)  # near-antipodal pair
    scale = 1.0 / np.linalg.norm(X, axis=1)
    H = _core.ntk_gram(X, backend=backend, row_scale=scale)
    Xl = X.astype(np.longdouble) * scale.astype(np.longdouble)[:, None]
    pi = np.longdouble(np.pi) + (np.arccos(np.longdouble(-1.0)) - np.longdouble(np.pi))
    for i, j, sign in [(1, 0, -1), (3, 2, 1)]:
        chord = np.sqrt(np.sum((Xl[i] + sign * Xl[j]) ** 2))
        theta = 2 * np.arcsin(chord / 2) if sign < 0 else pi - 2 * np.arcsin(chord / 2)
        u = np.cos(theta)
        expected = float(u * (pi - theta) / (2 * pi))
        assert H[i, j] == pytest.approx(expected, abs=4e-16), (i, j)


def test_openblas_thread_count_is_restored(rng):
    if not ensure_blas():
        pytest.skip("NumPy's bundled OpenBLAS was not found")
    before = _core.blas_info()["threads"]
    X = unit_rows(rng, 300, 50)
    kernel(X, signs(rng, 300), "blas", n_threads=1)
    X[7] = X[3]
    with pytest.raises(SingularGramError):
        kernel(X, signs(rng, 300), "blas", n_threads=2)
    assert _core.blas_info()["threads"] == before


def test_unknown_backend_is_refused(rng):
    with pytest.raises(ValueError, match="backend must be"):
        kernel(unit_rows(rng, 3, 3), [1.0, -1.0, 1.0], "cuda")


def test_overlapping_calls_restore_the_openblas_thread_count(rng):
    if not ensure_blas():
        pytest.skip("NumPy's bundled OpenBLAS was not found")
    from concurrent.futures import ThreadPoolExecutor

    before = _core.blas_info()["threads"]
    X, y = unit_rows(rng, 400, 60), signs(rng, 400)
    expected = kernel(X, y, "blas")["scores"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda t: kernel(X, y, "blas", n_threads=1 + t % 2)["scores"], range(9)))
    assert all(np.array_equal(r, expected) for r in results)
    assert _core.blas_info()["threads"] == before


def _ntk_transform_in_numpy(u: np.ndarray) -> np.ndarray:
    """The kernel's transform (ntk_transform.hpp: fdlibm's asin, branch-free) as the same
    sequence of correctly rounded IEEE operations, one NumPy ufunc each (nothing fused)."""
    u = np.clip(u, -1.0, 1.0)
    a = np.abs(u)
    small = a < 0.5
    z = np.where(small, u * u, 0.5 * (1.0 - a))
    s = np.where(small, a, np.sqrt(z))
    p = z * (1.66666666666666657415e-01 + z * (-3.25565818622400915405e-01 + z * (
        2.01212532134862925881e-01 + z * (-4.00555345006794114027e-02 + z * (
            7.91534994289814532176e-04 + z * 3.47933107596021167570e-05)))))
    q = 1.0 + z * (-2.40339491173441421878e+00 + z * (2.02094576023350569471e+00 + z * (
        -6.88283971605453293030e-01 + z * 7.70381505559019352791e-02)))
    r = s + s * (p / q)
    asin = np.copysign(np.where(small, r, 0.5 * np.pi - 2.0 * r), u)
    return u * (0.5 * np.pi + asin) * (0.5 / np.pi)


def test_ntk_transform_is_the_same_on_every_cpu(rng, backend):
    """No operation of the transform is contracted into an FMA (-ffp-contract=off), so the
    clone chosen for this CPU (AVX2+FMA or baseline x86-64) gives exactly the IEEE result:
    bit-identical to NumPy doing the same operations one by one. Before, the AVX2 clone
    fused multiply-adds that the baseline clone rounds twice."""
    u = np.concatenate([rng.uniform(-1, 1, 1500), rng.uniform(-0.5, 0.5, 500),
                        1 - rng.uniform(1 / 1024, 0.25, 500), [0.5, -0.5, 0.0, 1e-300]])
    u = u[np.abs(u) <= 1 - 1 / 1024]  # beyond it, pairs are redone from the rows' difference
    # Second coordinates of both signs: the rows point all round the circle, so no tile is
    # concentrated enough for the shifted-rows path (centred_tile.hpp) and u goes through the transform.
    X = np.stack([u, np.sqrt(1.0 - u * u) * np.where(rng.random(u.size) < 0.5, -1.0, 1.0)], axis=1)
    X = np.concatenate([[[1.0, 0.0]], X])  # row 0 = e₀: column 0 of the Gram matrix is u exactly
    H = _core.ntk_gram(X, backend=backend, row_scale=np.ones(len(X)))
    expected = _ntk_transform_in_numpy(u)
    assert np.array_equal(H[1:, 0], expected), np.flatnonzero(H[1:, 0] != expected)[:10]


def _long_double_gram(X: np.ndarray) -> np.ndarray:
    """Lower triangle of H from the exact angle between the rows, in long double: θ from the
    chord of the unit rows (accurate where θ is small), u = cos θ."""
    Xl = X.astype(np.longdouble)
    Xl /= np.sqrt((Xl * Xl).sum(axis=1, keepdims=True))
    pi = np.longdouble(np.pi) + (np.arccos(np.longdouble(-1.0)) - np.longdouble(np.pi))
    H = np.zeros((len(X), len(X)))
    for i in range(1, len(X)):
        minus = np.sqrt(((Xl[:i] - Xl[i]) ** 2).sum(axis=1))
        plus = np.sqrt(((Xl[:i] + Xl[i]) ** 2).sum(axis=1))
        theta = np.where(minus <= plus, 2 * np.arcsin(minus / 2), pi - 2 * np.arcsin(plus / 2))
        H[i, :i] = (np.cos(theta) * (pi - theta) / (2 * pi)).astype(np.float64)
    return H


@pytest.mark.parametrize("d", [40, 300])
def test_offset_data_keeps_full_precision(rng, backend, d):
    """Un-centred rows (a common offset 100× their spread: every |cos| > 0.999) take the
    shifted-rows path of centred_tile.hpp; every entry must still match the exact angle,
    including a near-copy inside the cluster and a near-antipodal pair (redone from rows)."""
    n = 600  # several tiles for both backends, diagonal and off-diagonal
    X = rng.normal(size=(n, d)) + 100.0
    X[20] = X[500] + 1e-7 * rng.normal(size=d)
    X[7] = -X[3] + 1e-5 * rng.normal(size=d)
    H = _core.ntk_gram(X, backend=backend, row_scale=1.0 / np.linalg.norm(X, axis=1))
    expected = _long_double_gram(X)
    lower = np.tril_indices(n, -1)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    assert np.abs(unit @ unit.T).min() > 0.999  # every pair near-parallel or near-antipodal
    error = np.abs(H[lower] - expected[lower])
    assert error.max() <= 4e-16, (error.max(), np.argmax(error))
    assert np.all(np.diag(H) == 0.5)
