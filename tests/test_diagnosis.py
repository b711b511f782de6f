"""diagnose: the leave-one-out identity against brute force, the multi-class CG sum, flags and
suggestions on constructed data, chunked mode, determinism and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import _core
from cgscore_native._loo import fit_rows, margins, ntk_cross_gram, predict_rows, signed_targets
from cgscore_native._plan import stratified_chunks
from cgscore_native._prepare import prepare_features
from cgscore_native._ridge_search import RIDGE_GRID, search_grid


def _blobs(n_per: int, K: int, d: int, seed: int, spread: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(K, d)) * 2
    X = np.concatenate([c + spread * rng.normal(size=(n_per, d)) for c in centers])
    y = np.repeat(np.arange(K), n_per)
    return X, y


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _brute_loo(X, codes, K, ridge):
    """Refit without row i (solve the smaller system), predict x_i, for every i."""
    H = _core.ntk_gram(np.ascontiguousarray(_unit(X)))
    Y = signed_targets(codes, K)
    n = len(codes)
    F = np.empty((n, K))
    for i in range(n):
        keep = np.delete(np.arange(n), i)
        coef = np.linalg.solve(H[np.ix_(keep, keep)] + ridge * np.eye(n - 1), Y[keep])
        F[i] = H[i, keep] @ coef
    return F


@pytest.mark.parametrize("ridge", [0.0, 0.1, 3.0])
def test_loo_identity_matches_refitting_without_each_row(ridge):
    X, y = _blobs(12, 3, 6, seed=1, spread=0.8)
    data, _ = prepare_features(np.ascontiguousarray(X))
    fit = fit_rows(data, np.arange(len(y)), y, 3, ridge, 1)
    brute = _brute_loo(X, y, 3, ridge)
    scale = np.abs(brute).max()
    assert np.max(np.abs(fit.loo - brute)) <= 1e-9 * max(scale, 1.0)


def test_loo_identity_on_a_subset_of_rows():
    X, y = _blobs(10, 4, 5, seed=2, spread=1.0)
    rows = np.arange(3, 37, 2)
    data, _ = prepare_features(np.ascontiguousarray(X))
    fit = fit_rows(data, rows, y, 4, 0.5, 1)
    brute = _brute_loo(X[rows], y[rows], 4, 0.5)
    assert np.allclose(fit.loo, brute, rtol=0, atol=1e-10)


def test_multiclass_cg_is_the_sum_of_the_one_vs_rest_scores():
    X, y = _blobs(15, 4, 7, seed=3, spread=0.9)
    data, _ = prepare_features(np.ascontiguousarray(X))
    fit = fit_rows(data, np.arange(len(y)), y, 4, 0.0, 1)
    one_vs_rest = sum(cg.cg_score_binary(X, np.where(y == k, 1.0, -1.0)) for k in range(4))
    assert np.allclose(fit.cg, one_vs_rest, rtol=1e-10, atol=0)
    d = cg.diagnose(X, y, ridge=1.0)
    assert np.allclose(d.cg_score, one_vs_rest, rtol=1e-10, atol=0)  # cg_score ignores the ridge


def test_prediction_of_rows_outside_the_fit_is_the_kernel_times_alpha():
    X, y = _blobs(10, 3, 5, seed=4, spread=1.0)
    data, _ = prepare_features(np.ascontiguousarray(X))
    inside, outside = np.arange(0, 30, 2), np.arange(1, 30, 2)
    fit = fit_rows(data, inside, y, 3, 0.2, 1)
    H = _core.ntk_gram(np.ascontiguousarray(_unit(X)))
    coef = np.linalg.solve(H[np.ix_(inside, inside)] + 0.2 * np.eye(inside.size), signed_targets(y[inside], 3))
    assert np.allclose(predict_rows(data, outside, fit), H[np.ix_(outside, inside)] @ coef, rtol=0, atol=1e-10)


def test_cross_gram_matches_the_native_gram_including_near_parallel_pairs():
    rng = np.random.default_rng(5)
    A = _unit(rng.normal(size=(20, 8)))
    B = np.concatenate([A[:5] + 1e-9 * rng.normal(size=(5, 8)), -A[5:8] + 1e-7 * rng.normal(size=(3, 8)),
                        rng.normal(size=(10, 8))])
    B = _unit(B)
    both = np.ascontiguousarray(np.concatenate([A, B]))
    H = _core.ntk_gram(both, backend="eigen")[:20, 20:]
    assert np.max(np.abs(ntk_cross_gram(A, B) - H)) < 1e-13


def test_margin_and_suggestion():
    F = np.array([[0.9, -0.8, -0.1], [0.2, 0.5, -1.0], [0.3, 0.3, 0.0]])
    m, s = margins(F, np.array([0, 0, 1]))
    assert np.allclose(m, [-1.0, 0.3, 0.0])
    assert list(s) == [0, 1, 1]  # a tie keeps the given class


def test_flags_and_suggestions_find_flipped_labels():
    X, y = _blobs(40, 4, 10, seed=6)
    given = y.copy()
    flipped = np.array([3, 50, 90, 130, 150])
    given[flipped] = (y[flipped] + 1) % 4
    d = cg.diagnose(X, given)
    assert set(np.flatnonzero(d.is_label_issue)) == set(flipped)
    assert np.array_equal(d.suggested_label[flipped], y[flipped])
    assert set(np.argsort(-d.suspicion)[:5]) == set(flipped)
    assert d.estimated_noise_rate == pytest.approx(5 / 160)
    assert d.margin_by_round.shape == (2, 160)
    assert np.array_equal(d.suspicion, d.margin_by_round[-1])


def test_labels_keep_their_type_and_the_frame():
    X, y = _blobs(15, 3, 6, seed=7)
    names = np.array(["cat", "dog", "eel"])[y]
    names[4] = "eel"
    d = cg.diagnose(X, list(names), predictions=True)
    assert d.suggested_label.dtype.kind == "U" and d.suggested_label[4] == "cat"
    assert list(d.classes) == ["cat", "dog", "eel"]
    assert d.loo_predictions.shape == (45, 3)
    assert np.array_equal(d.classes[np.argmax(d.loo_predictions, axis=1)], d.suggested_label)
    frame = d.to_frame()
    assert list(frame.columns) == ["index", "given_label", "suggested_label", "suspicion", "is_label_issue", "rank",
                                  "multiclass_cg_score"]
    assert frame.loc[frame["rank"] == 1, "index"].item() == 4


def test_ridge_auto_picks_the_least_loo_squared_error_of_the_grid():
    X, y = _blobs(20, 3, 6, seed=8, spread=1.2)
    d = cg.diagnose(X, y, rounds=0, ridge_search="grid")
    assert set(d.ridge_scores) == set(RIDGE_GRID)
    assert d.ridge == min(d.ridge_scores, key=d.ridge_scores.get)
    data, _ = prepare_features(np.ascontiguousarray(X))
    for lam in (0.0, 1.0):
        fit = fit_rows(data, np.arange(60), y, 3, lam, 1)
        assert d.ridge_scores[lam] == pytest.approx(np.mean((fit.loo - signed_targets(y, 3)) ** 2), rel=1e-12)
    fixed = cg.diagnose(X, y, rounds=0, ridge=d.ridge)
    assert np.array_equal(fixed.suspicion, d.suspicion)
    assert fixed.ridge_scores == {}
    climb = cg.diagnose(X, y, rounds=0)
    assert climb.ridge_scores.items() <= d.ridge_scores.items()
    assert climb.ridge_scores[climb.ridge] == min(climb.ridge_scores.values())


@pytest.mark.parametrize("peak", range(7))
def test_the_climb_finds_the_peak_of_a_unimodal_score(peak):
    grid = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
    calls = []

    def score(lam):
        calls.append(lam)
        return -abs(grid.index(lam) - peak)

    seen = search_grid(grid, score)
    assert max(seen, key=seen.get) == grid[peak]
    assert len(calls) == len(set(calls)) <= abs(peak - 3) + 3


def test_the_climb_prefers_the_larger_ridge_on_ties_and_skips_singular_points():
    grid = [0.0, 0.01, 0.1, 1.0, 10.0]
    seen = search_grid(grid, lambda lam: {0.0: None, 0.01: 5, 0.1: 7, 1.0: 7, 10.0: 6}[lam])
    assert max((v for v in seen if seen[v] is not None), key=lambda v: (seen[v], v)) == 1.0
    seen = search_grid(grid, lambda lam: None if lam < 1 else 3)
    assert seen[10.0] == 3


def test_rounds_set_aside_the_top_rows_and_predict_them():
    X, y = _blobs(25, 3, 6, seed=9, spread=1.0)
    d = cg.diagnose(X, y, rounds=2, set_aside=0.2, ridge=0.1)
    assert d.margin_by_round.shape == (3, 75)
    assert [a.size for a in d.set_aside] == [15, 15]
    first = np.sort(np.argsort(-d.margin_by_round[0], kind="stable")[:15])
    assert np.array_equal(d.set_aside[0], first)
    # Round 1 by hand: fit on the kept rows, LOO for them, prediction for the others.
    data, _ = prepare_features(np.ascontiguousarray(X))
    keep = np.setdiff1d(np.arange(75), first)
    fit = fit_rows(data, keep, y, 3, 0.1, 1)
    F = np.empty((75, 3))
    F[keep] = fit.loo
    F[first] = predict_rows(data, first, fit)
    assert np.allclose(margins(F, y)[0], d.margin_by_round[1], rtol=0, atol=1e-12)


def test_bit_identical_for_any_thread_count():
    X, y = _blobs(300, 3, 20, seed=10, spread=1.5)  # above the kernel's serial threshold
    one = cg.diagnose(X, y, n_threads=1, predictions=True)
    two = cg.diagnose(X, y, n_threads=2, predictions=True)
    assert np.array_equal(one.suspicion, two.suspicion)
    assert np.array_equal(one.loo_predictions, two.loo_predictions)
    assert np.array_equal(one.cg_score, two.cg_score)


def test_chunked_mode_is_seeded_stratified_and_close_to_whole_data():
    X, y = _blobs(60, 3, 8, seed=11, spread=0.6)
    given = y.copy()
    flipped = np.arange(0, 180, 12)
    given[flipped] = (y[flipped] + 1) % 3
    whole = cg.diagnose(X, given)
    a = cg.diagnose(X, given, chunk_size=60, seed=3)
    b = cg.diagnose(X, given, chunk_size=60, seed=3)
    assert np.array_equal(a.suspicion, b.suspicion)
    assert a.params["chunk_size"] == 60 and a.params["repeats"] == 3
    assert set(np.flatnonzero(a.is_label_issue)) == set(flipped) == set(np.flatnonzero(whole.is_label_issue))
    assert np.array_equal(a.is_label_issue, a.suggested_label != given)
    assert np.array_equal(a.suspicion, a.margin_by_round[-1])
    other = cg.diagnose(X, given, chunk_size=60, seed=4)
    assert not np.array_equal(other.suspicion, a.suspicion)  # the seed picks the chunks
    chunks = stratified_chunks(given, 3, 60, np.random.default_rng(0))
    assert len(chunks) == 3 and all(np.unique(given[c]).size == 3 for c in chunks)
    assert np.array_equal(np.sort(np.concatenate(chunks)), np.arange(180))


def test_duplicates_replace_ridge_zero_and_warn():
    X, y = _blobs(10, 2, 5, seed=12)
    X = np.concatenate([X, X[:2]])
    y = np.concatenate([y, y[:2]])
    with pytest.warns(cg.DuplicatesWarning, match="ridge 0 is replaced"):
        d = cg.diagnose(X, y)
    assert 0.0 not in d.ridge_scores and d.cg_ridge == 1e-6
    assert np.all(np.isfinite(d.cg_score))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"ridge": -1.0}, ValueError, "ridge must be"),
        ({"ridge": "big"}, ValueError, "ridge must be"),
        ({"rounds": -1}, ValueError, "rounds must be"),
        ({"set_aside": 1.0}, ValueError, "set_aside must be"),
        ({"chunk_size": 1}, ValueError, "chunk_size must be"),
        ({"n_threads": 0}, ValueError, "n_threads must be"),
        ({"client": object()}, TypeError, "client must be a dask.distributed.Client"),
        ({"memory_limit": "1KiB", "chunk_size": 20}, cg.MemoryBudgetError, "GiB"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    X, y = _blobs(15, 2, 4, seed=13)
    with pytest.raises(error, match=match):
        cg.diagnose(X, y, **kwargs)


def test_bad_input_is_refused_as_score_does():
    X, y = _blobs(10, 2, 4, seed=14)
    X[3] = np.nan
    with pytest.raises(ValueError, match="rows 3"):
        cg.diagnose(X, y)
    with pytest.raises(ValueError, match="at least 2"):
        cg.diagnose(X[4:], np.zeros(16))
    with pytest.raises(ValueError, match="labels has 3 entries"):
        cg.diagnose(X[4:], [0, 1, 0])


def test_chunks_too_small_for_a_class_are_refused():
    X, y = _blobs(15, 2, 4, seed=16)
    y[:13] = 1  # class 0 keeps 2 rows: at most 2 chunks
    with pytest.raises(ValueError, match=r"chunk_size=10: 3 chunks, so class 0 \(2 rows\) gets 0 row\(s\) per chunk"):
        cg.diagnose(X, y, chunk_size=10)


def test_no_warnings_on_clean_data():
    X, y = _blobs(10, 2, 4, seed=15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cg.diagnose(X, y, progress=True)


def test_the_memory_planner_chooses_chunks_when_the_whole_problem_does_not_fit():
    import os

    from cgscore_native._memory import diagnosis_plan_bytes, run_peak_bytes
    from cgscore_native.diagnosis import DEFAULT_ROUNDS, RIDGE_GRID

    X, y = _blobs(60, 3, 8, seed=17)
    predictions = diagnosis_plan_bytes(180, 3, 3, DEFAULT_ROUNDS, len(RIDGE_GRID))  # 3 partitions
    limit = run_peak_bytes(180, 8, 100, 3, os.cpu_count() or 1) + predictions
    d = cg.diagnose(X, y, memory_limit=limit, seed=1, mode="exact")
    assert d.mode == "chunked" and d.params["chunk_size"] == 100 and d.params["repeats"] == 3
    assert cg.diagnose(X, y).params["chunk_size"] is None
    # mode="auto" prefers the large mode's cells of nearby rows, which fit here, to random chunks
    assert cg.diagnose(X, y, memory_limit=limit, seed=1).mode == "large"


def test_a_singular_ridge_zero_is_skipped_and_cg_score_falls_back(monkeypatch):
    """Near-copies that the duplicate check misses make λ = 0 singular: the grid drops it and
    cg_score uses the duplicate ridge, with a warning."""
    from cgscore_native import _loo
    from cgscore_native.errors import SingularGramError

    real = _loo.run_kernel

    def singular_at_zero(data, Y, options, first_scored=0):
        if options.ridge == 0:
            raise SingularGramError("singular", pivot_index=1, pivot_value=0.0)
        return real(data, Y, options, first_scored)

    monkeypatch.setattr(_loo, "run_kernel", singular_at_zero)
    X, y = _blobs(10, 2, 5, seed=18)
    with pytest.warns(cg.DuplicatesWarning, match="cg_score uses ridge 1e-06"):
        d = cg.diagnose(X, y, ridge_search="grid")
    assert 0.0 not in d.ridge_scores and d.cg_ridge == 1e-6 and np.all(np.isfinite(d.cg_score))
    with pytest.raises(SingularGramError, match="singular to working precision"):
        cg.diagnose(X, y, ridge=0.0)


def _same(a, b):
    for name in ("suspicion", "suggested_label", "is_label_issue", "cg_score", "margin_by_round"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.ridge == b.ridge and a.ridge_scores == b.ridge_scores and a.params == b.params


@pytest.mark.parametrize("args", [dict(), dict(seed=3, chunk_size=40, repeats=2)])
def test_a_checkpoint_resumes_to_the_identical_result_and_refits_only_what_is_missing(tmp_path, monkeypatch, args):
    from cgscore_native import _loo

    X, y = _blobs(30, 3, 6, seed=21)
    y[::7] = (y[::7] + 1) % 3
    expected = cg.diagnose(X, y, **args)
    _same(cg.diagnose(X, y, **args, checkpoint=tmp_path), expected)
    files = sorted(tmp_path.glob("*.npz"))
    assert len(files) >= 3  # the λ climb, the CG-score at λ = 0 and the cleaning round
    for f in files[::2]:
        f.unlink()

    fits = []
    real = _loo.fit_rows
    monkeypatch.setattr(_loo, "fit_rows", lambda *a, **k: fits.append(1) or real(*a, **k))
    _same(cg.diagnose(X, y, **args, checkpoint=tmp_path), expected)
    assert len(fits) == len(files[::2])  # only the deleted tasks were refitted
    assert sorted(tmp_path.glob("*.npz")) == files
    fits.clear()
    _same(cg.diagnose(X, y, **args, checkpoint=tmp_path), expected)
    assert fits == []


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    X, y = _blobs(20, 2, 4, seed=22)
    cg.diagnose(X, y, checkpoint=tmp_path)
    with pytest.raises(cg.CheckpointMismatchError, match="rounds: checkpoint 1, now 2"):
        cg.diagnose(X, y, rounds=2, checkpoint=tmp_path)
    with pytest.raises(cg.CheckpointMismatchError, match="labels"):
        cg.diagnose(X, y[::-1], checkpoint=tmp_path)
    with pytest.raises(cg.CheckpointMismatchError, match="run: checkpoint None, now 'diagnose'"):
        cg.score(X, y, seed=1, checkpoint=tmp_path / "score")
        cg.diagnose(X, y, checkpoint=tmp_path / "score")


@pytest.mark.parametrize("backend", ["blas", "eigen"])
def test_the_kernel_skips_the_condition_estimate_on_request_and_nothing_else_changes(backend):
    X, y = _blobs(40, 3, 6, seed=23)
    data, _ = prepare_features(X)
    Y = signed_targets(y, 3)
    args = dict(row_scale=data.scale, backend=backend)
    from cgscore_native._blas import ensure_blas

    if backend == "blas" and not ensure_blas():
        pytest.skip("no BLAS library found")
    on = _core.score_binary(data.X, Y, 0.05, -1.0, False, 1, **args)
    off = _core.score_binary(data.X, Y, 0.05, -1.0, False, 1, condition_estimate=False, **args)
    assert np.isfinite(on["condition_estimate"]) and on["condition_estimate"] > 1
    assert off["condition_estimate"] == np.inf
    for key in ("alpha", "inverse_diagonal", "scores"):
        np.testing.assert_allclose(off[key], on[key], rtol=1e-13, atol=1e-13)
