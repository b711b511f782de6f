"""The label-noise benchmark: flip seeded fractions of labels, then see who finds them.

For each noise rate a seeded fraction of the labels is flipped (``label_noise.flip_labels`` with
the run's seed): to a uniformly chosen other class (``noise="uniform"``) or from class c to
c + 1 mod K (``noise="pair"``) or to its nearest other class by centroid cosine
(``noise="confusable"``). Every method scores the noisy data, and its suspicion is rated against
the flipped mask (``metrics.detection_metrics`` and ``metrics.protocol_metrics``):

- AUROC; average precision; TNR at 95 % TPR (as Neural Relation Graph, NeurIPS 2023, reports);
- precision at k, with k = the number of flipped labels;
- F1: the best F1 over all thresholds ("flag every row scoring at least t");
- F1 and false-negative rate at a flag budget equal to the true number of flipped rows (the
  protocol of Pickler, Kamassury & Silva 2025), and at the method's own estimate of that number
  for the methods that make one (``diagnose``: the estimated noise rate; SimiFeat and confident
  learning: the rows they flag); empty otherwise;
- flag precision and recall, for the methods that decide which rows to flag: ``diagnose``
  (``is_label_issue``), SimiFeat (its vote or rank rule) and confident learning (cleanlab's
  ``find_label_issues``); empty otherwise.

Methods: ``diagnose`` (its defaults), the CG-score, random scores, k-NN label disagreement
(cosine and Euclidean), KNN Data Shapley, SimiFeat (Zhu, Dong & Liu 2022; ``simifeat_vote`` and
``simifeat_rank``, ``experiments.simifeat``) and confident learning.

Each method's wall time is recorded. Outputs: ``results.csv``, ``results.md`` and
``noise_bench.png``.
"""

from __future__ import annotations

import csv
import math
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from ..utils import atomic_directory, available, require
from . import baselines
from .label_noise import NOISE_KINDS, flip_labels
from .metrics import detection_metrics, flag_metrics, protocol_metrics
from .simifeat import simifeat

METHODS = ("diagnose", "cg_score", "random", "knn_disagreement", "knn_disagreement_euclidean", "knn_shapley",
           "simifeat_vote", "simifeat_rank", "confident_learning")
RANK_METRICS = ("auroc", "average_precision", "precision_at_k", "f1_max")
PROTOCOL_METRICS = ("tnr_at_95_tpr", "f1_at_true", "fnr_at_true", "f1_at_estimate", "fnr_at_estimate")
FLAG_METRICS = ("flag_precision", "flag_recall")
METRICS = (*RANK_METRICS, *PROTOCOL_METRICS, *FLAG_METRICS)
COLUMNS = ("noise", "rate", "n_flipped", "method", *METRICS, "seconds", "implementation")


def default_methods() -> tuple[str, ...]:
    """Every method whose dependencies are installed (confident learning needs scikit-learn and cleanlab)."""
    has_cl = available("sklearn") and available("cleanlab.rank")
    return tuple(m for m in METHODS if m != "confident_learning" or has_cl)


class Detection(NamedTuple):
    """One method's answer on the noisy labels."""

    suspicion: np.ndarray  # higher = more likely mislabeled
    flags: np.ndarray | None  # the rows it flags (None: a method without a flag rule)
    implementation: str
    estimated_noisy: int | None  # its estimate of the number of noisy rows (None: it makes none)


def detect(
    method: str,
    X: np.ndarray,
    labels: np.ndarray,
    *,
    repeats: int = 1,
    seed: int = 0,
    k: int = 10,
    n_threads: int | None = None,
) -> Detection:
    """One method's suspicion, flags, implementation and estimated number of noisy rows."""
    if method == "diagnose":
        from ..diagnosis import diagnose

        d = diagnose(X, labels, seed=seed, n_threads=n_threads)
        return Detection(d.suspicion, d.is_label_issue, f"cgscore_native ({d.kernel}, ridge {d.ridge:g})",
                         int(round(d.estimated_noise_rate * len(labels))))
    if method == "cg_score":
        from ..api import score

        return Detection(score(X, labels, repeats=repeats, seed=seed, n_threads=n_threads).scores, None,
                         "cgscore_native", None)
    if method == "random":
        return Detection(baselines.random_scores(len(labels), seed), None, "numpy uniform", None)
    if method == "knn_disagreement":
        return Detection(baselines.knn_disagreement(X, labels, k), None, f"cosine k={k}", None)
    if method == "knn_disagreement_euclidean":
        return Detection(baselines.knn_disagreement_euclidean(X, labels, k), None, f"Euclidean k={k}", None)
    if method == "knn_shapley":
        values, impl = baselines.knn_shapley(X, labels, k)
        return Detection(values, None, f"{impl} k={k}", None)
    if method in ("simifeat_vote", "simifeat_rank"):
        rule = method.split("_")[1]
        sf = simifeat(X, labels, rule=rule, k=k, seed=seed)
        return Detection(sf.suspicion, sf.is_label_issue, f"SimiFeat-{rule[0].upper()} k={k}, {sf.rounds} rounds",
                         int(sf.is_label_issue.sum()))
    if method == "confident_learning":
        rank = require("cleanlab.rank", "baselines", "The confident-learning baseline")
        cl_filter = require("cleanlab.filter", "baselines", "The confident-learning baseline")
        codes, probs = baselines.cross_validated_probabilities(X, labels, seed)
        quality = rank.get_label_quality_scores(codes, probs, method="self_confidence")
        flags = np.asarray(cl_filter.find_label_issues(codes, probs), dtype=bool)
        return Detection(1.0 - np.asarray(quality, dtype=np.float64), flags,
                         "cleanlab self-confidence, 5-fold logistic regression; flags: find_label_issues",
                         int(flags.sum()))
    raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}.")


