"""The choice criterion of diagnose(kernel="auto") under heavy noise: a sweep that scores every
(kernel, λ) once and rates each criterion by the AUROC of the pair it would choose.

For every cell (data set × noise × flip seed) and every kernel of the family (paper, ReLU NTK of
depth 1, 2, 4, 8) and λ of its grid, one eigendecomposition gives round 0 (leave-one-out
predictions F of every λ), and one cleaning round is refitted as diagnose does it (set aside the
clip(estimated noise, 0.05, 0.5) share of rows of highest margin, refit on the rest, predict the
set-aside rows). Recorded: AUROC of round 0 and after the round, and the criteria's values:

- ``press``: ‖Y − F‖² / (nK), today's criterion;
- ``scaled``: the PRESS of the best multiple c·F (c fitted once for all classes),
  1 − ⟨Y, F⟩² / (‖Y‖²‖F‖²): blind to the fit's amplitude, which heavy noise shrinks, so it
  rates only the shape of the fit;
- ``error``: the share of rows whose leave-one-out argmax is not the given label (ties: PRESS).

Data sets with more than ``--rows`` rows are cut to a stratified subsample (fixed seed) to keep
the sweep small. Output: criteria.json (every value) and the summary on stdout.

    python bench/detection/criteria.py              # the sweep (about 6 min on 2 cores)
    python bench/detection/criteria.py --summary    # the summary of a saved sweep
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import DATASETS, load  # noqa: E402

from cgscore_native._kernel_choice import CANDIDATE_DEPTHS, RELATIVE_RIDGES  # noqa: E402
from cgscore_native._kernels import Kernel, cross_gram  # noqa: E402
from cgscore_native._loo import margins, signed_targets  # noqa: E402
from cgscore_native.experiments.baselines import unit_rows  # noqa: E402
from cgscore_native.experiments.label_noise import flip_labels  # noqa: E402
from cgscore_native.experiments.metrics import auroc  # noqa: E402

NOISES = (("uniform", 0.1), ("uniform", 0.2), ("uniform", 0.4), ("pair", 0.2))
SEEDS = (0, 1)
GRID = (*RELATIVE_RIDGES, 100.0, 300.0)  # the top of the widened grid too


def subsample(codes: np.ndarray, limit: int, seed: int = 7) -> np.ndarray:
    if codes.size <= limit:
        return np.arange(codes.size)
    rng = np.random.default_rng(seed)
    K = codes.max() + 1
    take = [rng.choice(np.flatnonzero(codes == c), size=max(2, round(limit * np.mean(codes == c))), replace=False)
            for c in range(K)]
    return np.sort(np.concatenate(take))


def clean_round(G: np.ndarray, Y: np.ndarray, codes: np.ndarray, F0: np.ndarray, lam: float, share: float) -> np.ndarray:
    """One cleaning round as _loo.clean_rounds does it, in NumPy."""
    n = codes.size
    m0 = margins(F0, codes)[0]
    count = min(int(round(share * n)), n - 2)
    order = np.argsort(-m0, kind="stable")
    out, keep = np.sort(order[:count]), np.sort(order[count:])
    H = G[np.ix_(keep, keep)] + lam * np.eye(keep.size)
    Hinv = np.linalg.inv(H)
    A = Hinv @ Y[keep]
    F = np.empty_like(F0)
    F[keep] = Y[keep] - A / np.diag(Hinv)[:, None]
    F[out] = G[np.ix_(out, keep)] @ A
    return F


def sweep_cell(U: np.ndarray, codes: np.ndarray, flipped: np.ndarray, K: int) -> list[dict]:
    Y = signed_targets(codes, K)
    rows = []
    for depth in CANDIDATE_DEPTHS:
        G = cross_gram(U, U, depth)
        s, V = np.linalg.eigh(G)
        VtY, V2 = V.T @ Y, V * V
        scale = Kernel(depth).diagonal / 0.5
        for rel in GRID:
            lam = rel * scale
            w = 1.0 / (s + lam)
            A = V @ (w[:, None] * VtY)
            R = A / (V2 @ w)[:, None]
            F0 = Y - R
            m0, sugg = margins(F0, codes)
            noise = float(np.mean(sugg != codes))
            F1 = clean_round(G, Y, codes, F0, lam, min(max(noise, 0.05), 0.5))
            rows.append({
                "depth": depth, "relative": rel,
                "press": float(np.sum(R * R) / R.size),
                "scaled": float(1 - np.sum(Y * F0) ** 2 / (np.sum(Y * Y) * np.sum(F0 * F0))),
                "error": noise,
                "dof": float(np.sum(s / (s + lam)) / codes.size),  # effective degrees of freedom / n
                "auroc0": auroc(m0, flipped), "auroc1": auroc(margins(F1, codes)[0], flipped),
            })
    return rows


def run(limit: int) -> list[dict]:
    cells = []
    for name in DATASETS:
        X, y = load(name)
        keep = subsample(y, limit)
        X, y = X[keep], y[keep]
        K = int(y.max() + 1)
        U = unit_rows(X)
        for kind, rate in NOISES:
            for seed in SEEDS:
                t = time.perf_counter()
                noisy, flipped = flip_labels(y, rate, seed=seed, n_classes=K, kind=kind)
                cells.append({"data": name, "noise": kind, "rate": rate, "seed": seed, "K": K, "n": int(y.size),
                              "sweep": sweep_cell(U, noisy, flipped, K)})
                print(f"{name} {kind} {rate} {seed}: {time.perf_counter() - t:.1f}s", flush=True)
    return cells


def pick(sweep: list[dict], key) -> dict:
    return min(sweep, key=key)


def summary(cells: list[dict]) -> None:
    rules = {
        "press": lambda r: (r["press"], r["depth"], -r["relative"]),
        "press, paper only": lambda r: (r["depth"] != 0, r["press"], -r["relative"]),
        "scaled": lambda r: (r["scaled"], r["depth"], -r["relative"]),
        "error": lambda r: (r["error"], r["press"], r["depth"]),
        "press, λ ≤ 1": lambda r: (r["relative"] > 1, r["press"], r["depth"], -r["relative"]),
        "press, λ ≤ 3": lambda r: (r["relative"] > 3, r["press"], r["depth"], -r["relative"]),
    }
    print("criterion | mean AUROC round 0 | after the round | best of the two per cell (oracle) | min after")
    for name, key in rules.items():
        a0 = [pick(c["sweep"], key)["auroc0"] for c in cells]
        a1 = [pick(c["sweep"], key)["auroc1"] for c in cells]
        print(f"{name} | {np.mean(a0):.4f} | {np.mean(a1):.4f} | {np.mean(np.maximum(a0, a1)):.4f} | {min(a1):.3f}")
    oracle = [max(r["auroc1"] for r in c["sweep"]) for c in cells]
    print(f"oracle (best pair per cell, after the round) | | {np.mean(oracle):.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args()
    path = HERE / "criteria.json"
    if not args.summary:
        path.write_text(json.dumps(run(args.rows)))
    summary(json.loads(path.read_text()))


if __name__ == "__main__":
    main()
