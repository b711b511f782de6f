"""Drop-in for google/ml-metrics' ``complexity_gap_score``.

Replace ::

    from ml_metrics._src.signals.cg_score import complexity_gap_score

with ::

    from cgscore_native.compat.ml_metrics import complexity_gap_score

The arguments and the return value (one float64 score per row, averaged over the
repetitions) are the same. Differences, all deliberate:

- **Any number of classes.** ml-metrics raises ``ValueError`` for more than two labels; here
  each class is scored against negatives drawn from all the other classes, as in the
  authors' protocol (with two classes this is exactly ml-metrics' protocol).
- **Seeded by default.** ml-metrics seeds NumPy's global generator only when
  ``random_seed`` is truthy, so its default ``random_seed=0`` is unseeded. Here
  ``random_seed=0`` is the seed 0: the result is reproducible, bit-identical for any
  thread count, and NumPy's global random state is left alone. ``random_seed=None``
  draws the run's entropy from NumPy's global generator, so ``np.random.seed(s)`` before
  the call makes it reproducible as with ml-metrics (the draws themselves differ).
- **Exact linear algebra.** ml-metrics takes a pseudo-inverse of the Gram matrix and
  downdates it once per row (O(n³) per row); here one Cholesky factorization gives every
  score of a problem. The NTK Gram entries clamp ``x·y`` to [−1, 1] instead of
  replacing the resulting NaN with the smallest positive float.
- **Duplicate rows** (equal after normalization) make the Gram matrix singular: ml-metrics'
  pseudo-inverse silently gives them meaningless scores; here a small ridge is added and a
  :class:`cgscore_native.DuplicatesWarning` names the rows (see :func:`cgscore_native.score`).
- **Invalid input** (a zero or non-finite row, ``num_repetitions < 1``,
  ``class_balance_ratio <= 0``) raises a ``ValueError`` naming the rows or argument,
  where ml-metrics returns NaN scores or zeros.

Unchanged: a single label gives all-zero scores; each row is scored once per repetition
as a positive of its own class; ``min(int(n_class · ratio), n_other)`` negatives are drawn
without replacement.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import score  # the public API only
from . import global_entropy

__all__ = ["complexity_gap_score"]


def complexity_gap_score(
    labels: Any,
    embeddings: Any,
    *,
    num_repetitions: int = 1,
    class_balance_ratio: float = 1.0,
    random_seed: int | None = 0,
    n_threads: int | None = None,
) -> np.ndarray:
    """CG-score of every row, as ml-metrics' ``complexity_gap_score`` returns it.

    Parameters
    ----------
    labels : array-like, shape (n,)
        Class labels of any hashable type; two or more classes (one class gives zeros).
    embeddings : array-like, shape (n, d)
        One embedding per row (any further dimensions are flattened).
    num_repetitions : int
        Repetitions of the negatives' draw; the scores are averaged over them.
    class_balance_ratio : float
        Negatives drawn per positive (the authors' ``unbalance_ratio``).
    random_seed : int or None
        Seed of the negatives' draw (0 is a seed, unlike in ml-metrics); None takes the
        entropy from NumPy's global generator.
    n_threads : int or None
        Threads of the native kernel (not in ml-metrics); None uses all cores.

    Returns
    -------
    numpy.ndarray, shape (n,), float64
        Higher = more irregular, harder or more likely mislabeled.
    """
    label_array = np.asarray(labels.to_numpy() if hasattr(labels, "to_numpy") else labels).reshape(-1)
    if np.unique(label_array).size < 2:  # ml-metrics: one label (or none) gives zeros
        return np.zeros(label_array.size)
    seed = global_entropy() if random_seed is None else random_seed
    result = score(
        embeddings,
        label_array,
        ratio=class_balance_ratio,
        repeats=num_repetitions,
        seed=seed,
        n_threads=n_threads,
    )
    return result.scores

