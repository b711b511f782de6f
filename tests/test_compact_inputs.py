"""uint8 and float32 features are read in place (issue 11, compact inputs): no float64 copy of X,
and the scores of the same values given as float64, bit for bit, on both back ends, for any
thread count, through every entry point."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import _core
from cgscore_native._blas import ensure_blas

HAS_BLAS = ensure_blas(warn=False)
BACKENDS = ["eigen"] + (["blas"] if HAS_BLAS else [])


def _pixels(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Image-like rows: non-negative, so every Gram tile is concentrated (the shifted-rows path)."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, d), dtype=np.uint8)


def _centred(n: int, d: int, seed: int = 1) -> np.ndarray:
    """Rows around zero: the direct path, with a few near-parallel pairs redone from the rows."""
    X = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    X[5] = X[3] * 2 + 1e-3  # |cos| > 1 - 1/1024: redone from the rows
    return X


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("make", [_pixels, _centred], ids=["pixels", "centred"])
@pytest.mark.parametrize("n, d", [(300, 40), (700, 1500)])  # one feature panel, and two (a short last one)
def test_the_kernel_gives_the_bits_of_the_float64_values(backend, make, n, d):
    X = make(n, d)
    X64 = X.astype(np.float64)
    rows, rows64 = _core.prepare_rows(X), _core.prepare_rows(X64)
    for key in ("scale", "hash", "status"):
        np.testing.assert_array_equal(rows[key], rows64[key])
    Y = np.asfortranarray(np.sign(np.random.default_rng(2).standard_normal((n, 2))))
    for threads in (1, 2):
        a = _core.score_binary(X, Y, ridge=1e-3, n_threads=threads, backend=backend, row_scale=rows["scale"])
        b = _core.score_binary(X64, Y, ridge=1e-3, n_threads=threads, backend=backend, row_scale=rows["scale"])
        np.testing.assert_array_equal(a["scores"], b["scores"])
        np.testing.assert_array_equal(a["alpha"], b["alpha"])
    H = _core.ntk_gram(X, backend=backend, row_scale=rows["scale"])
    np.testing.assert_array_equal(H, _core.ntk_gram(X64, backend=backend, row_scale=rows["scale"]))


@pytest.mark.skipif(not HAS_BLAS, reason="the BLAS back end's large tiles (n >= 2048)")
def test_large_tiles_give_the_bits_of_the_float64_values():
    X = _pixels(2100, 1100)
    scale = _core.prepare_rows(X)["scale"]
    H = _core.ntk_gram(X, backend="blas", row_scale=scale)
    np.testing.assert_array_equal(H, _core.ntk_gram(X.astype(np.float64), backend="blas", row_scale=scale))
    # and the values are right: against a float64 closed form of the normalized rows, off the
    # diagonal (every cosine here is 0.7–0.8, far from the ends where arccos loses digits)
    U = X.astype(np.float64) * scale[:, None]
    u = np.clip(U[:300] @ U[:300].T, -1, 1)
    off = ~np.eye(300, dtype=bool)
    assert 0.6 < u[off].min() and u[off].max() < 0.9
    np.testing.assert_allclose(H[:300, :300][off], (u * (np.pi - np.arccos(u)) / (2 * np.pi))[off], rtol=0, atol=2e-15)


@pytest.mark.filterwarnings("ignore::cgscore_native.errors.LabelsWarning")  # random pixels, arbitrary labels
def test_every_entry_point_gives_the_scores_of_the_float64_values():
    X = _pixels(240, 8 * 8 * 3).reshape(240, 8, 8, 3)  # images, as a loader gives them
    labels = np.arange(240) % 3
    X64 = X.astype(np.float64)
    for compact in (X, X.astype(np.float32)):
        np.testing.assert_array_equal(cg.cg_score(compact, labels, seed=1), cg.cg_score(X64, labels, seed=1))
        y = np.where(labels == 1, 1, -1)
        np.testing.assert_array_equal(cg.cg_score_binary(compact, y, n_threads=1), cg.cg_score_binary(X64, y, n_threads=2))
        a, b = cg.diagnose(compact, labels, seed=1), cg.diagnose(X64, labels, seed=1)
        np.testing.assert_array_equal(a.suspicion, b.suspicion)
        np.testing.assert_array_equal(a.suggested_label, b.suggested_label)


def test_no_float64_copy_of_uint8_rows_is_made():
    n, d = 4000, 3072
    X = _pixels(n, d)
    y = np.where(np.arange(n) % 2 == 1, 1, -1)
    cg.cg_score_binary(X[:300], y[:300])  # loads the BLAS outside the trace
    tracemalloc.start()
    try:
        scores = cg.cg_score_binary(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.isfinite(scores).all()
    # NumPy's allocations are traced: the duplicate check's blocks, not the 98 MB a float64 copy takes.
    assert peak < 8 * n * d / 3, f"{peak / 2**20:.1f} MiB traced"


def test_other_types_are_copied_once_exactly():
    X = _pixels(200, 30).astype(np.int16)
    labels = np.arange(200) % 2
    expected = cg.cg_score(X.astype(np.float64), labels, seed=0)
    for other in (X, X.astype(">f8"), np.asfortranarray(X.astype(np.uint8)), X.astype(np.float16)):
        np.testing.assert_array_equal(cg.cg_score(other, labels, seed=0), expected)


@pytest.mark.parametrize(
    "bad, message",
    [(np.ones((4, 3), dtype=np.int32), "float64, float32 or uint8 in native byte order, not int32"),
     (np.ones((4, 3), dtype=">f8"), "native byte order"),
     (np.ones((4, 6))[:, ::2], "C-contiguous"),
     (np.ones(4), "2-D array")],
)
def test_the_core_names_what_it_reads(bad, message):
    with pytest.raises(ValueError, match=message):
        _core.prepare_rows(bad)
    with pytest.raises(ValueError, match=message):
        _core.score_binary(bad, np.ones((4, 1), order="F"))
