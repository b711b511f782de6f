"""The ``label_diagnosis`` Datalab issue type against cleanlab's own ``label`` issue type, on the same data.

Data: scikit-learn's digits (pixels) and wine (standardized), uniform label noise at 10 % and
20 %, three flip seeds. Issue types, each through ``Datalab.find_issues`` and read back with
``lab.get_issues``:

- ``label_diagnosis``: features only (``cgscore_native.integrations.cleanlab``, defaults);
- ``label`` (confident learning) with ``pred_probs`` from 5-fold stratified cross-validated
  logistic regression on standardized features (the noise bench's
  ``baselines.cross_validated_probabilities``), as cleanlab's tutorials do;
- ``label`` with ``pred_probs=Diagnosis.pred_probs()``: the diagnosis's calibrated
  probabilities through cleanlab's own flagging.

Per cell: the flags' precision and recall (``is_<name>_issue`` against the flipped rows), the
AUROC of ``<name>_score`` (lower = worse), and the wall time of the step that needs the
features (the diagnosis, or the cross-validation plus cleanlab's label step).

    python bench/datalab/run.py            # → results.md, results.json beside this file
    python bench/datalab/run.py --quick    # seed 0 only
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import cgscore_native as cg
import cgscore_native.integrations.cleanlab  # noqa: F401  (registers label_diagnosis)
from cgscore_native.experiments import baselines
from cgscore_native.experiments.label_noise import flip_labels
from cgscore_native.experiments.metrics import auroc

HERE = Path(__file__).resolve().parent
DATASETS = ("digits", "wine")
RATES = (0.1, 0.2)
SEEDS = (0, 1, 2)
METHODS = ("label_diagnosis", "label (5-fold logistic regression)", "label (Diagnosis.pred_probs)")


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        return X.astype(np.float64), y
    X, y = datasets.load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def logistic_pred_probs(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities, columns in sorted class order (the Datalab's codes for labels 0..K-1)."""
    return baselines.cross_validated_probabilities(X, labels, seed=0, folds=5)[1]


def datalab_issues(labels: np.ndarray, issue: str, **find_issues_args) -> tuple[np.ndarray, np.ndarray]:
    """(is_issue, score) of one issue type, found by Datalab itself."""
    from cleanlab import Datalab

    lab = Datalab(data={"y": labels}, label_name="y", verbosity=0)
    with contextlib.redirect_stdout(io.StringIO()):  # Datalab prints its progress
        lab.find_issues(issue_types={issue: {}}, **find_issues_args)
    frame = lab.get_issues(issue)
    return frame[f"is_{issue}_issue"].to_numpy(bool), frame[f"{issue}_score"].to_numpy(float)


def figures(flags: np.ndarray, score: np.ndarray, flipped: np.ndarray, seconds: float) -> dict[str, float]:
    return {
        "flagged": int(flags.sum()),
        "precision": float(flipped[flags].mean()) if flags.any() else 0.0,
        "recall": float(flags[flipped].mean()),
        "auroc": auroc(-score, flipped),
        "seconds": seconds,
    }


def cell(X: np.ndarray, noisy: np.ndarray, flipped: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    t = time.perf_counter()
    flags, score = datalab_issues(noisy, "label_diagnosis", features=X)
    out[METHODS[0]] = figures(flags, score, flipped, time.perf_counter() - t)

    t = time.perf_counter()
    probs = logistic_pred_probs(X, noisy)
    flags, score = datalab_issues(noisy, "label", pred_probs=probs)
    out[METHODS[1]] = figures(flags, score, flipped, time.perf_counter() - t)

    t = time.perf_counter()
    probs = cg.diagnose(X, noisy).pred_probs()  # classes sorted: the Datalab's codes for 0..K-1 labels
    flags, score = datalab_issues(noisy, "label", pred_probs=probs)
    out[METHODS[2]] = figures(flags, score, flipped, time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seed 0 only")
    args = parser.parse_args()
    seeds = SEEDS[:1] if args.quick else SEEDS

    rows = []
    for name in DATASETS:
        X, y = load(name)
        for rate in RATES:
            for seed in seeds:
                noisy, flipped = flip_labels(y, rate, seed)
                for method, fig in cell(X, noisy, flipped).items():
                    rows.append({"dataset": name, "rate": rate, "seed": seed, "method": method, **fig})
                    print(f"{name:7s} {rate:.0%} seed {seed} {method:36s} " + " ".join(
                        f"{k} {v:.3f}" for k, v in fig.items() if k != "flagged"), flush=True)

    lines = [
        "# label_diagnosis vs cleanlab's label issue type (Datalab, same data)",
        "",
        f"Mean over seeds {list(seeds)}; uniform label noise. Command: `python bench/datalab/run.py"
        f"{' --quick' if args.quick else ''}`.",
        f"Machine: {platform.processor() or platform.machine()}, cgscore_native {cg.__version__}.",
        "",
        "| data | noise | issue type | flagged | precision | recall | AUROC | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in DATASETS:
        for rate in RATES:
            for method in METHODS:
                group = [r for r in rows if r["dataset"] == name and r["rate"] == rate and r["method"] == method]
                mean = {k: statistics.fmean(r[k] for r in group) for k in ("flagged", "precision", "recall", "auroc", "seconds")}
                lines.append(f"| {name} | {rate:.0%} | {method} | {mean['flagged']:.0f} | {mean['precision']:.3f} | "
                             f"{mean['recall']:.3f} | {mean['auroc']:.4f} | {mean['seconds']:.2f} |")
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    (HERE / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
