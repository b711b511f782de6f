"""Independent float64 references at production sizes, on ill-conditioned real rows.

The rows are the embedded digits plus 900 of them perturbed by N(0, 0.1²) noise (pixels
are 0..16): n = 2697, and the Gram matrices have cond₂ ≈ 5e5. The reference is the closed
form CG_i = (H⁻¹y)_i² / (H⁻¹)_ii with H⁻¹ from SciPy's Cholesky (cho_factor/cho_solve),
nothing of the package's. Measured error, max|got − ref| relative to the problem's largest
score: 1.2e-13 to 1.3e-13 for the binary problem (n_threads=2, the thread path) and its
unaligned trailing blocks, 0.7e-13 to 2.7e-13 for the protocol's problems (sampled, chunked);
TOL is about 100× that (a c·n·ε·cond bound would be ~1e-7, far looser than the error seen).
"""

from __future__ import annotations

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import _core
from cgscore_native._blas import ensure_blas
from cgscore_native._kernel import SERIAL_BELOW_ROWS
from cgscore_native._plan import plan_problems
from reference import ntk_gram

scipy_linalg = pytest.importorskip("scipy.linalg")

TOL = 2e-11


@pytest.fixture(scope="module")
def digits_rows():
    X, y = cg.load_digits()
    X = X.reshape(len(X), -1).astype(np.float64)
    rng = np.random.default_rng(0)
    extra = rng.choice(len(X), 900, replace=False)
    return np.vstack([X, X[extra] + 0.1 * rng.normal(size=(900, X.shape[1]))]), np.r_[y, y[extra]]


def closed_form(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    H = ntk_gram(X)
    factor = scipy_linalg.cho_factor(H, lower=True)
    alpha = scipy_linalg.cho_solve(factor, y)
    Hinv = scipy_linalg.cho_solve(factor, np.eye(len(y)))
    return alpha**2 / np.diag(Hinv)


def assert_near(got: np.ndarray, ref: np.ndarray, scale: float | None = None) -> None:
    """max|got − ref| relative to the largest score of the problem (``scale``, default max(ref))."""
    error = np.abs(got - ref).max() / (ref.max() if scale is None else scale)
    print(f"max|got - ref| / max(ref) = {error:.2e}")  # shown with -s: the measured error
    assert error <= TOL, f"max|got - ref| / max(ref) = {error:.2e}"


@pytest.fixture(scope="module")
def binary(digits_rows):
    X, digit = digits_rows
    y = np.where(digit < 5, 1.0, -1.0)
    return X, y, closed_form(X, y)


def test_binary_problem_on_the_thread_path(binary):
    X, y, ref = binary
    assert len(y) > SERIAL_BELOW_ROWS  # n_threads=2 really runs two threads
    result = cg.cg_score_binary(X, y, n_threads=2)
    assert_near(result, ref)
    condition = _core.score_binary(X / np.linalg.norm(X, axis=1, keepdims=True), np.asfortranarray(y[:, None]))[
        "condition_estimate"
    ]
    assert 1e3 < condition < 1e7  # as ill-conditioned as promised


@pytest.mark.parametrize("first", [1, 1237, 2001, 2696])  # not on any block boundary
def test_unaligned_first_scored_blocks(binary, first):
    X, y, ref = binary
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    for backend in ["eigen"] + (["blas"] if ensure_blas() else []):
        out = _core.score_binary(Xn, np.asfortranarray(y[:, None]), first_scored=first, n_threads=2, backend=backend)
        assert out["scores"].shape == (len(y) - first, 1)
        assert_near(out["scores"][:, 0], ref[first:], scale=ref.max())


@pytest.mark.parametrize("kw", [dict(ratio=0.6), dict(ratio=1.0, chunk_size=1000)], ids=["sampled", "chunked"])
def test_protocol_problems_match_the_closed_form(digits_rows, kw):
    X, digit = digits_rows
    labels = np.where(digit < 5, "low", "high")
    result = cg.score(X, labels, seed=3, n_threads=2, **kw)
    classes, codes = np.unique(labels, return_inverse=True)
    problems = plan_problems(codes, classes.size, repeats=1, entropy=result.seed, **kw)
    assert max(p.size for p in problems) > SERIAL_BELOW_ROWS
    for p in problems:
        ref = closed_form(X[p.rows], p.label_vector())
        assert_near(result.scores[p.positives], ref[p.first_scored :], scale=ref.max())
