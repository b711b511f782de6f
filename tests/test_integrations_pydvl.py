"""The pyDVL adapter: ComplexityGapValuation.fit(Dataset) through pyDVL's own classes.

pyDVL 0.10 pins NumPy < 2, so it is not in the ``test`` extra: these tests run in an
environment made with ``pip install '.[test,pydvl]'`` and are skipped where pyDVL is absent.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

with warnings.catch_warnings():  # importing pyDVL raises FutureWarnings from pyDeprecate
    warnings.simplefilter("ignore", FutureWarning)
    pytest.importorskip("pydvl.valuation")
    from pydvl.utils.status import Status
    from pydvl.valuation import Dataset, GroupedDataset, KNNShapleyValuation, ValuationResult
    from sklearn.neighbors import KNeighborsClassifier

    from cgscore_native.integrations.pydvl import ComplexityGapValuation

import cgscore_native  # noqa: E402


def test_fit_gives_minus_the_cg_score(noisy_digits):
    X, noisy, flipped = noisy_digits
    train = Dataset(X, noisy)
    valuation = ComplexityGapValuation(repeats=3, seed=4).fit(train)
    result = valuation.result
    assert isinstance(result, ValuationResult) and result.status == Status.Converged
    run = cgscore_native.score(X, noisy, repeats=3, seed=4)
    np.testing.assert_array_equal(result.values, -run.scores)
    np.testing.assert_allclose(result.variances, run.scores_by_repeat.var(axis=0, ddof=1), rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(result.counts, np.full(len(X), 3))
    np.testing.assert_array_equal(result.indices, train.indices)
    np.testing.assert_array_equal(result.names, train.names)
    assert valuation.seed_used == 4

    # pyDVL's own tools: the lowest values are the flipped labels.
    lowest = result.sort()[: int(flipped.sum())]
    assert flipped[lowest.indices].mean() > 0.9  # measured 0.93
    assert len(result.to_dataframe()) == len(X)


def test_sits_beside_knn_shapley(noisy_digits):
    """The two valuations take the same Dataset and both rank the flipped rows low."""
    X, noisy, flipped = noisy_digits
    train = Dataset(X[:600], noisy[:600])
    test = Dataset(X[600:900], noisy[600:900])
    cg = ComplexityGapValuation().fit(train).result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        knn = KNNShapleyValuation(KNeighborsClassifier(n_neighbors=5), test, progress=False).fit(train).result
    np.testing.assert_array_equal(cg.indices, knn.indices)
    k = int(flipped[:600].sum())
    for result in (cg, knn):
        assert flipped[:600][result.sort()[:k].indices].mean() > 0.7  # measured: CG 0.88, KNN Shapley 0.78


def test_progress_bar_only_when_asked(rng, capfd):
    X, y = rng.normal(size=(40, 4)), np.repeat([0, 1], 20)
    ComplexityGapValuation(progress=False).fit(Dataset(X, y))
    assert "CG-score" not in capfd.readouterr().err
    ComplexityGapValuation(progress=True).fit(Dataset(X, y))
    assert "CG-score" in capfd.readouterr().err


def test_continue_from_merges_repeats(rng):
    X, y = rng.normal(size=(40, 4)), np.array([0] * 10 + [1] * 30)  # class 0 draws its negatives
    data = Dataset(X, y)
    first = ComplexityGapValuation(repeats=2, seed=1).fit(data).result
    second = ComplexityGapValuation(seed=2).fit(data).result
    merged = ComplexityGapValuation(seed=2).fit(data, continue_from=first.copy()).result
    np.testing.assert_array_equal(merged.counts, np.full(40, 3))
    np.testing.assert_allclose(merged.values, (2 * first.values + second.values) / 3, rtol=1e-12)


def test_grouped_data_is_refused(rng):
    X, y = rng.normal(size=(8, 3)), np.repeat([0, 1], 4)
    grouped = GroupedDataset(X, y, data_groups=np.repeat([0, 1, 2, 3], 2))
    with pytest.raises(TypeError, match="GroupedDataset"):
        ComplexityGapValuation().fit(grouped)
