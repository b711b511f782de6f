"""Label-noise injection for the experiments: flip a seeded fraction of the labels.

Three kinds:

- ``uniform``: a flipped row gets a uniformly chosen other class;
- ``pair``: class c → c + 1 mod K (class-conditional noise, the realistic case of two confusable
  classes, but which two is set by the class order);
- ``confusable``: class c → the other class whose centroid is nearest to c's by cosine similarity
  (class-conditional, and the pairs are the ones the features themselves confuse). It needs the
  features: ``flip_labels(..., kind="confusable", features=X)``.

With the same seed every kind flips the same rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NOISE_KINDS = ("uniform", "pair", "confusable")


def flip_labels(labels: np.ndarray, fraction: float, seed: int, n_classes: int | None = None,
                kind: str = "uniform", features: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Flip a seeded fraction of integer labels: to a uniformly chosen other class (``kind="uniform"``),
    from class c to c + 1 mod K (``kind="pair"``) or to c's most confusable class (``kind="confusable"``,
    see :func:`confusable_targets`; needs ``features``).

    Returns (noisy labels, boolean mask of the flipped rows).
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(NOISE_KINDS)}; got {kind!r}.")
    labels = np.asarray(labels)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie in [0, 1]; got {fraction}.")
    k = int(n_classes if n_classes is not None else labels.max() + 1)
    if kind == "confusable":
        if features is None:
            raise ValueError('kind="confusable" needs the features: pass features=X.')
        targets = confusable_targets(features, labels, k)
    rng = np.random.default_rng(seed)
    n_flip = int(round(fraction * labels.size))
    rows = rng.choice(labels.size, size=n_flip, replace=False)
    noisy = labels.copy()
    if kind == "confusable":
        noisy[rows] = targets[labels[rows]]
    else:
        step = rng.integers(1, k, size=n_flip) if kind == "uniform" else 1
        noisy[rows] = (labels[rows] + step) % k
    flipped = np.zeros(labels.size, dtype=bool)
    flipped[rows] = True
    return noisy, flipped


def confusable_targets(features: Any, labels: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """For each class c, the other class whose centroid (mean of its rows, features as given) has the
    highest cosine similarity with c's centroid; ties go to the lower class index.

    Returns an array ``targets`` of length K with ``targets[c] != c``. Classes without rows are
    never targets (and map to themselves).
    """
    X = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if X.ndim == 1 or X.shape[0] != labels.size:
        raise ValueError(f"features must have one row per label ({labels.size}); got shape {X.shape}.")
    X = X.reshape(labels.size, -1)
    k = int(n_classes if n_classes is not None else labels.max() + 1)
    present = np.bincount(labels, minlength=k) > 0
    if present.sum() < 2:
        raise ValueError("confusable noise needs rows of at least 2 classes.")
    centroids = np.zeros((k, X.shape[1]))
    np.add.at(centroids, labels, X)
    centroids[present] /= np.bincount(labels, minlength=k)[present, None]
    norms = np.linalg.norm(centroids, axis=1)
    if np.any(norms[present] == 0):
        zero = np.flatnonzero(present & (norms == 0)).tolist()
        raise ValueError(f"the centroid of class(es) {zero} is the zero vector, so no cosine is defined; "
                         "shift or standardize the features differently.")
    unit = centroids / np.where(norms > 0, norms, 1.0)[:, None]
    sim = unit @ unit.T
    sim[~present, :] = -np.inf
    sim[:, ~present] = -np.inf
    np.fill_diagonal(sim, -np.inf)
    targets = np.argmax(sim, axis=1)  # argmax takes the first (lowest index) of equal maxima
    targets[~present] = np.flatnonzero(~present)
    return targets
