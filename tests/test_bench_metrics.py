"""The detection metrics of the bench and the noise kinds, against hand-worked values, brute force and scikit-learn."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cgscore_native.experiments.label_noise import confusable_targets, flip_labels
from cgscore_native.experiments.metrics import (
    auroc,
    average_precision,
    budget_metrics,
    precision_at_k,
    protocol_metrics,
    tnr_at_tpr,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def test_tnr_at_95_tpr_by_hand():
    # Both positives must be flagged to reach 95 %: cut at 0.7 flags 3 rows, one negative of three.
    assert tnr_at_tpr([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 0]) == pytest.approx(2 / 3)
    # Ties are flagged together: the cut at 0.8 takes both 0.8s.
    assert tnr_at_tpr([0.9, 0.8, 0.8, 0.1], [1, 1, 0, 0]) == pytest.approx(1 / 2)
    assert tnr_at_tpr([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_tnr_at_tpr_equals_the_roc_curve_reading(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random(300) < 0.3
    score = np.round(rng.normal(size=300) + truth, 1)  # rounding makes ties
    fpr, tpr, _ = sklearn_metrics.roc_curve(truth, score, drop_intermediate=False)
    for level in (0.5, 0.9, 0.95):
        expected = 1.0 - fpr[np.argmax(tpr >= level)]
        assert tnr_at_tpr(score, truth, level) == pytest.approx(expected, abs=1e-12)
    assert auroc(score, truth) == pytest.approx(sklearn_metrics.roc_auc_score(truth, score), abs=1e-12)
    assert average_precision(score, truth) == pytest.approx(sklearn_metrics.average_precision_score(truth, score),
                                                            abs=1e-12)


def test_budget_metrics_by_hand():
    # Budget 2: the 3 is flagged; one of the three tied 2s (one of them true) joins it: expected hits 1 + 1/3.
    m = budget_metrics([3, 2, 2, 2, 1], [1, 1, 0, 0, 1], 2)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(4 / 9)
    assert m["fnr"] == pytest.approx(5 / 9)
    assert m["f1"] == pytest.approx(2 * (4 / 3) / (2 + 3))
    assert budget_metrics([3, 2, 1], [1, 0, 1], 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "fnr": 1.0}
    assert budget_metrics([3, 2, 1], [1, 0, 1], 3)["fnr"] == 0.0


def test_budget_metrics_are_the_mean_over_tie_orders():
    score = np.array([0.5, 0.2, 0.5, 0.5, 0.2, 0.9])
    truth = np.array([1, 0, 0, 1, 1, 0], dtype=bool)
    for budget in range(7):
        hits = []
        for perm in itertools.permutations(range(6)):
            order = np.lexsort((np.array(perm), -score))  # a random order among ties
            hits.append(truth[order[:budget]].sum())
        expected_recall = np.mean(hits) / truth.sum()
        m = budget_metrics(score, truth, budget)
        assert m["recall"] == pytest.approx(expected_recall, abs=1e-12), budget
        assert m["fnr"] == pytest.approx(1 - expected_recall, abs=1e-12)
        assert m["f1"] == pytest.approx(2 * np.mean(hits) / (budget + truth.sum()), abs=1e-12)


def test_budget_metrics_refuse_a_budget_out_of_range():
    with pytest.raises(ValueError, match=r"budget must lie in 0\.\.3; got 4"):
        budget_metrics([3, 2, 1], [1, 0, 1], 4)


def test_detection_metrics_at_the_true_and_the_estimated_budget():
    rng = np.random.default_rng(1)
    truth = rng.random(200) < 0.2
    score = rng.normal(size=200) + 1.5 * truth  # no ties
    m = protocol_metrics(score, truth, estimated_budget=50)
    # With as many flags as true rows, F1 = precision = recall = precision at k.
    assert m["f1_at_true"] == pytest.approx(precision_at_k(score, truth))
    assert m["fnr_at_true"] == pytest.approx(1 - precision_at_k(score, truth))
    top = np.argsort(-score)[:50]
    assert m["fnr_at_estimate"] == pytest.approx(1 - truth[top].sum() / truth.sum())
    assert m["f1_at_estimate"] == pytest.approx(2 * truth[top].sum() / (50 + truth.sum()))
    assert np.isnan(protocol_metrics(score, truth)["fnr_at_estimate"])
    assert set(m) == {"tnr_at_95_tpr", "f1_at_true", "fnr_at_true", "f1_at_estimate", "fnr_at_estimate"}


def test_confusable_targets_are_the_nearest_centroids():
    # Class centroids along 0°, 10°, 90° and 95°: 0 ↔ 1 and 2 ↔ 3 are the confusable pairs.
    angles = np.deg2rad([0, 10, 90, 95])
    centers = np.column_stack([np.cos(angles), np.sin(angles)])
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 20)
    X = centers[labels] + 0.01 * rng.normal(size=(80, 2))
    assert confusable_targets(X, labels).tolist() == [1, 0, 3, 2]
    noisy, flipped = flip_labels(labels, 0.25, seed=3, kind="confusable", features=X)
    assert flipped.sum() == 20
    assert np.array_equal(noisy[flipped], np.array([1, 0, 3, 2])[labels[flipped]])
    assert np.array_equal(noisy[~flipped], labels[~flipped])
    # The same seed flips the same rows whatever the kind.
    _, uniform_rows = flip_labels(labels, 0.25, seed=3, kind="uniform")
    _, pair_rows = flip_labels(labels, 0.25, seed=3, kind="pair")
    assert np.array_equal(flipped, uniform_rows) and np.array_equal(flipped, pair_rows)


def test_pair_and_uniform_noise():
    labels = np.repeat(np.arange(3), 100)
    noisy, flipped = flip_labels(labels, 0.3, seed=2, kind="pair")
    assert flipped.sum() == 90
    assert np.array_equal(noisy[flipped], (labels[flipped] + 1) % 3)
    noisy, flipped = flip_labels(labels, 0.3, seed=2, kind="uniform")
    assert np.all(noisy[flipped] != labels[flipped]) and np.array_equal(noisy[~flipped], labels[~flipped])
    assert set(np.unique(noisy[flipped] - labels[flipped]) % 3) == {1, 2}


def test_confusable_noise_needs_features_and_named_errors():
    labels = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="needs the features"):
        flip_labels(labels, 0.5, seed=0, kind="confusable")
    with pytest.raises(ValueError, match="one row per label"):
        confusable_targets(np.zeros((3, 2)), labels)
    with pytest.raises(ValueError, match=r"centroid of class\(es\) \[0\] is the zero vector"):
        confusable_targets(np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 2.0]]), labels)
    with pytest.raises(ValueError, match="kind must be one of uniform, pair, confusable"):
        flip_labels(labels, 0.5, seed=0, kind="swap")
