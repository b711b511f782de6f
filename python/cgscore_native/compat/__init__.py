"""Drop-in replacements for the two CG-score implementations users already call.

- :mod:`cgscore_native.compat.ml_metrics`: ``complexity_gap_score(labels, embeddings, ...)``
  with the signature of google/ml-metrics' function (``ml_metrics`` signals).
- :mod:`cgscore_native.compat.jjchy`: ``calc_cg_score(dataset, device, ...)`` with the
  signature and return shapes of the authors' reference code (github jjchy/CG-score).

Both compute the same quantity as :func:`cgscore_native.score` (exactly, from one Cholesky
factorization per binary problem), accept any number of classes and are seeded. Each
module's docstring lists where its results can differ from the code it replaces.
Neither imports the library it replaces (nor torch).
"""

from __future__ import annotations

import numpy as np

__all__ = ["global_entropy", "jjchy", "ml_metrics"]


def global_entropy() -> int:
    """A run seed drawn from NumPy's global generator, which the replaced codes draw from.

    With it, ``np.random.seed(s)`` before a call makes an unseeded call reproducible.
    """
    return int(np.random.randint(0, np.iinfo(np.int64).max, dtype=np.int64))
