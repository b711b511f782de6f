"""The label-noise benchmark: its figures equal those computed directly; metrics and baselines are right."""

from __future__ import annotations

import csv
import itertools
import time
from math import comb

import numpy as np
import pytest

from _cli_support import assert_one_line_error, run_cli, small_digits
from cgscore_native import diagnose, score
from cgscore_native.experiments import baselines
from cgscore_native.experiments.label_noise import flip_labels
from cgscore_native.experiments.metrics import auroc, average_precision, f1_max, precision_at_k
from cgscore_native.experiments.noise_bench import METHODS, run_noise_bench, to_markdown
from cgscore_native.experiments.simifeat import simifeat

sklearn_metrics = pytest.importorskip("sklearn.metrics")
pytest.importorskip("cleanlab")
Image = pytest.importorskip("PIL.Image")


def independent_metrics(score, truth) -> dict[str, float]:
    """The four ranking figures from scikit-learn (and plain Python for precision at k, ties to
    the lower index): nothing shared with ``experiments.metrics``."""
    score, truth = np.asarray(score, dtype=np.float64), np.asarray(truth, dtype=bool)
    k = int(truth.sum())
    top = sorted(range(score.size), key=lambda i: (-score[i], i))[:k]
    precision, recall, _ = sklearn_metrics.precision_recall_curve(truth, score)
    with np.errstate(invalid="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return {
        "auroc": sklearn_metrics.roc_auc_score(truth, score),
        "average_precision": sklearn_metrics.average_precision_score(truth, score),
        "precision_at_k": sum(bool(truth[i]) for i in top) / k,
        "f1_max": float(f1.max()),
    }


def expected_flagged(score, budget: int) -> np.ndarray:
    """Each row's chance of being among the ``budget`` highest scores when ties are cut in random
    order: 1 above the cut-off score, the free places shared evenly by the rows at it."""
    score = np.asarray(score, dtype=np.float64)
    cut = sorted(score.tolist(), reverse=True)[budget - 1]
    above, at = score > cut, score == cut
    return np.where(above, 1.0, np.where(at, (budget - above.sum()) / at.sum(), 0.0))


def independent_protocol(score, truth, estimate: int | None) -> dict[str, float]:
    """TNR at 95 % TPR from scikit-learn's ROC curve; F1 and FNR at a flag budget from the rows'
    chances of being flagged (:func:`expected_flagged`)."""
    truth = np.asarray(truth, dtype=bool)
    fpr, tpr, _ = sklearn_metrics.roc_curve(truth, score, drop_intermediate=False)
    out = {"tnr_at_95_tpr": 1.0 - fpr[np.argmax(tpr >= 0.95)]}
    for name, budget in (("true", int(truth.sum())), ("estimate", estimate)):
        if budget is None:
            out[f"f1_at_{name}"] = out[f"fnr_at_{name}"] = float("nan")
            continue
        hits = float(np.sum(expected_flagged(score, budget)[truth])) if budget else 0.0
        out[f"f1_at_{name}"] = 2 * hits / (budget + truth.sum())
        out[f"fnr_at_{name}"] = 1 - hits / truth.sum()
    return out


