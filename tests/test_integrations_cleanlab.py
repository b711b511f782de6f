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


# --- label_diagnosis: the diagnosis itself as a Datalab issue type ------------------------------------------


@pytest.fixture(scope="module")
def named_digits(noisy_digits):
    """The noisy digits with string class names, as a user's labels would be."""
    X, noisy, flipped = noisy_digits
    return X, np.array([f"digit_{v}" for v in noisy]), flipped


@pytest.fixture(scope="module")
def diagnosis_lab(named_digits):
    X, names, _ = named_digits
    lab = Datalab(data={"digit": names}, label_name="digit", verbosity=0)
    lab.find_issues(features=X, issue_types={"label_diagnosis": {}})
    return lab


def test_label_diagnosis_flags_the_flipped_labels(diagnosis_lab, named_digits):
    X, names, flipped = named_digits
    issues = diagnosis_lab.get_issues("label_diagnosis")
    assert list(issues.columns) == ["is_label_diagnosis_issue", "label_diagnosis_score", "given_label", "predicted_label"]
    assert issues["is_label_diagnosis_issue"].dtype == bool
    assert issues["label_diagnosis_score"].dtype == np.float64
    flagged = issues["is_label_diagnosis_issue"].to_numpy()
    # measured: 197 flagged, precision 0.914, recall 1.000 (180 flips)
    assert flipped[flagged].mean() > 0.89
    assert flagged[flipped].mean() > 0.98

    # The same flags and suggestions as the package's own diagnosis, labels by their names.
    d = cgscore_native.diagnose(X, names)
    np.testing.assert_array_equal(flagged, d.is_label_issue)
    np.testing.assert_array_equal(issues["given_label"], names)
    np.testing.assert_array_equal(issues["predicted_label"], d.suggested_label)


def test_label_diagnosis_score_is_the_calibrated_given_against_predicted(diagnosis_lab, named_digits):
    """score = p_given / (p_given + p_best_other) of pred_probs(): in [0, 1], below 1/2 exactly when flagged,
    no vanishing values (the CG-score's exp(-CG/median) reached 1e-119 in a report)."""
    X, names, _ = named_digits
    issues = diagnosis_lab.get_issues("label_diagnosis")
    unit = issues["label_diagnosis_score"].to_numpy()
    assert np.all((unit >= 0) & (unit <= 1))
    np.testing.assert_array_equal(unit < 0.5, issues["is_label_diagnosis_issue"])
    assert unit.min() > 1e-3  # measured 0.00187

    d = cgscore_native.diagnose(X, names)
    P = d.pred_probs()
    rows = np.arange(len(d))
    given = P[rows, d.given_codes()]
    others = P.copy()
    others[rows, d.given_codes()] = -1
    best_other = others.max(axis=1)  # the predicted label's probability on the flagged rows
    np.testing.assert_allclose(unit, given / (given + best_other), rtol=1e-10)
    np.testing.assert_allclose(diagnosis_lab.get_info("label_diagnosis")["pred_probs"], P, rtol=1e-12)


def test_label_diagnosis_report_names_the_issue_and_the_labels(diagnosis_lab, named_digits, capsys):
    X, names, _ = named_digits
    issues = diagnosis_lab.get_issues("label_diagnosis")
    capsys.readouterr()
    diagnosis_lab.report(num_examples=5)
    text = capsys.readouterr().out
    assert "label_diagnosis issues" in text
    assert f"Number of examples with this issue: {issues['is_label_diagnosis_issue'].sum()}" in text
    assert "given_label" in text and "predicted_label" in text
    assert "e-" not in text.split("Examples representing most severe instances of this issue:")[1]  # no 1e-119
    # Each of the five worst rows on one line: its index, score, given and predicted label.
    worst = issues.sort_values("label_diagnosis_score", kind="stable").head(5)
    lines = text.splitlines()
    for i, row in worst.iterrows():
        line = next(line for line in lines if line.split()[:1] == [str(i)])
        assert line.split()[-2:] == [row["given_label"], row["predicted_label"]]
        assert row["given_label"] != row["predicted_label"]


def test_label_diagnosis_passes_its_options_to_diagnose(rng):
    X = rng.normal(size=(60, 4))
    labels = np.repeat(["a", "b", "c"], 20)
    X[labels == "b"] += 3
    lab = Datalab(data={"y": labels}, label_name="y", verbosity=0)
    lab.find_issues(features=X, issue_types={"label_diagnosis": {"ridge": 0.1, "rounds": 0, "kernel": "relu-ntk-2"}})
    info = lab.get_info("label_diagnosis")
    assert info["ridge"] == 0.1 and info["kernel"] == "relu-ntk-2"
    want = cgscore_native.diagnose(X, labels, ridge=0.1, rounds=0, kernel="relu-ntk-2")
    np.testing.assert_array_equal(lab.get_issues("label_diagnosis")["is_label_diagnosis_issue"], want.is_label_issue)

    with pytest.raises(TypeError, match="unknown option.*'ridges'.*keywords of cgscore_native.diagnose"):
        lab.find_issues(features=X, issue_types={"label_diagnosis": {"ridges": 0.1}})


def test_label_diagnosis_without_features_says_how(capsys):
    lab = Datalab(data={"y": np.repeat([0, 1], 5)}, label_name="y", verbosity=0)
    lab.find_issues(issue_types={"label_diagnosis": {}})
    assert "label_diagnosis needs features" in capsys.readouterr().out


def test_other_issue_types_keep_their_columns(rng):
    """The wrapper that adds given/predicted labels to label_diagnosis leaves other issue types alone."""
    X, labels = rng.normal(size=(40, 3)), np.repeat([0, 1], 20)
    lab = Datalab(data={"y": labels}, label_name="y", verbosity=0)
    lab.find_issues(features=X, issue_types={"complexity_gap": {}, "label_diagnosis": {}})
    assert list(lab.get_issues("complexity_gap").columns) == ["is_complexity_gap_issue", "complexity_gap_score"]
    assert "given_label" not in lab.get_issues().columns


# --- Diagnosis.pred_probs() through cleanlab's own functions ------------------------------------------------


def test_pred_probs_feed_cleanlabs_functions(named_digits):
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores
    from sklearn.metrics import roc_auc_score

    X, names, flipped = named_digits
    d = cgscore_native.diagnose(X, names)
    P = d.pred_probs()
    assert P.shape == (len(d), d.classes.size)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # Columns in the order of d.classes: the most probable column is the suggested label.
    np.testing.assert_array_equal(d.classes[P.argmax(axis=1)], d.suggested_label)
    labels = d.given_codes()
    np.testing.assert_array_equal(d.classes[labels], names)

    found = find_label_issues(labels, P)
    # measured: 166 found, precision 0.976, recall 0.900 (180 flips)
    assert flipped[found].mean() > 0.95 and found[flipped].mean() > 0.87
    quality = get_label_quality_scores(labels, P)
    assert roc_auc_score(flipped, -quality) > 0.9995  # measured 0.999948
