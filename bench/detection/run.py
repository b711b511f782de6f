"""Detection bench: diagnose (paper kernel, auto, each fixed depth) against k-NN disagreement,
SimiFeat and confident learning on 15 data sets that install offline (datasets.py).

Noise: uniform 10/20/40 %, pair 20 %; flip seeds ``--seeds``. Metrics: AUROC, AP, TNR at 95 % TPR
and the FNR at a flag budget equal to the true number of flipped rows. Each finished cell is
appended to results.jsonl (a rerun skips the cells already there); results.md is the summary.

    python bench/detection/run.py --seeds 0        # the table of README.md
    python bench/detection/run.py --summary        # results.md from results.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import DATASETS, load  # noqa: E402

from cgscore_native import diagnose  # noqa: E402
from cgscore_native.experiments import baselines  # noqa: E402
from cgscore_native.experiments.label_noise import flip_labels  # noqa: E402
from cgscore_native.experiments.metrics import auroc, average_precision, budget_metrics, tnr_at_tpr  # noqa: E402
from cgscore_native.experiments.simifeat import simifeat  # noqa: E402

NOISES = (("uniform", 0.1), ("uniform", 0.2), ("uniform", 0.4), ("pair", 0.2))
DIAGNOSE = {"paper": "paper", "auto": "auto", "depth-1": 1, "depth-2": 2, "depth-4": 4, "depth-8": 8}
PEERS = ("knn", "simifeat", "confident_learning")
METHODS = (*DIAGNOSE, *PEERS)


def suspicion(method: str, X: np.ndarray, noisy: np.ndarray) -> tuple[np.ndarray, str]:
    if method in DIAGNOSE:
        d = diagnose(X, noisy, kernel=DIAGNOSE[method])
        return d.suspicion, f"{d.kernel}, λ {d.ridge:.3g}"
    if method == "knn":
        return baselines.knn_disagreement(X, noisy, 10), "cosine k=10"
    if method == "simifeat":
        return simifeat(X, noisy, rule="vote", k=10, seed=0).suspicion, "vote rule"
    return baselines.confident_learning(X, noisy, seed=0), "5-fold LR"


def run(seeds: list[int], out: Path) -> None:
    done = set()
    if out.exists():
        done = {(r["data"], r["noise"], r["rate"], r["seed"], r["method"]) for r in map(json.loads, out.open())}
    with out.open("a") as f:
        # the small sets first, the 1797- and 2500-row ones last
        for name in sorted(DATASETS, key=lambda d: d in ("digits", "multicluster-5c8", "multicluster-5c4")):
            X, y = load(name)
            K = int(y.max() + 1)
            for kind, rate in NOISES:
                for seed in seeds:
                    noisy, flipped = flip_labels(y, rate, seed=seed, n_classes=K, kind=kind)
                    for method in METHODS:
                        if (name, kind, rate, seed, method) in done:
                            continue
                        start = time.perf_counter()
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")  # ridge-edge and noise warnings: measured, not shown
                            s, note = suspicion(method, X, noisy)
                        row = {"data": name, "noise": kind, "rate": rate, "seed": seed, "method": method,
                               "auroc": auroc(s, flipped), "ap": average_precision(s, flipped),
                               "tnr95": tnr_at_tpr(s, flipped, 0.95),
                               "fnr_budget": budget_metrics(s, flipped, int(flipped.sum()))["fnr"],
                               "seconds": time.perf_counter() - start, "note": note}
                        f.write(json.dumps(row) + "\n")
                        f.flush()
                    print(name, kind, rate, seed, flush=True)


def summary(out: Path) -> str:
    rows = [json.loads(line) for line in out.open()]
    cells = sorted({(r["data"], r["noise"], r["rate"], r["seed"]) for r in rows},
                   key=lambda c: (list(DATASETS).index(c[0]), c[1] != "uniform", c[2], c[3]))
    by = {(r["data"], r["noise"], r["rate"], r["seed"], r["method"]): r for r in rows}
    cells = [c for c in cells if all((*c, m) in by for m in METHODS)]
    lines = ["| data | noise | " + " | ".join(METHODS) + " | auto chose |", "|" + "---|" * (len(METHODS) + 3)]
    for c in cells:
        best = max(by[(*c, m)]["auroc"] for m in METHODS)
        figs = [f"**{by[(*c, m)]['auroc']:.3f}**" if by[(*c, m)]["auroc"] == best else f"{by[(*c, m)]['auroc']:.3f}"
                for m in METHODS]
        lines.append(f"| {c[0]} | {c[2]:.0%} {c[1]} | " + " | ".join(figs) + f" | {by[(*c, 'auto')]['note']} |")
    lines += ["", f"Mean over {len(cells)} cells:", "",
              "| metric | " + " | ".join(METHODS) + " |", "|" + "---|" * (len(METHODS) + 1)]
    for metric in ("auroc", "ap", "tnr95", "fnr_budget", "seconds"):
        lines.append(f"| {metric} | " + " | ".join(f"{np.mean([by[(*c, m)][metric] for c in cells]):.4f}"
                                                    for m in METHODS) + " |")
    peer_best = [max(by[(*c, m)]["auroc"] for m in PEERS) for c in cells]
    for m in ("paper", "auto"):
        mine = [by[(*c, m)]["auroc"] for c in cells]
        ok = sum(a >= b - 0.002 for a, b in zip(mine, peer_best))
        lines.append(f"\n{m}: AUROC ≥ best peer − 0.002 in {ok} of {len(cells)} cells; "
                     f"≥ best peer in {sum(a >= b for a, b in zip(mine, peer_best))}.")
    oracle = [max(by[(*c, m)]["auroc"] for m in DIAGNOSE if m != "auto") for c in cells]
    lines.append(f"\nOracle depth (best of paper, 1, 2, 4, 8 per cell): mean AUROC {np.mean(oracle):.4f}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")], default=[0])
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args()
    out = HERE / "results.jsonl"
    if not args.summary:
        run(args.seeds, out)
    text = summary(out)
    (HERE / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
