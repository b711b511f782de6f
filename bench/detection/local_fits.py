"""The share of the rows a local fit holds: diagnose(mode="large") on the detection bench's
cells with the cells set to fits of share · n rows (core a tenth of them), against the stored
paper rows and the best peer of results.jsonl.

    python bench/detection/local_fits.py --shares 0.3,0.45,0.6,0.8     # about 2 min per share
    python bench/detection/local_fits.py --shares "" --kernels relu-ntk-2,relu-ntk-4 --seeds 0

``--kernels``: the package's own cells (no share set) with each kernel besides.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from datasets import DATASETS, load  # noqa: E402
from run import NOISES, PEERS  # noqa: E402

import cgscore_native as cg  # noqa: E402
from cgscore_native import _large  # noqa: E402
from cgscore_native.experiments.label_noise import flip_labels  # noqa: E402
from cgscore_native.experiments.metrics import auroc  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shares", default="0.3,0.45,0.6,0.8")
    ap.add_argument("--kernels", default="", help="kernels to run in the package's own cells")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--results", default=str(Path(__file__).with_name("results.jsonl")))
    args = ap.parse_args()
    shares = [float(v) for v in args.shares.split(",") if v]
    kernels = [k for k in args.kernels.split(",") if k]
    package_shape = _large.cell_shape
    rows = {}
    for line in open(args.results):
        r = json.loads(line)
        rows[(r["data"], r["noise"], r["rate"], r["seed"], r["method"])] = r
    total: dict[object, list[float]] = {k: [] for k in ["paper", "best", *shares, *kernels]}
    for name in DATASETS:
        X, y = load(name)
        K, n = int(y.max() + 1), len(y)
        mine: dict[object, list[float]] = {k: [] for k in total}
        for kind, rate in NOISES:
            for seed in map(int, args.seeds.split(",")):
                key = (name, kind, rate, seed)
                if (*key, "paper") not in rows:
                    continue
                noisy, flipped = flip_labels(y, rate, seed=seed, n_classes=K, kind=kind)
                mine["paper"].append(rows[(*key, "paper")]["auroc"])
                mine["best"].append(max(rows[(*key, m)]["auroc"] for m in PEERS if (*key, m) in rows))
                for share in shares:
                    fit = max(20, int(share * n))
                    core = max(2, fit // 10)
                    _large.cell_shape = lambda n_, c=core, h=fit - core: (c, h)  # noqa: E731 (the swept parameter)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        d = cg.diagnose(X, noisy, mode="large", seed=0)
                    mine[share].append(auroc(d.suspicion, flipped))
                _large.cell_shape = package_shape
                for kernel in kernels:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        d = cg.diagnose(X, noisy, mode="large", kernel=kernel, seed=0)
                    mine[kernel].append(auroc(d.suspicion, flipped))
        for k in total:
            total[k] += mine[k]
        print(name, n, {str(k): round(float(np.mean(v)), 4) for k, v in mine.items()}, flush=True)
    best = np.array(total["best"])
    for k, v in total.items():
        a = np.array(v)
        print(f"{k}: mean AUROC {a.mean():.4f}, cells ≥ best peer − 0.002: {int((a >= best - 0.002).sum())} of {a.size}")


if __name__ == "__main__":
    main()
