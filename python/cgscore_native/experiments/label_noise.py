"""Label-noise injection for the experiments: flip a seeded fraction of the labels."""

from __future__ import annotations

import numpy as np


def flip_labels(labels: np.ndarray, fraction: float, seed: int, n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Flip a seeded fraction of integer labels to a uniformly chosen other class.

    Returns (noisy labels, boolean mask of the flipped rows).
    """
    labels = np.asarray(labels)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie in [0, 1]; got {fraction}.")
    k = int(n_classes if n_classes is not None else labels.max() + 1)
    rng = np.random.default_rng(seed)
    n_flip = int(round(fraction * labels.size))
    rows = rng.choice(labels.size, size=n_flip, replace=False)
    noisy = labels.copy()
    noisy[rows] = (labels[rows] + rng.integers(1, k, size=n_flip)) % k
    flipped = np.zeros(labels.size, dtype=bool)
    flipped[rows] = True
    return noisy, flipped
