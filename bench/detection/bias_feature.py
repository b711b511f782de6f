"""A bias feature before the normalization: does keeping each row's norm help the diagnosis?

The kernels read the unit rows u = x/‖x‖, which forgets ‖x‖ (in a standardized table: how far
a row sits from the centre). Appending a constant b·r (r = the rows' RMS norm) before
normalizing keeps it: u = [x, b·r]/‖[x, b·r]‖. For each b in BIAS the NTK family of
kernel="auto" (paper, depth 1/2/4/8) and its λ grid are searched by PRESS, round 0 (NumPy);
"choose b" picks the b of least PRESS as well. AUROC against the flipped rows, beside kernel="auto"
and the best peer of results.jsonl (the same cells).

    python bench/detection/bias_feature.py --seeds 0,1,2 [--datasets iris,wine]   # bias_feature.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import DATASETS, load  # noqa: E402

from cgscore_native._kernels import Kernel, cross_gram  # noqa: E402
from cgscore_native._loo import margins, signed_targets  # noqa: E402
from cgscore_native.experiments.baselines import unit_rows  # noqa: E402
from cgscore_native.experiments.label_noise import flip_labels  # noqa: E402
from cgscore_native.experiments.metrics import auroc  # noqa: E402

RELATIVE = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # λ / (diagonal / ½)
NOISES = (("uniform", 0.1), ("uniform", 0.2), ("uniform", 0.4), ("pair", 0.2), ("pair", 0.3))
BIAS = (0.0, 0.5, 1.0, 2.0)
PEERS = ("knn", "knn_euclidean", "knn_shapley", "simifeat", "confident_learning")


def spectra(X: np.ndarray, b: float) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(eigenvalues, eigenvectors, diagonal) of each NTK on the rows with the bias feature b·r."""
    if b:
        r = np.sqrt(np.mean(np.sum(X.astype(np.float64) ** 2, axis=1)))
        X = np.c_[X, np.full(len(X), b * r)]
    U = unit_rows(X)
    return [(*np.linalg.eigh(cross_gram(U, U, depth)), Kernel(depth).diagonal) for depth in (0, 1, 2, 4, 8)]


def least_press(specs, Y: np.ndarray, noisy: np.ndarray, flipped: np.ndarray) -> tuple[float, float]:
    """(PRESS, AUROC) of the (kernel, λ) of least PRESS."""
    best = (np.inf, 0.0)
    for s, V, diag in specs:
        VtY, V2 = V.T @ Y, V * V
        for rel in RELATIVE:
            w = 1.0 / (s + rel * diag / 0.5)
            R = (V @ (w[:, None] * VtY)) / (V2 @ w)[:, None]
            press = float(np.sum(R * R) / R.size)
            if press < best[0]:
                best = (press, auroc(margins(Y - R, noisy)[0], flipped))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=lambda v: [int(x) for x in v.split(",")], default=[0])
    ap.add_argument("--datasets", type=lambda v: v.split(","), default=list(DATASETS))
    args = ap.parse_args()
    ref = {}
    for line in (HERE / "results.jsonl").open():
        r = json.loads(line)
        ref[(r["data"], r["noise"], r["rate"], r["seed"], r["method"])] = r["auroc"]
    rows = []
    with (HERE / "bias_feature.jsonl").open("w") as out:
        for name in args.datasets:
            X, y = load(name)
            K = int(y.max() + 1)
            by_bias = {b: spectra(X, b) for b in BIAS}
            for kind, rate in NOISES:
                for seed in args.seeds:
                    noisy, flipped = flip_labels(y, rate, seed=seed, n_classes=K, kind=kind)
                    Y = signed_targets(noisy, K)
                    picks = {b: least_press(specs, Y, noisy, flipped) for b, specs in by_bias.items()}
                    key = (name, kind, rate, seed)
                    row = {"data": name, "noise": kind, "rate": rate, "seed": seed,
                           **{f"bias {b:g}": picks[b][1] for b in BIAS},
                           "choose b": min(picks.values())[1],
                           "auto": ref.get((*key, "auto")), "best peer": max(ref.get((*key, m), np.nan) for m in PEERS)}
                    rows.append(row)
                    out.write(json.dumps(row) + "\n")
            print(name, flush=True)
    cols = [*(f"bias {b:g}" for b in BIAS), "choose b", "auto", "best peer"]
    peer = np.array([r["best peer"] for r in rows])
    print("| | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))
    print("| mean AUROC | " + " | ".join(f"{np.mean([r[c] for r in rows]):.4f}" for c in cols) + " |")
    print("| cells ≥ best peer − 0.002 | " + " | ".join(
        f"{int(np.sum(np.array([r[c] for r in rows]) >= peer - 0.002))} of {len(rows)}" for c in cols) + " |")
    for name in args.datasets:
        mine = [r for r in rows if r["data"] == name]
        print(f"{name}: " + ", ".join(f"{c} {np.mean([r[c] for r in mine]):.4f}" for c in cols))


if __name__ == "__main__":
    main()
