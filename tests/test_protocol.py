"""The class-wise protocol (docs/math.md, "The class-wise protocol") against an independent NumPy implementation."""

from __future__ import annotations

import numpy as np
import pytest

import cgscore_native as cg
from reference import protocol_seed_free


def three_string_classes(rng, sizes=(10, 12, 15), d=9):
    labels = np.repeat(np.array(["cat", "ant", "bee"]), sizes)
    X = rng.normal(size=(len(labels), d)) + 0.3 * np.repeat(rng.normal(size=(3, d)), sizes, axis=0)
    perm = rng.permutation(len(labels))
    return X[perm], labels[perm]


def test_seed_free_case_matches_reference_with_strings_and_three_classes(rng):
    X, labels = three_string_classes(rng)
    # floor(|P|·ratio) >= |O| for every class: all other rows are the negatives.
    scores = cg.cg_score(X, labels, ratio=5.0)
    np.testing.assert_allclose(scores, protocol_seed_free(X, labels, ratio=5.0), rtol=1e-10)


def test_two_balanced_classes_with_ratio_one_need_no_seed(rng):
    X = rng.normal(size=(40, 6))
    labels = ["yes"] * 20 + ["no"] * 20
    expected = protocol_seed_free(X, labels)
    np.testing.assert_allclose(cg.cg_score(X, labels, seed=1), expected, rtol=1e-10)
    np.testing.assert_array_equal(cg.cg_score(X, labels, seed=1), cg.cg_score(X, labels, seed=99))


def test_negative_counts_follow_the_ratio(rng):
    X, labels = three_string_classes(rng, sizes=(10, 12, 15))
    result = cg.score(X, labels, ratio=0.55, seed=3)
    by_label = {p.label: p for p in result.problems}
    # classes in sorted order: ant (12), bee (15), cat (10); m = min(floor(|P|·0.55), |O|)
    assert [p.label for p in result.problems] == ["ant", "bee", "cat"]
    assert by_label["ant"].n_negatives == 6
    assert by_label["bee"].n_negatives == 8
    assert by_label["cat"].n_negatives == 5
    assert by_label["cat"].n_positives == 10


def test_seeded_sampling_is_reproducible_and_seed_dependent(rng):
    X, labels = three_string_classes(rng)
    a = cg.cg_score(X, labels, seed=7)
    np.testing.assert_array_equal(a, cg.cg_score(X, labels, seed=7))
    assert not np.array_equal(a, cg.cg_score(X, labels, seed=8))


def test_seed_none_records_the_entropy_that_reproduces_the_run(rng):
    X, labels = three_string_classes(rng)
    first = cg.score(X, labels)
    again = cg.score(X, labels, seed=first.seed)
    np.testing.assert_array_equal(first.scores, again.scores)


def test_repeats_average_per_repeat_scores(rng):
    X, labels = three_string_classes(rng)
    result = cg.score(X, labels, repeats=4, seed=5)
    assert result.scores_by_repeat.shape == (4, len(labels))
    np.testing.assert_array_equal(result.count, np.full(len(labels), 4))
    np.testing.assert_allclose(result.scores, result.scores_by_repeat.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(result.std, result.scores_by_repeat.std(axis=0), rtol=1e-15)
    assert np.all(result.std > 0)  # negatives differ between repeats
    # A repeat is one run of the protocol: repeat r equals a single-repeat run only in
    # distribution, but repeats=1 equals the first row.
    np.testing.assert_array_equal(cg.score(X, labels, seed=5).scores, result.scores_by_repeat[0])


def test_one_member_class_is_scored(rng):
    X = rng.normal(size=(9, 4))
    labels = [0, 0, 0, 0, 1, 1, 1, 1, 2]
    scores = cg.cg_score(X, labels, ratio=10.0)
    np.testing.assert_allclose(scores, protocol_seed_free(X, labels, ratio=10.0), rtol=1e-10)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("kind", ["list", "series", "int-array", "float-labels"])
def test_label_containers(rng, kind):
    pd = pytest.importorskip("pandas")
    X = rng.normal(size=(30, 5))
    raw = np.repeat([3, 1, 2], 10)
    labels = {
        "list": raw.tolist(),
        "series": pd.Series(raw, index=np.arange(100, 130)),
        "int-array": raw,
        "float-labels": raw.astype(float),
    }[kind]
    np.testing.assert_allclose(cg.cg_score(X, labels, ratio=2.0), protocol_seed_free(X, raw, ratio=2.0), rtol=1e-10)
