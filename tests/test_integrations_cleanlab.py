"""The cleanlab adapter: Datalab's own find_issues/report run end to end with complexity_gap."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from reference import ntk_gram

pytest.importorskip("cleanlab")
pytest.importorskip("datasets")  # cleanlab's Datalab needs it (cleanlab[datalab])

from cleanlab import Datalab  # noqa: E402
from cleanlab.data_valuation import data_shapley_knn  # noqa: E402

import cgscore_native  # noqa: E402
from cgscore_native.integrations import cleanlab as cg_cleanlab  # noqa: E402


def test_datalab_flags_the_flipped_labels_and_reports_them(noisy_digits):
    X, noisy, flipped = noisy_digits
    lab = Datalab(data={"digit": noisy}, label_name="digit", verbosity=0)
    lab.find_issues(features=X, issue_types={"complexity_gap": {}})

    issues = lab.get_issues("complexity_gap")
    assert list(issues.columns) == ["is_complexity_gap_issue", "complexity_gap_score"]
    flagged = issues["is_complexity_gap_issue"].to_numpy()
    unit = issues["complexity_gap_score"].to_numpy()
    # measured: 185 flagged, precision 0.93, recall 0.96 (180 flips)
    assert flipped[flagged].mean() > 0.85
    assert flagged[flipped].mean() > 0.85
    assert np.all((unit >= 0) & (unit <= 1))

    # The score is exp(−CG / median CG) of the package's own scores with the same seed.
    cg = cgscore_native.score(X, noisy, seed=0).scores
    np.testing.assert_allclose(unit, np.exp(-cg / np.median(cg)), rtol=1e-12)

    summary = lab.get_issue_summary("complexity_gap")
    assert summary["num_issues"].item() == flagged.sum()
    np.testing.assert_allclose(summary["score"].item(), unit.mean())

    from cleanlab.datalab.internal.report import Reporter  # what lab.report() prints

    text = Reporter(lab.data_issues, task=lab.task, verbosity=1, include_description=True).get_report(num_examples=5)
    assert "complexity_gap issues" in text
    assert f"Number of examples with this issue: {flagged.sum()}" in text
    worst = np.argsort(unit, kind="stable")[:5]
    assert all(str(i) in text for i in worst)


def test_report_prints_the_issue(noisy_digits, capsys):
    X, noisy, _ = noisy_digits
    lab = Datalab(data={"digit": noisy}, label_name="digit", verbosity=0)
    lab.find_issues(features=X, issue_types={"complexity_gap": {"ratio": 2.0, "repeats": 2, "seed": 5}})
    capsys.readouterr()
    lab.report(num_examples=3)
    out = capsys.readouterr().out
    assert "complexity_gap" in out and "Number of examples with this issue" in out
    assert lab.get_info("complexity_gap")["repeats"] == 2
    assert lab.get_info("complexity_gap")["seed"] == 5


def test_flag_is_the_leave_one_out_sign(rng):
    """Flag ⇔ the kernel interpolant fitted without the row predicts the other side (brute force)."""
    X = rng.normal(size=(40, 3))
    labels = np.repeat([0, 1], 20)
    labels[[3, 25]] = labels[[25, 3]]  # some genuinely contradicted rows
    lab = Datalab(data={"y": labels}, label_name="y", verbosity=0)
    lab.find_issues(issue_types={"complexity_gap": {"features": X}})  # features inside the dict work too
    flagged = lab.get_issues("complexity_gap")["is_complexity_gap_issue"].to_numpy()

    H = ntk_gram(X)
    want = np.empty(40, dtype=bool)
    for i in range(40):  # equal classes, ratio 1: each class against all the other rows
        y = np.where(labels == labels[i], 1.0, -1.0)
        keep = np.arange(40) != i
        prediction = H[i, keep] @ np.linalg.solve(H[np.ix_(keep, keep)], y[keep])
        want[i] = prediction < 0
    assert want.any() and not want.all()
    np.testing.assert_array_equal(flagged, want)


def test_threshold_flags_low_scores(rng):
    X = rng.normal(size=(30, 4))
    labels = np.repeat(["a", "b", "c"], 10)
    lab = Datalab(data={"y": labels}, label_name="y", verbosity=0)
    lab.find_issues(features=X, issue_types={"complexity_gap": {"threshold": 0.3}})
    issues = lab.get_issues("complexity_gap")
    np.testing.assert_array_equal(issues["is_complexity_gap_issue"], issues["complexity_gap_score"] < 0.3)


def test_missing_features_is_reported_by_datalab(rng, capsys):
    lab = Datalab(data={"y": np.repeat([0, 1], 5)}, label_name="y", verbosity=0)
    lab.find_issues(issue_types={"complexity_gap": {}})
    assert "complexity_gap needs features" in capsys.readouterr().out


def test_functional_twin_matches_data_shapley_knn_calling_convention(noisy_digits):
    X, noisy, flipped = noisy_digits
    ours = inspect.signature(cg_cleanlab.complexity_gap_score).parameters
    theirs = inspect.signature(data_shapley_knn).parameters
    assert list(ours)[:2] == list(theirs)[:2] == ["labels", "features"]
    assert ours["labels"].kind == theirs["labels"].kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert ours["features"].kind == theirs["features"].kind == inspect.Parameter.KEYWORD_ONLY

    unit = cg_cleanlab.complexity_gap_score(noisy, features=X)
    shapley = data_shapley_knn(noisy, features=X, k=10)
    assert unit.shape == shapley.shape == noisy.shape
    # Both: lower = worse. The flipped rows sit at the bottom of the CG score.
    worst = np.argsort(unit, kind="stable")[: flipped.sum()]
    assert flipped[worst].mean() > 0.9  # measured 0.93


def test_not_among_the_default_issue_types(rng):
    """Registering adds an issue type on request only: a default find_issues runs as before."""
    X, labels = rng.normal(size=(120, 5)), np.repeat([0, 1, 2], 40)
    lab = Datalab(data={"y": labels}, label_name="y", verbosity=0)
    lab.find_issues(features=X)
    found = set(lab.get_issue_summary()["issue_type"])
    assert "complexity_gap" not in found and "outlier" in found  # ("label" trips a pandas deprecation)
