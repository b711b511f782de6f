"""Duplicates after normalization are detected up front and handled by a documented policy."""

from __future__ import annotations

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import DuplicateRowsError, DuplicatesWarning, SingularGramError, _core


@pytest.fixture
def data_with_copies(rng):
    X = rng.normal(size=(20, 5))
    X[7] = 3.0 * X[2]  # a positive multiple: equal after normalization
    X[15] = X[4]  # an exact copy
    labels = np.repeat([0, 1], 10)  # rows 2 and 7 share label 0; rows 4 and 15 conflict
    return X, labels


def test_raise_policy_lists_the_groups(data_with_copies):
    X, labels = data_with_copies
    with pytest.raises(DuplicateRowsError, match=r"rows 2, 7; 4, 15.*1 of them with conflicting labels") as info:
        cg.score(X, labels, duplicates="raise")
    assert info.value.groups == [(2, 7), (4, 15)]


def test_ridge_policy_warns_and_reports_findings(data_with_copies):
    X, labels = data_with_copies
    with pytest.warns(DuplicatesWarning, match="ridge 1e-06"):
        result = cg.score(X, labels, seed=0)
    assert [g.tolist() for g in result.duplicate_groups] == [[2, 7], [4, 15]]
    assert [g.tolist() for g in result.conflicting_groups] == [[4, 15]]
    assert result.ridge == 1e-6
    assert np.all(np.isfinite(result.scores)) and np.all(result.scores >= 0)
    # A conflicting copy is the most suspicious instance; a same-label copy is redundant.
    top_two = set(result.ranking()[:2].tolist())
    assert top_two == {4, 15}
    assert result.scores[2] < np.median(result.scores) and result.scores[7] < np.median(result.scores)


def test_ridge_policy_equals_explicit_ridge(data_with_copies):
    X, labels = data_with_copies
    from reference import ntk_gram

    with pytest.warns(DuplicatesWarning):
        scores = cg.cg_score_binary(X, np.where(labels == 0, 1.0, -1.0), ridge=1e-3)
    H = ntk_gram(X) + 1e-3 * np.eye(20)
    Hinv = np.linalg.inv(H)
    y = np.where(labels == 0, 1.0, -1.0)
    np.testing.assert_allclose(scores, (Hinv @ y) ** 2 / np.diag(Hinv), rtol=1e-8)


def test_no_duplicates_means_no_ridge(rng):
    X = rng.normal(size=(20, 5))
    result = cg.score(X, np.repeat([0, 1], 10))
    assert result.ridge == 0.0 and result.duplicate_groups == []


def test_bad_policy_name(data_with_copies):
    with pytest.raises(ValueError, match="duplicates must be 'ridge' or 'raise'"):
        cg.score(*data_with_copies, duplicates="ignore")


def test_kernel_names_the_singular_pivot(rng):
    X = rng.normal(size=(10, 4))
    X[6] = X[1]
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    # A copy's cosine may round to 1 − 1e-16, but its H entry is taken from the rows'
    # difference (zero), so it is exactly ½ and the pivot exactly singular.
    with pytest.raises(SingularGramError, match="failed at pivot 6") as info:
        _core.score_binary(Xn, np.ones((10, 1), order="F"))
    assert info.value.pivot_index == 6 and abs(info.value.pivot_value) < 1e-15


def test_near_duplicates_are_reported_as_ill_conditioned(rng):
    X = rng.normal(size=(30, 6))
    X[20] = X[3] * (1 + 1e-7 * rng.normal(size=6))  # not equal, but almost
    labels = np.repeat([0, 1], 15)
    clean = cg.score(np.delete(X, 20, axis=0), np.delete(labels, 20), seed=0)
    near = cg.score(X, labels, seed=0)
    assert near.duplicate_groups == []
    assert min(p.min_pivot for p in near.problems) < 1e-6 * min(p.min_pivot for p in clean.problems)
    assert near.worst_condition_estimate > 1e4 * clean.worst_condition_estimate
    assert any(p.min_pivot_row in (3, 20) for p in near.problems)


def test_singular_error_is_reported_in_user_rows(rng):
    from cgscore_native._kernel import singular_error_in_rows
    from cgscore_native._prepare import UnitRows

    X = rng.normal(size=(8, 3))
    X[5] = X[2] * (1 + 1e-13)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    rows = np.array([10, 11, 12, 13])  # the problem's rows in the user's data
    Xfull = np.zeros((14, 3))
    Xfull[10:14] = Xn[[0, 2, 4, 5]]
    kernel_error = SingularGramError("pivot failed", pivot_index=3, pivot_value=1e-17)
    error = singular_error_in_rows(kernel_error, UnitRows(Xfull, np.ones(14)), rows, what="the problem of class 'a' (repeat 0)")
    assert error.rows == (11, 13)
    assert "at row 13" in str(error) and "with row 11" in str(error) and "ridge" in str(error)
