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
    from cgscore_native._duplicates import singular_error_in_rows
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


def straddling_pair(rng, d=8):
    """Two rows 1 ulp apart whose normalized entry 0 lies on either side of a rounding
    boundary of the 2^-30 grid: the native hash puts them in different cells."""
    x = rng.normal(size=d)
    for _ in range(20):
        s = _core.prepare_rows(x[None, :], 1)["scale"][0]
        x[0] = (np.floor(x[0] * s * _core.DUPLICATE_GRID) + 0.5) / _core.DUPLICATE_GRID / s
        for k in range(-64, 64):
            a = x.copy()
            a[0] += k * np.spacing(x[0])
            b = a.copy()
            b[0] = np.nextafter(a[0], np.inf)
            hashes = _core.prepare_rows(np.stack([a, b]), 1)["hash"]
            if hashes[0] != hashes[1]:
                return a, b
    raise AssertionError("no straddling pair found")


@pytest.fixture
def straddling_data(rng):
    a, b = straddling_pair(rng)
    X = np.vstack([rng.normal(size=(30, 8)), a, b])
    labels = np.r_[np.repeat([0, 1], 15), 0, 0]
    return X, labels


def test_rows_one_ulp_apart_across_a_grid_boundary_are_duplicates(straddling_data):
    X, labels = straddling_data
    with pytest.warns(DuplicatesWarning, match="rows 30, 31"):
        result = cg.score(X, labels, seed=0)
    assert [g.tolist() for g in result.duplicate_groups] == [[30, 31]]
    assert result.ridge == 1e-6 and np.all(np.isfinite(result.scores))
    with pytest.raises(DuplicateRowsError) as info:
        cg.score(X, labels, seed=0, duplicates="raise")
    assert info.value.groups == [(30, 31)]


def escaping_detection(monkeypatch):
    """Duplicates that the grid check misses (as any finite grid can): found only by the factorization."""
    from cgscore_native import _prepare

    monkeypatch.setattr(_prepare, "duplicate_groups", lambda data, hashes: [])


def test_a_failed_factorization_under_the_ridge_policy_is_a_duplicate_finding(straddling_data, monkeypatch):
    X, labels = straddling_data
    expected_scores = None
    with pytest.warns(DuplicatesWarning):
        expected_scores = cg.score(X, labels, seed=0).scores  # found up front: every problem gets the ridge
    escaping_detection(monkeypatch)
    with pytest.warns(DuplicatesWarning, match=r"rows 30 and 31 .*ridge 1e-06"):
        result = cg.score(X, labels, seed=0)
    assert [g.tolist() for g in result.duplicate_groups] == [[30, 31]]
    assert result.ridge == 1e-6
    by_label = {p.label: p.ridge for p in result.problems}
    assert by_label == {0: 1e-6, 1: 0.0}  # only the failed problem is retried with the ridge
    # The retried problem (class 0, holding the pair) scores as with the ridge found up front.
    rows = np.flatnonzero(labels == 0)
    np.testing.assert_array_equal(result.scores[rows], expected_scores[rows])


def test_a_failed_factorization_under_the_raise_policy_is_a_duplicate_error(straddling_data, monkeypatch):
    escaping_detection(monkeypatch)
    with pytest.raises(DuplicateRowsError, match="rows 30 and 31") as info:
        cg.score(*straddling_data, seed=0, duplicates="raise")
    assert info.value.groups == [(30, 31)]


def test_an_explicit_ridge_is_always_used(rng):
    from reference import ntk_gram

    X = rng.normal(size=(20, 5))
    y = np.repeat([1.0, -1.0], 10)
    scores = cg.cg_score_binary(X, y, ridge=1e-2)  # no duplicates: the ridge is still applied
    Hinv = np.linalg.inv(ntk_gram(X) + 1e-2 * np.eye(20))
    np.testing.assert_allclose(scores, (Hinv @ y) ** 2 / np.diag(Hinv), rtol=1e-10)
    result = cg.score(X, np.repeat([0, 1], 10), seed=0, ridge=1e-2)
    assert result.ridge == 1e-2 and result.params["ridge"] == 1e-2
    assert {p.ridge for p in result.problems} == {1e-2}
    assert cg.score(X, np.repeat([0, 1], 10), seed=0).params["ridge"] is None


def test_the_cli_takes_a_ridge(tmp_path, rng):
    import pandas as pd

    from _cli_support import run_cli

    X = rng.normal(size=(20, 5))
    np.savez(tmp_path / "d.npz", X=X, y=np.repeat([0, 1], 10))
    proc = run_cli("score", tmp_path / "d.npz", "-o", tmp_path / "s.csv", "--seed", "0", "--ridge", "0.01", "--quiet")
    assert proc.returncode == 0, proc.stderr
    written = pd.read_csv(tmp_path / "s.csv")["cg_score"].to_numpy()
    np.testing.assert_allclose(written, cg.cg_score(X, np.repeat([0, 1], 10), seed=0, ridge=1e-2), rtol=1e-12)


def test_a_retried_problem_resumes_from_a_checkpoint_with_its_finding(straddling_data, monkeypatch, tmp_path):
    escaping_detection(monkeypatch)
    with pytest.warns(DuplicatesWarning, match="rows 30 and 31"):
        first = cg.score(*straddling_data, seed=0, checkpoint=tmp_path / "ck")
    with pytest.warns(DuplicatesWarning, match="rows 30 and 31"):
        resumed = cg.score(*straddling_data, seed=0, checkpoint=tmp_path / "ck")
    np.testing.assert_array_equal(resumed.scores, first.scores)
    assert resumed.problems == first.problems and resumed.ridge == first.ridge == 1e-6
    assert [g.tolist() for g in resumed.duplicate_groups] == [[30, 31]]
