"""Label-noise injection for the experiments: flip a seeded fraction of the labels.

Two kinds: ``uniform`` (a flipped row gets a uniformly chosen other class) and ``pair`` (class
c → c + 1 mod K: class-conditional noise, the realistic case of two confusable classes). With
the same seed both flip the same rows.
"""

from __future__ import annotations

import numpy as np

NOISE_KINDS = ("uniform", "pair")


def flip_labels(labels: np.ndarray, fraction: float, seed: int, n_classes: int | None = None,
                kind: str = "uniform") -> tuple[np.ndarray, np.ndarray]:
    """Flip a seeded fraction of integer labels: to a uniformly chosen other class (``kind="uniform"``)
    or from class c to c + 1 mod K (``kind="pair"``).

    Returns (noisy labels, boolean mask of the flipped rows).
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(NOISE_KINDS)}; got {kind!r}.")
    labels = np.asarray(labels)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie in [0, 1]; got {fraction}.")
    k = int(n_classes if n_classes is not None else labels.max() + 1)
    rng = np.random.default_rng(seed)
    n_flip = int(round(fraction * labels.size))
    rows = rng.choice(labels.size, size=n_flip, replace=False)
    noisy = labels.copy()
    step = rng.integers(1, k, size=n_flip) if kind == "uniform" else 1
    noisy[rows] = (labels[rows] + step) % k
    flipped = np.zeros(labels.size, dtype=bool)
    flipped[rows] = True
    return noisy, flipped