def test_cli_figures_equal_direct_computation(tmp_path):
    images, labels = small_digits(300)
    np.savez(tmp_path / "d.npz", X=images, y=labels)
    started = time.perf_counter()
    proc = run_cli("noise-bench", tmp_path / "d.npz", "--rates", "0.1,0.3", "--seed", 4, "--repeats", 2,
                   "-o", tmp_path / "bench")
    wall = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "bench" / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["rate"], r["method"]) for r in rows] == [(str(rate), m) for rate in (0.1, 0.3) for m in METHODS]
    for r in rows:
        rate = float(r["rate"])
        noisy, flipped = flip_labels(labels, rate, seed=4)
        assert int(r["n_flipped"]) == flipped.sum() == round(rate * 300)
        flags, estimate = None, None
        if r["method"] == "diagnose":
            d = diagnose(images, noisy, seed=4)
            s, flags, estimate = d.suspicion, d.is_label_issue, round(d.estimated_noise_rate * 300)
        elif r["method"] == "cg_score":
            s = score(images, noisy, seed=4, repeats=2).scores
        elif r["method"] == "random":
            s = baselines.random_scores(300, 4)
        elif r["method"] == "knn_disagreement":
            s = baselines.knn_disagreement(images, noisy, 10)
        elif r["method"] == "knn_disagreement_euclidean":
            s = baselines.knn_disagreement_euclidean(images, noisy, 10)
        elif r["method"] == "knn_shapley":
            s, _ = baselines.knn_shapley(images, noisy, 10)
        elif r["method"].startswith("simifeat_"):
            sf = simifeat(images, noisy, rule=r["method"][len("simifeat_"):], k=10, seed=4)
            s, flags, estimate = sf.suspicion, sf.is_label_issue, int(sf.is_label_issue.sum())
        else:
            from cleanlab.filter import find_label_issues

            s = baselines.confident_learning(images, noisy, seed=4)
            flags = find_label_issues(*baselines.cross_validated_probabilities(images, noisy, seed=4))
            estimate = int(flags.sum())
        for metric, value in independent_metrics(s, flipped).items():
            assert float(r[metric]) == pytest.approx(value, rel=0, abs=4e-16), (r["method"], metric)  # measured: ≤ 1.2e-16
        for metric, value in independent_protocol(s, flipped, estimate).items():
            if np.isnan(value):
                assert r[metric] == "nan", (r["method"], metric)
            else:
                assert float(r[metric]) == pytest.approx(value, rel=0, abs=1e-15), (r["method"], metric)
        if flags is None:
            assert r["flag_precision"] == r["flag_recall"] == "nan"
        else:
            hits = np.sum(flags & flipped)
            assert float(r["flag_precision"]) == hits / flags.sum() and float(r["flag_recall"]) == hits / flipped.sum()
        assert r["noise"] == "uniform"
        assert 0 < float(r["seconds"]) < wall  # a method's own time, within the command's
    assert sum(float(r["seconds"]) for r in rows) < wall
    cg = [r for r in rows if r["method"] == "cg_score"]
    rnd = [r for r in rows if r["method"] == "random"]
    assert all(float(a["auroc"]) > float(b["auroc"]) + 0.2 for a, b in zip(cg, rnd))
    dg = [r for r in rows if r["method"] == "diagnose"]
    assert all(float(a["auroc"]) > float(b["auroc"]) for a, b in zip(dg, cg))
    md = (tmp_path / "bench" / "results.md").read_text()
    assert md.count("| cg_score |") == 2 and "| 30% | confident_learning |" in md and "| 10% | diagnose |" in md
    with Image.open(tmp_path / "bench" / "noise_bench.png") as im:
        im.verify()
    assert "| 10% | cg_score |" in proc.stdout


def test_cli_bench_errors_write_nothing(tmp_path):
    assert_one_line_error(run_cli("noise-bench", "digits", "--rates", "0.1,1.2", "-o", tmp_path / "b"), "rate")
    assert_one_line_error(run_cli("noise-bench", "digits", "--methods", "cg_score,magic", "-o", tmp_path / "b"),
                          "unknown method")
    assert_one_line_error(run_cli("noise-bench", tmp_path / "x.npz", "-o", tmp_path / "b"), "no such file")
    assert not list(tmp_path.iterdir())


def test_run_noise_bench_selected_methods():
    images, labels = small_digits(200)
    rows = run_noise_bench(images, labels, [0.2], seed=1, methods=["random", "knn_disagreement"])
    assert [r["method"] for r in rows] == ["random", "knn_disagreement"]
    noisy, flipped = flip_labels(labels, 0.2, seed=1)
    assert rows[1]["auroc"] == auroc(baselines.knn_disagreement(images, noisy), flipped)
    assert to_markdown(rows).count("\n") == 4
    with pytest.raises(ValueError, match="strictly between"):
        run_noise_bench(images, labels, [0.0])


def test_pair_noise_flips_the_same_rows_to_the_next_class():
    _, labels = small_digits(200)
    uniform, flipped_u = flip_labels(labels, 0.2, seed=3, n_classes=10)
    pair, flipped = flip_labels(labels, 0.2, seed=3, n_classes=10, kind="pair")
    np.testing.assert_array_equal(flipped, flipped_u)
    np.testing.assert_array_equal(pair[flipped], (labels[flipped] + 1) % 10)
    np.testing.assert_array_equal(pair[~flipped], labels[~flipped])
    assert np.any(uniform[flipped] != pair[flipped])


def test_cli_pair_noise(tmp_path):
    images, labels = small_digits(200)
    np.savez(tmp_path / "d.npz", X=images, y=labels)
    proc = run_cli("noise-bench", tmp_path / "d.npz", "--rates", "0.2", "--noise", "pair", "--seed", 1,
                   "--methods", "diagnose,knn_disagreement_euclidean", "-o", tmp_path / "bench", "--quiet")
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "bench" / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    noisy, flipped = flip_labels(labels, 0.2, seed=1, kind="pair")
    assert [(r["noise"], r["method"]) for r in rows] == [("pair", "diagnose"), ("pair", "knn_disagreement_euclidean")]
    assert float(rows[0]["auroc"]) == auroc(diagnose(images, noisy, seed=1).suspicion, flipped)
    assert float(rows[1]["auroc"]) == auroc(baselines.knn_disagreement_euclidean(images, noisy, 10), flipped)
    assert "| 20% pair | diagnose |" in (tmp_path / "bench" / "results.md").read_text()
    assert_one_line_error(run_cli("noise-bench", "digits", "--noise", "class", "-o", tmp_path / "b2"), "--noise")


