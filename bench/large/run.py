"""Side-by-side runs of the large-data diagnosis (bench/large/README.md).

    python bench/large/run.py scale --n 1000000 --out bench/large/results_1m.json
        the mixture of make_data.py (generated into --data if absent), default diagnose() on the
        memory-mapped .npy; time, peak RSS, AUROC; k-NN disagreement on a subsample of ≤ 50 000 rows
    python bench/large/run.py compare --set multicluster --n 20000 [--ridge 0.3 --rounds 0]
        exact vs large on the same data and arguments: time and AUROC of each

Each record carries `uptime`'s load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import make_data  # noqa: E402

import cgscore_native as cg  # noqa: E402
from cgscore_native.experiments.baselines import knn_disagreement  # noqa: E402
from cgscore_native.experiments.label_noise import flip_labels  # noqa: E402
from cgscore_native.experiments.metrics import auroc  # noqa: E402

KNN_SUBSAMPLE = 50_000


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def data_set(name: str, n: int):
    """(X, noisy labels, flipped) of a named set."""
    if name == "multicluster":
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=n, n_features=40, n_informative=12, n_redundant=4, n_classes=5,
                                   n_clusters_per_class=8, class_sep=1.5, random_state=1)
    elif name == "mixture":
        basis, centres = make_data.mixture(0)
        X, y = make_data.shard(0, 0, n, basis, centres)
    elif name == "blobs":  # smooth: one Gaussian per class, 64 features
        rng = np.random.default_rng(1)
        y = rng.integers(0, 10, size=n)
        X = (rng.standard_normal((10, 64)) * 0.6)[y] + rng.standard_normal((n, 64))
    else:
        raise SystemExit(f"unknown set {name!r}")
    noisy, flipped = flip_labels(np.asarray(y), 0.2, seed=0)
    return X, noisy, flipped


def compare(args) -> None:
    X, y, flipped = data_set(args.set, args.n)
    ridge = "auto" if args.ridge is None else args.ridge
    out = {"set": args.set, "n": args.n, "ridge": ridge, "rounds": args.rounds, "kernel": args.kernel}
    for mode in args.modes.split(","):
        load = load_average()
        t = time.perf_counter()
        d = cg.diagnose(X, y, mode=mode, ridge=ridge, rounds=args.rounds, kernel=args.kernel, seed=0)
        out[mode] = {"seconds": round(time.perf_counter() - t, 1), "auroc": round(auroc(d.suspicion, flipped), 4),
                     "ridge": d.ridge, "load_before": load, "load_after": load_average(),
                     **{k: d.params[k] for k in ("cells", "largest_fit") if k in d.params}}
        print(json.dumps(out), flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(out) + "\n")


def scale(args) -> None:
    folder = args.data or f"/tmp/cgscore-mixture-{args.n}"
    if not os.path.exists(os.path.join(folder, "flipped.npy")):
        t = time.perf_counter()
        make_data.write(folder, args.n, args.n, 0)  # one shard: memory-mapped as it is
        print(f"generated {folder} in {time.perf_counter() - t:.0f} s", flush=True)
    X, y, flipped = make_data.load(folder)
    record = {"n": args.n, "features": int(X.shape[1]), "input_gib": round(X.nbytes / 2**30, 3),
              "load_before": load_average(), "command": " ".join(sys.argv)}
    t = time.perf_counter()
    d = cg.diagnose(X, y, seed=0, progress=args.progress)
    record.update(seconds=round(time.perf_counter() - t, 1), peak_rss_gib=round(peak_rss_gib(), 3),
                  auroc=round(auroc(d.suspicion, flipped), 4), mode=d.mode, ridge=d.ridge,
                  params={k: v for k, v in d.params.items() if k != "ridge_grid"}, load_after=load_average())
    print(json.dumps(record), flush=True)
    rng = np.random.default_rng(0)
    sub = np.sort(rng.choice(args.n, size=min(args.n, KNN_SUBSAMPLE), replace=False))
    t = time.perf_counter()
    knn = knn_disagreement(np.asarray(X[sub]), y[sub])
    record.update(knn_subsample=int(sub.size), knn_auroc=round(auroc(knn, flipped[sub]), 4),
                  knn_seconds=round(time.perf_counter() - t, 1),
                  large_auroc_on_subsample=round(auroc(d.suspicion[sub], flipped[sub]), 4))
    print(json.dumps(record), flush=True)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("scale")
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--data")
    s.add_argument("--out", required=True)
    s.add_argument("--progress", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("--set", required=True)
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--ridge", type=float)
    c.add_argument("--rounds", type=int, default=1)
    c.add_argument("--kernel", default="paper")
    c.add_argument("--modes", default="exact,large")
    c.add_argument("--out")
    args = ap.parse_args()
    (scale if args.command == "scale" else compare)(args)


if __name__ == "__main__":
    main()
