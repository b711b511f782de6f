"""The baselines added for the diagnosis benchmark: Euclidean k-NN disagreement and the
cross-validated probabilities behind confident learning."""

from __future__ import annotations

import numpy as np
import pytest

from cgscore_native.experiments import baselines


def test_euclidean_knn_disagreement_matches_brute_force():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * np.array([1.0, 5.0, 0.2])  # scales differ: not the cosine neighbours
    y = rng.integers(0, 3, size=40)
    k = 4
    dist = np.linalg.norm(X[:, None] - X[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    expected = (y[nearest] != y[:, None]).mean(axis=1)
    assert np.array_equal(baselines.knn_disagreement_euclidean(X, y, k), expected)
    with pytest.raises(ValueError, match="k must lie"):
        baselines.knn_disagreement_euclidean(X, y, 40)


def test_confident_learning_is_one_minus_the_self_confidence_of_the_probabilities():
    pytest.importorskip("sklearn")
    pytest.importorskip("cleanlab")
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(size=(30, 4)) + 3 * c for c in range(3)])
    y = np.repeat(np.arange(3), 30)
    codes, probs = baselines.cross_validated_probabilities(X, y, seed=0)
    assert probs.shape == (90, 3) and np.allclose(probs.sum(axis=1), 1)
    assert np.allclose(baselines.confident_learning(X, y, seed=0), 1 - probs[np.arange(90), codes])
