"""The top of the depth grid: should kernel="auto" look past depth 8 when PRESS picks it?

PRESS over the NTKs of depth 0 … 8 against 0 … 16 and 0 … 32 (the λ grid of each), round 0,
flip seeds 0 and 1 of the five noises (150 cells); the mean AUROC of the pair each grid chooses.

    python bench/detection/deeper_kernels.py     # about 3 min on 2 cores
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import DATASETS, load  # noqa: E402

from cgscore_native._kernels import Kernel, cross_gram  # noqa: E402
from cgscore_native._loo import margins, signed_targets  # noqa: E402
from cgscore_native.experiments.baselines import unit_rows  # noqa: E402
from cgscore_native.experiments.label_noise import flip_labels  # noqa: E402
from cgscore_native.experiments.metrics import auroc  # noqa: E402

RELATIVE = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # λ / (diagonal / ½)
NOISES = (("uniform", 0.1), ("uniform", 0.2), ("uniform", 0.4), ("pair", 0.2), ("pair", 0.3))
DEPTHS = (0, 1, 2, 4, 8, 16, 32)
TOPS = (8, 16, 32)


def main() -> None:
    picked: dict[int, list[float]] = {top: [] for top in TOPS}
    depths_chosen: list[int] = []
    for name in DATASETS:
        X, y = load(name)
        K = int(y.max() + 1)
        U = unit_rows(X)
        spectra = {d: (*np.linalg.eigh(cross_gram(U, U, d)), Kernel(d).diagonal) for d in DEPTHS}
        for kind, rate in NOISES:
            for seed in (0, 1):
                noisy, flipped = flip_labels(y, rate, seed=seed, n_classes=K, kind=kind)
                Y = signed_targets(noisy, K)
                scores = {}  # (depth, relative λ) → (PRESS, AUROC)
                for d, (s, V, diag) in spectra.items():
                    VtY, V2 = V.T @ Y, V * V
                    for rel in RELATIVE:
                        w = 1.0 / (s + rel * diag / 0.5)
                        R = (V @ (w[:, None] * VtY)) / (V2 @ w)[:, None]
                        scores[(d, rel)] = (float(np.sum(R * R) / R.size), auroc(margins(Y - R, noisy)[0], flipped))
                for top in TOPS:
                    best = min((k for k in scores if k[0] <= top), key=lambda k: scores[k][0])
                    picked[top].append(scores[best][1])
                depths_chosen.append(best[0])
        print(name, flush=True)
    for top in TOPS:
        print(f"depths 0 … {top}: mean AUROC {np.mean(picked[top]):.4f} over {len(picked[top])} cells")
    print("depth chosen with the grid to 32:", {d: depths_chosen.count(d) for d in sorted(set(depths_chosen))})


if __name__ == "__main__":
    main()
