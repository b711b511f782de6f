"""The guards: a regression target and unscaled table columns are warned about, digits are not."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import errors

datasets = pytest.importorskip("sklearn.datasets")


def test_the_warnings_are_importable_from_the_package():
    for name in ("LabelsWarning", "ScaleWarning", "DuplicatesWarning", "LookalikeLabelsWarning", "BlasFallbackWarning"):
        assert getattr(cg, name) is getattr(errors, name)
        assert issubclass(getattr(cg, name), UserWarning)
        assert name in cg.__all__


def test_a_regression_target_is_warned_about_before_the_fit():
    """sklearn's diabetes: 442 rows, an integer target with 214 distinct values."""
    X, y = datasets.load_diabetes(return_X_y=True)
    with pytest.warns(cg.LabelsWarning) as record:
        d = cg.diagnose(X, y.astype(np.int64), rounds=0)
    messages = [str(w.message) for w in record if issubclass(w.category, cg.LabelsWarning)]
    assert any("look like a regression target (214 classes for 442 rows" in m for m in messages)
    assert d.estimated_noise_rate > 0.9  # what the warning spares the user: measured 0.984


def test_non_integer_labels_are_a_regression_target(rng):
    X = rng.normal(size=(30, 3))
    with pytest.raises(ValueError, match="labels look like a feature"):  # nearly all distinct: refused
        cg.diagnose(X, np.round(rng.normal(size=30), 2), rounds=0, ridge=0.1)
    y = np.repeat([0.5, 1.5, 2.5], 10)  # few values, but measurements rather than classes
    X[y == 1.5] += 2
    with pytest.warns(cg.LabelsWarning, match="they are 3 distinct non-integer numbers"):
        cg.diagnose(X, y, rounds=0, ridge=0.1)


def test_labels_unrelated_to_the_features_are_warned_about_after_the_fit():
    """Shuffled digits labels: ten well-filled classes (no regression target), a noise rate near 90 %."""
    images, target = cg.load_digits()
    X = images.reshape(len(images), -1)[:600]
    shuffled = np.random.default_rng(0).permutation(target[:600])
    with pytest.warns(cg.LabelsWarning, match=r"close to 90\.0%, the rate of labels unrelated to the features") as record:
        cg.diagnose(X, shuffled, rounds=0)
    assert not any("look like a regression target" in str(w.message) for w in record)  # only the after-fit one


def test_two_classes_near_half_noise_are_warned_about_and_clean_ones_are_not():
    """Two balanced classes (breast_cancer cut to 212 + 212 rows): shuffled labels estimate about
    50 % noise (measured 48–53 % over four shuffles) and are warned about; the own labels (2.6 %)
    are not."""
    X, y = datasets.load_breast_cancer(return_X_y=True)
    keep = np.sort(np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:212]]))
    X, y = (X[keep] - X[keep].mean(0)) / X[keep].std(0), y[keep]
    shuffled = np.random.default_rng(2).permutation(y)
    with pytest.warns(cg.LabelsWarning, match=r"close to 50\.0%.*flipped so often"):
        cg.diagnose(X, shuffled, rounds=0, ridge=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = cg.diagnose(X, y, rounds=0, ridge=0.1)
    assert d.estimated_noise_rate < 0.1


def test_raw_wine_warns_about_scale_and_standardize_silences_it():
    frame = datasets.load_wine(as_frame=True).frame
    with pytest.warns(cg.ScaleWarning, match=r"column 'proline' is \d+× the median column.*standardize=True"):
        cg.diagnose(frame, label_column="target")
    X, y = datasets.load_wine(return_X_y=True)
    with pytest.warns(cg.ScaleWarning, match="column 12 is"):
        cg.diagnose(X, y)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        d = cg.diagnose(X, y, standardize=True)
    assert record == []
    assert len(d) == 178


def test_standardize_gives_every_column_mean_0_and_variance_1():
    from cgscore_native._guards import standardized

    X, _ = datasets.load_wine(return_X_y=True)
    Z = standardized(np.column_stack([X, np.ones(len(X))]))  # and a constant column
    np.testing.assert_allclose(Z[:, :-1].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :-1].std(axis=0), 1, rtol=1e-12)
    assert np.all(Z[:, -1] == 0)


def test_digits_are_silent():
    images, target = cg.load_digits()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        cg.diagnose(images.reshape(len(images), -1), target)
        cg.diagnose(images.reshape(len(images), -1).astype(np.float64), target)
    assert [str(w.message) for w in record] == []
