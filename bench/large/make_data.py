"""The scale data of the large-data bench: a 10-class Gaussian mixture written as .npy shards.

Each class is several clusters whose centres lie in a random LATENT-dimensional subspace of the
256 features; rows are a centre plus Gaussian spread in that subspace plus isotropic noise in
all 256 features, float32. 20 % of the labels are flipped to a uniformly chosen other class.

    python bench/large/make_data.py OUT_DIR --n 1000000 [--shard-rows 100000] [--seed 0]

writes OUT_DIR/X-00000.npy … (float32, shard-rows × 256 each), labels.npy (the noisy labels,
int16), clean.npy (the true labels) and flipped.npy (bool). Any n; shards are generated one at
a time (memory: one shard), each from its own seeded stream, so a shard is the same whatever n.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

CLASSES = 10
CLUSTERS_PER_CLASS = 6
FEATURES = 256
LATENT = 32
CENTRE_SCALE = 1.0  # centres ~ N(0, CENTRE_SCALE² I) in the latent subspace
SPREAD = 1.4  # within-cluster standard deviation (latent): k-NN disagreement AUROC ≈ 0.94 at n = 5000
NOISE = 0.1  # isotropic noise, every feature
FLIP = 0.2


def mixture(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(basis (LATENT, FEATURES) orthonormal rows, centres (CLASSES·CLUSTERS_PER_CLASS, LATENT))."""
    rng = np.random.default_rng([seed, 0])
    q, _ = np.linalg.qr(rng.standard_normal((FEATURES, LATENT)))
    centres = CENTRE_SCALE * rng.standard_normal((CLASSES * CLUSTERS_PER_CLASS, LATENT))
    return q.T.copy(), centres


def shard(seed: int, index: int, rows: int, basis: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and true labels of one shard."""
    rng = np.random.default_rng([seed, 1, index])
    cluster = rng.integers(0, centres.shape[0], size=rows)
    latent = centres[cluster] + SPREAD * rng.standard_normal((rows, LATENT))
    X = latent @ basis + NOISE * rng.standard_normal((rows, FEATURES))
    return X.astype(np.float32), (cluster // CLUSTERS_PER_CLASS).astype(np.int16)


def flips(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 2])
    rows = rng.choice(labels.size, size=int(round(FLIP * labels.size)), replace=False)
    noisy = labels.copy()
    noisy[rows] = (labels[rows] + rng.integers(1, CLASSES, size=rows.size)) % CLASSES
    flipped = np.zeros(labels.size, dtype=bool)
    flipped[rows] = True
    return noisy, flipped


def write(out: str, n: int, shard_rows: int, seed: int) -> None:
    os.makedirs(out, exist_ok=True)
    basis, centres = mixture(seed)
    clean = []
    for i, start in enumerate(range(0, n, shard_rows)):
        X, y = shard(seed, i, min(shard_rows, n - start), basis, centres)
        tmp = os.path.join(out, f".X-{i:05d}.npy")
        np.save(tmp, X)
        os.replace(tmp, os.path.join(out, f"X-{i:05d}.npy"))
        clean.append(y)
    y = np.concatenate(clean)
    noisy, flipped = flips(y, seed)
    np.save(os.path.join(out, "clean.npy"), y)
    np.save(os.path.join(out, "labels.npy"), noisy)
    np.save(os.path.join(out, "flipped.npy"), flipped)
    with open(os.path.join(out, "info.json"), "w") as f:
        json.dump({"n": n, "features": FEATURES, "shard_rows": shard_rows, "seed": seed, "classes": CLASSES,
                   "clusters_per_class": CLUSTERS_PER_CLASS, "latent": LATENT, "flip": FLIP}, f)


def load(folder: str, mmap: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, noisy labels, flipped): one shard memory-mapped as it is, several concatenated."""
    names = sorted(f for f in os.listdir(folder) if f.startswith("X-") and f.endswith(".npy"))
    parts = [np.load(os.path.join(folder, f), mmap_mode="r" if mmap else None) for f in names]
    X = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return X, np.load(os.path.join(folder, "labels.npy")), np.load(os.path.join(folder, "flipped.npy"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--shard-rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    write(args.out, args.n, args.shard_rows, args.seed)


if __name__ == "__main__":
    main()
