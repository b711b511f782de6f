"""SimiFeat (vote and rank) against a case worked on paper, brute force, and its own model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cgscore_native.experiments.label_noise import flip_labels
from cgscore_native.experiments.simifeat import (
    _cosine_neighbors,
    consensus,
    consensus_model,
    corrupted_counts,
    hoc_estimate,
    hoc_fit,
    hoc_loss_and_grad,
    knn_soft_labels,
    rank_flags,
    simifeat,
)

pytest.importorskip("scipy.optimize")


def _angles(degrees):
    rad = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    return np.column_stack([np.cos(rad), np.sin(rad)])


# Class A at 0°, 10°, 20°; class B at 90°, 100°, 110°; the 10° row is mislabelled B.
HAND_X = _angles([0, 10, 20, 90, 100, 110])
HAND_Y = np.array([0, 1, 0, 1, 1, 1])


def test_hand_worked_vote_and_cosine_scores():
    # k = 2 neighbours by angle: 0° → {10° (B), 20° (A)}: ŷ = (½, ½), its label A is among the tied
    # maxima, so it is kept; 10° → {0°, 20°}: ŷ = (1, 0) against its label B: flagged; 20° → {10°, 0°}:
    # (½, ½); the three B rows see only B. Rank scores: cos(ŷ, e_A) = ½ / √½ = √½ for 0° and 20°.
    vote = simifeat(HAND_X, HAND_Y, rule="vote", k=2, rounds=1)
    np.testing.assert_allclose(vote.suspicion, [0.5, 1.0, 0.5, 0.0, 0.0, 0.0], atol=1e-15)
    assert vote.is_label_issue.tolist() == [False, True, False, False, False, False]
    assert vote.noise_rate == pytest.approx(1 / 6)
    rank = simifeat(HAND_X, HAND_Y, rule="rank", k=2, rounds=1)
    s = 1.0 - np.sqrt(0.5)
    np.testing.assert_allclose(rank.suspicion, [s, 1.0, s, 0.0, 0.0, 0.0], atol=1e-15)


def test_hand_worked_rank_flags_and_counts():
    # One corrupted row per class: A's two rows tie at √½, the lower index goes first; B's lowest is 10°.
    cosine = np.array([np.sqrt(0.5), 0.0, np.sqrt(0.5), 1.0, 1.0, 1.0])
    assert rank_flags(cosine, HAND_Y, np.array([1, 1])).tolist() == [True, True, False, False, False, False]
    assert not rank_flags(cosine, HAND_Y, np.array([0, 0])).any()
    # p = (½, ½), T = [[.8, .2], [.1, .9]]: P(ỹ) = (.45, .55); P(y ≠ j | ỹ = j) = 1 − .4/.45 = 1/9 and
    # 1 − .45/.55 = 2/11; with 90 and 110 rows labelled so: 10 and 20 corrupted.
    T = np.array([[0.8, 0.2], [0.1, 0.9]])
    assert corrupted_counts(np.array([0.5, 0.5]), T, np.array([90, 110])).tolist() == [10, 20]


def test_neighbors_and_soft_labels_against_brute_force():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 5))
    codes = rng.integers(0, 3, size=40)
    nbrs = _cosine_neighbors(X, 7)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    for i in range(40):
        sims = [(-(unit[i] @ unit[j]), j) for j in range(40) if j != i]
        assert [j for _, j in sorted(sims)[:7]] == nbrs[i].tolist()
    soft = knn_soft_labels(nbrs, codes, 3)
    for i in range(40):
        np.testing.assert_allclose(soft[i], [np.mean(codes[nbrs[i]] == c) for c in range(3)], atol=1e-15)


def test_consensus_counts_and_model_by_loops():
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 3, size=30)
    triples = np.column_stack([np.arange(30), rng.integers(0, 30, size=(30, 2))])
    c1, c2, c3 = consensus(triples, codes, 3)
    y = codes[triples]
    np.testing.assert_allclose(c1, [np.mean(y == a) for a in range(3)], atol=1e-15)
    for a, b in itertools.product(range(3), repeat=2):
        pairs = [(r[i], r[j]) for r in y for i, j in itertools.permutations(range(3), 2)]
        assert c2[a, b] == pytest.approx(np.mean([p == (a, b) for p in pairs]), abs=1e-15)
    for a, b, c in itertools.product(range(3), repeat=3):
        perms = [tuple(r[list(q)]) for r in y for q in itertools.permutations(range(3))]
        assert c3[a, b, c] == pytest.approx(np.mean([p == (a, b, c) for p in perms]), abs=1e-15)
    p = np.array([0.2, 0.3, 0.5])
    T = rng.dirichlet(np.ones(3), size=3)
    m1, m2, m3 = consensus_model(p, T)
    for a, b, c in itertools.product(range(3), repeat=3):
        assert m3[a, b, c] == pytest.approx(sum(p[q] * T[q, a] * T[q, b] * T[q, c] for q in range(3)), abs=1e-15)
        assert m2[a, b] == pytest.approx(sum(p[q] * T[q, a] * T[q, b] for q in range(3)), abs=1e-15)
    np.testing.assert_allclose(m1, p @ T, atol=1e-15)


def test_hoc_gradient_against_finite_differences():
    rng = np.random.default_rng(7)
    K = 4
    target = consensus_model(rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K), size=K))
    theta = rng.normal(size=K * K + K)
    _, grad = hoc_loss_and_grad(theta, target)
    h = 1e-6
    numeric = np.array([(hoc_loss_and_grad(theta + h * e, target)[0] - hoc_loss_and_grad(theta - h * e, target)[0]) / (2 * h)
                        for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-10)


def test_hoc_recovers_its_own_model():
    p = np.array([0.3, 0.5, 0.2])
    T = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.05, 0.05, 0.9]])
    p_hat, T_hat = hoc_fit(consensus_model(p, T))
    np.testing.assert_allclose(p_hat, p, atol=1e-3)
    np.testing.assert_allclose(T_hat, T, atol=1e-3)


def _blobs(n_per=150, n_classes=3, d=6, spread=0.05, seed=0):
    """Tight clusters around orthogonal directions: each row's neighbours share its class."""
    rng = np.random.default_rng(seed)
    centers = np.eye(d)[:n_classes] * 5.0 + 1.0
    X = np.concatenate([c + spread * rng.normal(size=(n_per, d)) for c in centers])
    return X, np.repeat(np.arange(n_classes), n_per)