def run_noise_bench(
    X: Any,
    labels: Any,
    rates: Sequence[float] = (0.1, 0.2, 0.4),
    *,
    repeats: int = 1,
    seed: int = 0,
    k: int = 10,
    methods: Sequence[str] | None = None,
    n_threads: int | None = None,
    noise: str = "uniform",
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows of the benchmark table, one per (rate, method); see the module docstring.

    ``on_row`` is called with each row as it is finished (for progress displays).
    """
    methods = tuple(methods) if methods is not None else default_methods()
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}.")
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {', '.join(NOISE_KINDS)}; got {noise!r}.")
    for rate in rates:
        if not 0 < rate < 1:
            raise ValueError(f"noise rates must lie strictly between 0 and 1; got {rate}.")
    X = np.asarray(X)
    classes, codes = np.unique(np.asarray(labels), return_inverse=True)
    codes = codes.reshape(-1)
    if classes.size < 2:
        raise ValueError("the benchmark needs at least 2 classes to flip labels between.")
    _import_ahead(methods)
    rows = []
    for rate in rates:
        noisy, flipped = flip_labels(codes, rate, seed=seed, n_classes=classes.size, kind=noise,
                                     features=X if noise == "confusable" else None)
        if not flipped.any():
            raise ValueError(f"rate {rate} flips no label of {codes.size} rows; use a larger rate.")
        for method in methods:
            start = time.perf_counter()
            found = detect(method, X, noisy, repeats=repeats, seed=seed, k=k, n_threads=n_threads)
            seconds = time.perf_counter() - start
            row = {"noise": noise, "rate": float(rate), "n_flipped": int(flipped.sum()), "method": method}
            row.update(detection_metrics(found.suspicion, flipped))
            row.update(protocol_metrics(found.suspicion, flipped, found.estimated_noisy))
            row.update(flag_metrics(found.flags, flipped) if found.flags is not None
                       else dict.fromkeys(FLAG_METRICS, math.nan))
            row.update(seconds=seconds, implementation=found.implementation)
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def _import_ahead(methods: Sequence[str]) -> None:
    """Import the baselines' libraries before the clock starts, so times measure work, not imports."""
    modules = {"knn_shapley": ["cleanlab.data_valuation"],
               "confident_learning": ["sklearn.linear_model", "sklearn.model_selection", "cleanlab.rank",
                                      "cleanlab.filter"]}
    for m in methods:
        for name in modules.get(m, []):
            available(name)


def to_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The table as GitHub markdown, figures to 3 decimals and times to 2 (FNR@budget: the flag budget
    is the true number of flipped rows; FNR@estimate: the method's own estimate of it)."""
    head = ["noise", "method", "AUROC", "avg. precision", "TNR@95%TPR", "best F1", "FNR@budget", "FNR@estimate",
            "flag precision", "flag recall", "time (s)"]
    shown = ("auroc", "average_precision", "tnr_at_95_tpr", "f1_max", "fnr_at_true", "fnr_at_estimate",
             *FLAG_METRICS)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        kind = "" if r.get("noise", "uniform") == "uniform" else f" {r['noise']}"
        figures = ("—" if math.isnan(r[m]) else f"{r[m]:.3f}" for m in shown)
        cells = [f"{r['rate']:.0%}{kind}", r["method"], *figures, f"{r['seconds']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: Sequence[dict[str, Any]], path: str | os.PathLike, title: str = "") -> None:
    """One panel per metric: the figure against the noise rate, one line per method."""
    require("matplotlib", "report", "The noise-bench plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    names = {"auroc": "AUROC", "average_precision": "average precision", "precision_at_k": "precision at k",
             "f1_max": "best F1"}
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for i, metric in enumerate(RANK_METRICS):
        ax = fig.add_subplot(1, len(RANK_METRICS), i + 1)
        for m in methods:
            pts = [(r["rate"], r[metric]) for r in rows if r["method"] == m]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=m)
        ax.set_xlabel("noise rate")
        ax.set_title(names[metric])
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=110)


def write_noise_bench(rows: Sequence[dict[str, Any]], out_dir: str | os.PathLike, force: bool = False,
                      title: str = "") -> Path:
    """Write ``results.csv``, ``results.md`` and ``noise_bench.png`` into ``out_dir`` (atomically)."""
    out_dir = Path(out_dir)
    with atomic_directory(out_dir, force, kind="noise-bench") as tmp:
        with open(tmp / "results.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            for r in rows:
                # repr keeps every digit, so the CSV reads back to the exact figures.
                writer.writerow({c: repr(r[c]) if isinstance(r[c], float) else r[c] for c in COLUMNS})
        (tmp / "results.md").write_text((f"{title}\n\n" if title else "") + to_markdown(rows), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # font-cache notes on a fresh machine
            plot(rows, tmp / "noise_bench.png", title)
    return out_dir
