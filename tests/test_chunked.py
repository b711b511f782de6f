"""Chunked mode: every problem has at most chunk_size rows, every row is scored once per repeat,
and the split is seeded per (repeat, class, chunk) like the negatives."""

from __future__ import annotations

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native._plan import max_chunk_positives, negative_count, plan_problems


def uneven_classes(rng, sizes=(70, 25, 41), d=6):
    labels = np.repeat(np.array(["a", "b", "c"]), sizes)
    X = rng.normal(size=(labels.size, d)) + np.repeat(rng.normal(size=(len(sizes), d)), sizes, axis=0)
    perm = rng.permutation(labels.size)
    return X[perm], labels[perm]


@pytest.mark.parametrize("chunk_size, ratio", [(10, 1.0), (17, 0.5), (30, 2.0), (4, 3.0), (1, 0.4)])
def test_plan_respects_chunk_size_and_scores_every_row_once(rng, chunk_size, ratio):
    codes = rng.integers(0, 3, size=120)
    problems = plan_problems(codes, 3, ratio=ratio, repeats=2, entropy=5, chunk_size=chunk_size)
    for r in range(2):
        mine = [p for p in problems if p.repeat == r]
        positives = np.concatenate([p.positives for p in mine])
        np.testing.assert_array_equal(np.sort(positives), np.arange(120))  # a partition of the rows
        for p in mine:
            assert p.size <= chunk_size
            assert np.all(codes[p.positives] == p.class_index) and np.all(codes[p.negatives] != p.class_index)
            others = int(np.sum(codes != p.class_index))
            assert p.negatives.size == negative_count(p.positives.size, others, ratio)
            assert np.unique(p.negatives).size == p.negatives.size
    keys = [p.key for p in problems]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_chunks_are_as_few_and_even_as_fit(rng):
    codes = np.repeat([0, 1], [100, 300])
    problems = plan_problems(codes, 2, ratio=1.0, repeats=1, entropy=1, chunk_size=40)
    sizes = [p.positives.size for p in problems if p.class_index == 0]
    assert len(sizes) == 5 and max(sizes) - min(sizes) <= 1  # 100 positives, 20 per problem of 40


def test_split_is_random_but_seeded(rng):
    codes = np.repeat([0, 1], [60, 60])
    a = plan_problems(codes, 2, ratio=1.0, repeats=1, entropy=7, chunk_size=20)
    b = plan_problems(codes, 2, ratio=1.0, repeats=1, entropy=7, chunk_size=20)
    c = plan_problems(codes, 2, ratio=1.0, repeats=1, entropy=8, chunk_size=20)
    assert all(np.array_equal(x.positives, y.positives) and np.array_equal(x.negatives, y.negatives) for x, y in zip(a, b))
    assert not all(np.array_equal(x.positives, y.positives) for x, y in zip(a, c))
    assert not np.array_equal(a[0].positives, np.arange(10))  # not simply the first rows


def test_a_repeat_does_not_depend_on_how_many_follow(rng):
    codes = rng.integers(0, 3, size=90)
    one = plan_problems(codes, 3, ratio=0.7, repeats=1, entropy=3, chunk_size=12)
    three = plan_problems(codes, 3, ratio=0.7, repeats=3, entropy=3, chunk_size=12)
    for x, y in zip(one, three):
        assert x.key == y.key and np.array_equal(x.positives, y.positives) and np.array_equal(x.negatives, y.negatives)


def test_large_chunk_size_changes_nothing(rng):
    X, labels = uneven_classes(rng)
    exact = cg.score(X, labels, ratio=0.8, repeats=2, seed=4)
    chunked = cg.score(X, labels, ratio=0.8, repeats=2, seed=4, chunk_size=max(p.n_positives + p.n_negatives for p in exact.problems))
    np.testing.assert_array_equal(chunked.scores, exact.scores)


def test_chunked_scores_are_reproducible_thread_independent_and_reported(rng):
    X, labels = uneven_classes(rng)
    one = cg.score(X, labels, seed=9, chunk_size=24, repeats=2, n_threads=1, subterms=True)
    two = cg.score(X, labels, seed=9, chunk_size=24, repeats=2, n_threads=2, subterms=True)
    np.testing.assert_array_equal(one.scores, two.scores)
    np.testing.assert_array_equal(one.subterms["a2"], two.subterms["a2"])
    assert np.all(np.isfinite(one.scores)) and np.all(one.scores >= 0)
    assert np.all(one.count == 2)
    assert one.params["chunk_size"] == 24
    assert max(p.n_positives + p.n_negatives for p in one.problems) <= 24
    assert {p.chunk for p in one.problems if p.label == "a"} == {0, 1, 2, 3, 4, 5}  # 70 rows, 12 per chunk
    assert not np.array_equal(one.scores, cg.score(X, labels, seed=10, chunk_size=24, repeats=2).scores)


def test_chunked_scores_track_the_exact_ones(rng):
    X, labels = uneven_classes(rng, sizes=(150, 150, 150), d=10)
    exact = cg.cg_score(X, labels, seed=1)
    chunked = cg.cg_score(X, labels, seed=1, chunk_size=150, repeats=3)
    assert np.corrcoef(np.argsort(np.argsort(exact)), np.argsort(np.argsort(chunked)))[0, 1] > 0.5


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_chunk_size_must_be_a_positive_whole_number(rng, bad):
    X, labels = uneven_classes(rng)
    with pytest.raises(ValueError, match="chunk_size must be a whole number >= 1"):
        cg.cg_score(X, labels, chunk_size=bad)


def test_chunk_size_must_hold_one_positive_and_its_negatives(rng):
    X, labels = uneven_classes(rng)
    with pytest.raises(ValueError, match=r"chunk_size=3 is too small: with ratio=3 one positive and its negatives take 4 rows"):
        cg.cg_score(X, labels, ratio=3.0, chunk_size=3)
    assert max_chunk_positives(4, 100, 3.0) == 1
    assert cg.cg_score(X, labels, ratio=3.0, chunk_size=4, seed=0).shape == (labels.size,)
