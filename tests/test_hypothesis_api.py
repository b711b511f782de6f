"""Property tests over the public API: whatever the input, a finite non-negative score per
row or the error its defect calls for; never a crash, a NaN or a stray warning.

Each draw is classified by the test itself (too few classes, a zero row, duplicates under
"raise"): those must raise that error, and every other draw must score."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import cgscore_native as cg
from cgscore_native import DuplicateRowsError, DuplicatesWarning

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DTYPES = ["float64", "float32", "float16", "int8", "int32", "uint8", "int64", "bool"]
SCALES = [1.0, 1e300, 1e-300, 1e-310, 1e150]  # huge, tiny and subnormal magnitudes


@st.composite
def feature_matrices(draw):
    n = draw(st.integers(1, 14))
    shape = (n,) + tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=2)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    base = rng.normal(size=shape) * draw(st.sampled_from([1.0, 3.0, 100.0]))
    if dtype.kind == "f" and dtype.itemsize == 8:
        base = base * draw(st.sampled_from(SCALES))
    if dtype.kind == "b":
        X = base > 0
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        X = np.clip(np.round(base), info.min, info.max).astype(dtype)
    else:
        X = base.astype(dtype)
    if n >= 2 and draw(st.booleans()):  # plant exact copies and positive multiples
        src, dst = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        X[dst] = X[src]
    return X


@st.composite
def label_vectors(draw, n: int):
    kind = draw(st.sampled_from(["int", "str", "float", "bool", "object-int", "list"]))
    codes = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    if kind == "int":
        return np.array(codes, dtype=draw(st.sampled_from([np.int8, np.int64, np.uint16])))
    if kind == "str":
        return np.array(["cat", "dog", "émeu", ""])[codes]
    if kind == "float":
        return np.array(codes, dtype=float) * 0.5
    if kind == "bool":
        return np.array(codes) % 2 == 0
    if kind == "object-int":
        return np.array(codes, dtype=object)
    return [f"c{c}" for c in codes]


def check_result(result, n):
    assert result.scores.shape == (n,) and result.scores.dtype == np.float64
    assert np.all(np.isfinite(result.scores)) and np.all(result.scores >= 0)
    assert np.all(np.isfinite(result.std)) and np.all(result.count >= 1)


def expected_refusal(X, labels, duplicates: str, ratio: float = 1.0, chunk_size=None) -> tuple[type[Exception], str] | None:
    """The error a draw calls for, found independently of the package; None: it must score."""
    rows = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if labels is not None:
        values = np.asarray(labels).tolist()
        if len(set(values)) < 2:
            return ValueError, "distinct value"
        # docs/math.md, "The class-wise protocol": a chunk holds at least one positive and its min(floor(ratio), |others|) negatives.
        others = [len(values) - values.count(v) for v in set(values)]
        if chunk_size is not None and chunk_size < max(1 + min(int(np.floor(ratio)), o) for o in others):
            return ValueError, "chunk_size=.* is too small"
    magnitude = np.abs(rows).max(axis=1)
    if np.any(magnitude == 0):
        return ValueError, "all-zero rows"
    unit = rows / magnitude[:, None]
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    gaps = np.abs(unit[:, None, :] - unit[None, :, :]).max(axis=2)
    np.fill_diagonal(gaps, np.inf)
    if duplicates == "raise" and gaps.min() < 1e-9:
        return DuplicateRowsError, "equal"
    return None


@SETTINGS
@given(data=st.data())
def test_score_returns_finite_scores_or_the_right_error(data):
    X = data.draw(feature_matrices())
    labels = data.draw(label_vectors(len(X)))
    kwargs = dict(
        ratio=data.draw(st.sampled_from([0.3, 1.0, 2.5, 10.0])),
        repeats=data.draw(st.integers(1, 2)),
        seed=data.draw(st.integers(0, 1000)),
        chunk_size=data.draw(st.sampled_from([None, None, 2, 3, 5, 8])),
        duplicates=data.draw(st.sampled_from(["ridge", "raise"])),
        subterms=data.draw(st.booleans()),
        n_threads=data.draw(st.sampled_from([None, 1, 2])),
    )
    refusal = expected_refusal(X, labels, kwargs["duplicates"], kwargs["ratio"], kwargs["chunk_size"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DuplicatesWarning)  # documented: the ridge policy warns
        if refusal is not None:
            event(f"refused: {refusal[0].__name__}")
            with pytest.raises(refusal[0], match=refusal[1]):
                cg.score(X, labels, **kwargs)
            return
        result = cg.score(X, labels, **kwargs)
    event("scored")
    check_result(result, len(X))
    if result.subterms is not None:
        assert all(np.isfinite(result.subterms[k]).all() and result.subterms[k].shape == (len(X),) for k in ("a2", "b2", "ab"))


@SETTINGS
@given(data=st.data())
def test_binary_scores_are_finite_or_the_right_error(data):
    X = data.draw(feature_matrices())
    n = len(X)
    y = np.array(data.draw(st.lists(st.sampled_from([1, -1]), min_size=n, max_size=n)))
    if data.draw(st.booleans()):
        y = y > 0
    duplicates = data.draw(st.sampled_from(["ridge", "raise"]))
    refusal = expected_refusal(X, None, duplicates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DuplicatesWarning)
        if refusal is not None:
            with pytest.raises(refusal[0], match=refusal[1]):
                cg.cg_score_binary(X, y, duplicates=duplicates)
            return
        scores = cg.cg_score_binary(X, y, duplicates=duplicates)
    assert scores.shape == (n,) and np.all(np.isfinite(scores)) and np.all(scores >= 0)


@SETTINGS
@given(scale=st.sampled_from(SCALES), seed=st.integers(0, 2**32 - 1))
def test_scores_do_not_depend_on_the_magnitude(scale, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 3))
    labels = np.repeat([0, 1], 6)
    expected = cg.cg_score(X, labels, seed=0)
    # Scores near zero are α_i ≈ 0 and only as exact as the conditioning allows.
    np.testing.assert_allclose(cg.cg_score(X * scale, labels, seed=0), expected, rtol=1e-9, atol=1e-12 * expected.max())


@pytest.mark.parametrize(
    "X, labels, error, message",
    [
        (np.ones((3, 2)), [1, 2], ValueError, r"labels has 2 entries but X has 3 instances\. Give one label per instance"),
        (np.array([[1.0, np.nan], [1.0, 2.0]]), [0, 1], ValueError, r"NaN or infinite values in rows 0\. Remove or impute"),
        (np.array([[np.inf, 1.0], [1.0, 2.0]]), [0, 1], ValueError, r"NaN or infinite values in rows 0\. Remove or impute"),
        (np.zeros((2, 3)), [0, 1], ValueError, r"all-zero rows 0, 1: they cannot be normalized"),
        (np.array(["a", "b"]), [0, 1], TypeError, r"X must hold real numbers; got dtype <U1\. Convert it"),
        (np.ones((2, 0)), [0, 1], ValueError, r"instances of size 0 \(shape \(2, 0\)\)\. Each instance needs"),
        ([[1.0, 2.0], [3.0]], [0, 1], ValueError, r"not be read as a rectangular array .* Give every instance the same shape"),
        (np.eye(4), np.array([0, "a", 0, "a"], dtype=object), TypeError, r"labels mix types that cannot be sorted"),
        (np.eye(4), [0, None, 0, 1], ValueError, r"labels are missing \(None, NaN, NA or NaT\) in rows 1\."),
        (np.array([1 + 2j, 3 + 0j]), [0, 1], TypeError, r"X must hold real numbers; got dtype complex128"),
    ],
)
def test_bad_inputs_get_clear_errors(X, labels, error, message):
    """Each bad input gets its own one-line error: what is wrong, the rows, what to change."""
    with pytest.raises(error, match=message) as info:
        cg.score(X, labels)
    assert type(info.value) is error and "\n" not in str(info.value)
