"""Would local kernels close the gap to SimiFeat? A sweep (NumPy) of the Gaussian (RBF) and
Laplace kernels on the unit rows beside the NTK family of kernel="auto", every (kernel, λ) chosen
by the same PRESS, round 0 only; AUROC against the flipped rows, compared with the peers of
results.jsonl (same cells, flip seed 0).

    exp(−γ‖u − u′‖²) = exp(−2γ(1 − cos)),  γ ∈ GAMMAS;   exp(−γ‖u − u′‖),  γ ∈ (2, 4, 8, 16)

    python bench/detection/local_kernels.py            # about 3 min on 2 cores; local_kernels.json
    python bench/detection/local_kernels.py --summary  # the table of README.md from the saved sweep
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

RELATIVE = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # λ / (diagonal / ½)
GAMMAS = (1, 2, 4, 8, 16, 32, 64)
NOISES = (("uniform", 0.1), ("uniform", 0.2), ("uniform", 0.4), ("pair", 0.2))
PEERS = ("knn", "simifeat", "confident_learning")
FAMILIES = {"NTKs (kernel='auto')": ("ntk",), "NTKs + RBF": ("ntk", "rbf"), "NTKs + Laplace": ("ntk", "lap"),
            "NTKs + RBF + Laplace": ("ntk", "rbf", "lap"), "RBF only": ("rbf",)}


def kernels(U: np.ndarray):
    """(name, Gram matrix, diagonal) of every candidate."""
    C = np.clip(U @ U.T, -1.0, 1.0)
    for depth in (0, 1, 2, 4, 8):
        yield f"ntk{depth}", cross_gram(U, U, depth), Kernel(depth).diagonal
    for g in GAMMAS:
        yield f"rbf{g}", np.exp(-g * (2 - 2 * C)), 1.0
    for g in (2, 4, 8, 16):
        yield f"lap{g}", np.exp(-g * np.sqrt(np.maximum(2 - 2 * C, 0.0))), 1.0


def sweep(seed: int = 0) -> list[dict]:
    cells = []
    for name in DATASETS:
        X, y = load(name)
        K = int(y.max() + 1)
        spectra = [(k, *np.linalg.eigh(G), diag) for k, G, diag in kernels(unit_rows(X))]
        for kind, rate in NOISES:
            noisy, flipped = flip_labels(y, rate, seed=seed, n_classes=K, kind=kind)
            Y = signed_targets(noisy, K)
            rows = []
            for k, s, V, diag in spectra:
                VtY, V2 = V.T @ Y, V * V
                for rel in RELATIVE:
                    lam = rel * diag / 0.5
                    if np.any(s + lam <= 1e-10 * s[-1]):
                        continue
                    w = 1.0 / (s + lam)
                    R = (V @ (w[:, None] * VtY)) / (V2 @ w)[:, None]  # leave-one-out residuals
                    rows.append({"k": k, "rel": rel, "press": float(np.sum(R * R) / R.size),
                                 "auroc": auroc(margins(Y - R, noisy)[0], flipped)})
            cells.append({"data": name, "noise": kind, "rate": rate, "seed": seed, "rows": rows})
        print(name, flush=True)
    return cells


def summary(cells: list[dict], results: Path) -> str:
    ref = {}
    for line in results.open():
        r = json.loads(line)
        ref[(r["data"], r["noise"], r["rate"], r["seed"], r["method"])] = r["auroc"]
    lines = ["| candidates | mean AUROC | cells ≥ best peer − 0.002 |", "|---|---|---|"]
    keys = [(c["data"], c["noise"], c["rate"], c["seed"]) for c in cells]
    peer = [max(ref[(*key, m)] for m in PEERS) for key in keys]
    for label, prefixes in FAMILIES.items():
        picks = [min((r for r in c["rows"] if r["k"].startswith(prefixes)), key=lambda r: (r["press"], -r["rel"]))
                 for c in cells]
        a = [p["auroc"] for p in picks]
        lines.append(f"| {label} | {np.mean(a):.4f} | {sum(x >= b - 0.002 for x, b in zip(a, peer))} of {len(a)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args()
    path = HERE / "local_kernels.json"
    if not args.summary:
        path.write_text(json.dumps(sweep()))
    print(summary(json.loads(path.read_text()), HERE / "results.jsonl"))


if __name__ == "__main__":
    main()
