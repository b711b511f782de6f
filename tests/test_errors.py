"""Bad input gets a clear error that says what to change and names the rows (docs/architecture.md, "Bad input")."""

from __future__ import annotations

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import MemoryBudgetError


@pytest.fixture
def data(rng):
    return rng.normal(size=(12, 4)), np.repeat([0, 1], 6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rows_are_named(data, bad):
    X, labels = data
    X[3, 1] = bad
    X[7, 0] = bad
    with pytest.raises(ValueError, match=r"NaN or infinite values in rows 3, 7\."):
        cg.cg_score(X, labels)


def test_zero_rows_are_named(data):
    X, labels = data
    X[[2, 9]] = 0.0
    with pytest.raises(ValueError, match=r"all-zero rows 2, 9"):
        cg.cg_score(X, labels)


def test_binary_api_names_bad_rows_too(data):
    X, _ = data
    X[5] = 0
    with pytest.raises(ValueError, match="rows 5"):
        cg.cg_score_binary(X, np.ones(12))


def test_long_row_lists_are_abbreviated(rng):
    X = rng.normal(size=(40, 3))
    X[:25] = np.nan
    with pytest.raises(ValueError, match=r"rows 0, 1, .*9, \.\.\. \(25 rows\)"):
        cg.cg_score(X, np.repeat([0, 1], 20))


def test_label_length_mismatch(data):
    X, labels = data
    with pytest.raises(ValueError, match="labels has 11 entries but X has 12 instances"):
        cg.cg_score(X, labels[:-1])


def test_fewer_than_two_classes(data):
    X, _ = data
    with pytest.raises(ValueError, match="at least 2 are needed"):
        cg.cg_score(X, ["a"] * 12)


@pytest.mark.parametrize("ratio", [0, -1.0, np.nan])
def test_bad_ratio(data, ratio):
    with pytest.raises(ValueError, match="ratio must be a positive number"):
        cg.cg_score(*data, ratio=ratio)


@pytest.mark.parametrize("repeats", [0, 1.5, True])
def test_bad_repeats(data, repeats):
    with pytest.raises(ValueError, match="repeats must be a whole number"):
        cg.cg_score(*data, repeats=repeats)


@pytest.mark.parametrize("n_threads", [0, -2, 1.5])
def test_bad_thread_count(data, n_threads):
    with pytest.raises(ValueError, match="n_threads must be a whole number >= 1 or None"):
        cg.cg_score(*data, n_threads=n_threads)


@pytest.mark.parametrize("seed", [-1, 1.5, "abc"])
def test_bad_seed(data, seed):
    with pytest.raises(ValueError, match=f"seed must be a non-negative whole number or None; got {seed!r}"):
        cg.cg_score(*data, seed=seed)


def test_empty_input():
    with pytest.raises(ValueError, match="X is empty"):
        cg.cg_score(np.zeros((0, 3)), [])


def test_ragged_rows():
    with pytest.raises(ValueError, match=r"X could not be read as a rectangular array .*Give every instance the same shape\."):
        cg.cg_score([[1.0, 2.0], [3.0]], [0, 1])


def test_object_array():
    X = np.array([[1.0, "a"], [2.0, "b"]], dtype=object)
    with pytest.raises(TypeError, match="object array"):
        cg.cg_score(X, [0, 1])


def test_string_features():
    with pytest.raises(TypeError, match="real numbers"):
        cg.cg_score(np.array([["a", "b"], ["c", "d"]]), [0, 1])


def test_unsortable_mixed_labels(data):
    X, _ = data
    with pytest.raises(TypeError, match="labels mix types"):
        cg.cg_score(X, np.array([1, "a"] * 6, dtype=object))


def test_missing_labels_are_named(data):
    X, _ = data
    labels = np.array([0.0, 1.0] * 6)
    labels[4] = np.nan
    with pytest.raises(ValueError, match=r"missing .*rows 4\b"):
        cg.cg_score(X, labels)


def test_binary_labels_must_be_signs(data):
    X, _ = data
    y = np.ones(12)
    y[[1, 8]] = 0
    with pytest.raises(ValueError, match=r"rows 1, 8 hold other values"):
        cg.cg_score_binary(X, y)


def test_memory_budget_refuses_before_allocating(data):
    with pytest.raises(MemoryBudgetError, match=r"needs 0\.00 GiB.*chunked mode") as info:
        cg.score(*data, memory_limit=100)
    assert info.value.required_bytes > 100


def test_too_large_problem_refused_against_available_memory(monkeypatch, rng):
    from cgscore_native import _memory

    monkeypatch.setattr(_memory, "available_memory_bytes", lambda: 1024**3)
    X = rng.normal(size=(20000, 8)).astype(np.int64)
    # int64 rows are converted: the float64 copy (1.2 MiB) is counted and named
    expected = r"needs 1\.\d+ GiB \(including a copy of X .*\) but available memory is 1\.00 GiB"
    with pytest.raises(MemoryBudgetError, match=expected):
        cg.cg_score_binary(X, np.ones(20000))


@pytest.mark.parametrize(
    "missing",
    [np.nan, None, float("nan")],
    ids=["np.nan", "None", "float-nan"],
)
def test_missing_labels_in_object_arrays_are_named(data, missing):
    # An object column with one missing value must not become a class of its own.
    X, _ = data
    labels = np.array(["a", "b"] * 6, dtype=object)
    labels[5] = missing
    with pytest.raises(ValueError, match=r"missing .*rows 5\b"):
        cg.cg_score(X, labels)


def test_missing_labels_of_pandas_columns_are_named(data):
    pd = pytest.importorskip("pandas")
    X, _ = data
    text = pd.Series(["a", "b"] * 6, dtype=object)
    text[3] = np.nan
    with pytest.raises(ValueError, match=r"missing .*rows 3\b"):
        cg.cg_score(X, text)
    nullable = pd.array([0, 1] * 6, dtype="Int64")
    nullable[7] = pd.NA
    with pytest.raises(ValueError, match=r"missing .*rows 7\b"):
        cg.cg_score(X, pd.Series(nullable))
    dates = pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"] * 6))
    dates[2] = pd.NaT
    with pytest.raises(ValueError, match=r"missing .*rows 2\b"):
        cg.cg_score(X, dates)
    strings = pd.Series(["a", "b"] * 6, dtype="string")
    strings[9] = pd.NA
    with pytest.raises(ValueError, match=r"missing .*rows 9\b"):
        cg.cg_score(X, strings)


def test_a_feature_passed_as_labels_is_refused(rng):
    X = rng.normal(size=(40, 3))
    with pytest.raises(ValueError, match="distinct non-integer"):
        cg.cg_score(X, X[:, 0])
    # Integer-valued floats and a few repeated float values are labels.
    assert cg.cg_score(X, np.repeat([0.0, 1.0], 20), seed=0).shape == (40,)
    assert cg.cg_score(X, np.repeat([0.5, 1.5], 20), seed=0).shape == (40,)