# -- metrics ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_scikit_learn_with_ties(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random(80) < 0.3
    s = np.round(rng.random(80) + truth * 0.3, 1)  # coarse values: many ties
    assert average_precision(s, truth) == pytest.approx(sklearn_metrics.average_precision_score(truth, s), abs=1e-12)
    assert auroc(s, truth) == pytest.approx(sklearn_metrics.roc_auc_score(truth, s), abs=1e-12)
    p, r, _ = sklearn_metrics.precision_recall_curve(truth, s)
    with np.errstate(invalid="ignore"):
        best = np.nanmax(np.where(p + r > 0, 2 * p * r / (p + r), 0))
    assert f1_max(s, truth) == pytest.approx(best, abs=1e-12)


def test_metrics_on_a_perfect_and_a_reversed_score():
    truth = np.array([1, 1, 0, 0, 0], bool)
    good = np.array([9.0, 8, 1, 2, 3])
    assert (auroc(good, truth), average_precision(good, truth), precision_at_k(good, truth), f1_max(good, truth)) \
        == (1.0, 1.0, 1.0, 1.0)
    assert auroc(-good, truth) == 0.0 and precision_at_k(-good, truth) == 0.0
    with pytest.raises(ValueError, match="both"):
        auroc(good, np.ones(5, bool))


# -- baselines ----------------------------------------------------------------------------------------


def _brute_force_knn_shapley(X, y, K):
    """Shapley values of the K-NN utility by enumerating every subset, each row the test row in turn."""
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    n = len(y)

    def utility(S, t):
        nearest = sorted(S, key=lambda j: -Xn[t] @ Xn[j])[:K]
        return sum(y[j] == y[t] for j in nearest) / K

    values = np.zeros(n)
    for t in range(n):
        others = [j for j in range(n) if j != t]
        N = len(others)
        for i in others:
            rest = [j for j in others if j != i]
            for size in range(len(rest) + 1):
                for S in itertools.combinations(rest, size):
                    gain = utility(list(S) + [i], t) - utility(list(S), t)
                    values[i] += gain / (N * comb(N - 1, size))
    return values / (n - 1)


@pytest.mark.parametrize("K", [1, 2, 3])
def test_knn_shapley_exact_equals_brute_force(K):
    rng = np.random.default_rng(K)
    X, y = rng.normal(size=(7, 3)), rng.permutation(np.arange(7) % 2)
    np.testing.assert_allclose(baselines.knn_shapley_exact(X, y, K), _brute_force_knn_shapley(X, y, K), atol=1e-14)


def test_knn_shapley_uses_cleanlab_when_asked_and_own_otherwise():
    images, labels = small_digits(120)
    own, impl = baselines.knn_shapley(images, labels, 5, use_cleanlab=False)
    assert impl.startswith("exact") and np.array_equal(own, -baselines.knn_shapley_exact(images, labels, 5))
    _, impl = baselines.knn_shapley(images, labels, 5, use_cleanlab=True)
    assert "cleanlab" in impl


def test_knn_disagreement_equals_a_loop():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    expected = []
    for i in range(40):
        sim = Xn @ Xn[i]
        sim[i] = -np.inf
        nbrs = np.argsort(-sim, kind="stable")[:5]
        expected.append(np.mean(y[nbrs] != y[i]))
    np.testing.assert_array_equal(baselines.knn_disagreement(X, y, 5), expected)


def test_confident_learning_finds_flips():
    images, labels = small_digits(400)
    noisy, flipped = flip_labels(labels, 0.1, seed=0)
    assert auroc(baselines.confident_learning(images, noisy, seed=0), flipped) > 0.8


def test_nearest_neighbors_of_some_rows_equal_those_of_all():
    images, _ = small_digits(300)
    rows = [299, 0, 17]
    np.testing.assert_array_equal(baselines.nearest_neighbors(images, 7, rows),
                                  baselines.nearest_neighbors(images, 7)[rows])


def test_run_noise_bench_confusable_noise_flips_to_the_nearest_centroid():
    images, labels = small_digits(200)
    rows = run_noise_bench(images, labels, [0.2], seed=2, noise="confusable", methods=["knn_disagreement"])
    noisy, flipped = flip_labels(labels, 0.2, seed=2, n_classes=10, kind="confusable", features=images)
    assert rows[0]["noise"] == "confusable"
    assert rows[0]["auroc"] == auroc(baselines.knn_disagreement(images, noisy), flipped)
    assert np.isnan(rows[0]["fnr_at_estimate"]) and 0 <= rows[0]["fnr_at_true"] <= 1
