"""cg_score is score(...).scores: it takes every argument of score that changes the scores."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import cgscore_native as cg


def test_cg_score_takes_every_argument_of_score_except_subterms():
    full = inspect.signature(cg.score).parameters
    short = inspect.signature(cg.cg_score).parameters
    expected = [p for name, p in full.items() if name != "subterms"]  # subterms adds outputs, not scores
    assert [(p.name, p.kind, p.default, p.annotation) for p in short.values()] == [
        (p.name, p.kind, p.default, p.annotation) for p in expected
    ]


def test_cg_score_passes_the_duplicate_policy_and_ridge_on():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 5))
    X[7] = 3 * X[2]  # equal after normalization
    labels = np.repeat([0, 1], 20)
    with pytest.raises(cg.DuplicateRowsError, match="rows 2, 7"):
        cg.cg_score(X, labels, duplicates="raise")
    with pytest.warns(cg.DuplicatesWarning):
        small = cg.cg_score(X, labels, seed=1, ridge=1e-6)
    with pytest.warns(cg.DuplicatesWarning):
        large = cg.cg_score(X, labels, seed=1, ridge=1e-2)
    with pytest.warns(cg.DuplicatesWarning):
        np.testing.assert_array_equal(large, cg.score(X, labels, seed=1, ridge=1e-2).scores)
    assert not np.allclose(small, large)  # the ridge reaches the kernel