def test_hoc_estimates_the_noise_of_clusterable_data():
    X, y = _blobs(300)
    noisy, flipped = flip_labels(y, 0.2, seed=1)
    p, T = hoc_estimate(_cosine_neighbors(X, 2), noisy, 3)
    assert 1.0 - p @ np.diag(T) == pytest.approx(flipped.mean(), abs=0.03)
    # Against the flips actually drawn (each class's share sent to each label), not the nominal 0.8 / 0.1.
    drawn = np.array([[np.mean(noisy[y == i] == j) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(T, drawn, atol=0.05)
    np.testing.assert_allclose(p, 1 / 3, atol=0.02)


@pytest.mark.parametrize("rule", ["vote", "rank"])
def test_clean_separated_data_get_no_flags(rule):
    X, y = _blobs()
    result = simifeat(X, y, rule=rule)
    assert not result.is_label_issue.any()
    assert result.noise_rate < 0.01


@pytest.mark.parametrize("rule", ["vote", "rank"])
def test_a_flipped_row_in_a_tight_cluster_is_flagged(rule):
    X, y = _blobs()
    noisy = y.copy()
    noisy[[10, 200]] = [2, 0]
    result = simifeat(X, noisy, rule=rule)
    assert np.flatnonzero(result.is_label_issue).tolist() == [10, 200]
    assert set(np.argsort(-result.suspicion)[:2]) == {10, 200}


def test_rounds_are_the_mean_of_single_passes_on_the_seeded_column_subsets():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(60, 8))
    y = rng.integers(0, 3, size=60)
    result = simifeat(X, y, rule="vote", k=5, rounds=3, feature_fraction=0.5, seed=4)
    draws = np.random.default_rng(4)
    singles = [simifeat(X[:, np.sort(draws.choice(8, size=4, replace=False))], y, rule="vote", k=5, rounds=1)
               for _ in range(3)]
    np.testing.assert_allclose(result.suspicion, np.mean([s.suspicion for s in singles], axis=0), atol=1e-15)
    majority = np.sum([s.is_label_issue for s in singles], axis=0) >= 2
    assert result.is_label_issue.tolist() == majority.tolist()
    again = simifeat(X, y, rule="vote", k=5, rounds=3, feature_fraction=0.5, seed=4)
    assert np.array_equal(again.suspicion, result.suspicion)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rule": "knn"}, "rule must be one of vote, rank"),
    ({"k": 1}, "k must lie in 2..5"),
    ({"k": 6}, "k must lie in 2..5"),
    ({"rounds": 0}, "rounds must be at least 1"),
    ({"feature_fraction": 0.0}, "feature_fraction must lie in"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simifeat(HAND_X, HAND_Y, **kwargs)


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        simifeat(HAND_X, np.zeros(6, dtype=int))
