"""Class-balanced pruning by score, as in the paper's data-pruning experiment.

The same fraction is kept from every class: in a class of ``m`` rows the ``round(keep · m)``
rows (at least one) with the highest scores are kept when dropping ``"low"`` (the paper's
setting: low CG-scores mark redundant, easy instances), or with the lowest scores when
dropping ``"high"`` (e.g. to remove suspected mislabels). Ties go to the lower row index.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..utils import as_label_codes, atomic_file
from .writers import check_destination

KEEP_FORMATS = (".txt", ".csv", ".npy")


def keep_count(class_size: int, keep: float) -> int:
    """How many rows of a class of ``class_size`` rows to keep: round half up, at least 1.

    >>> keep_count(31, 0.9), keep_count(5, 0.5), keep_count(3, 0.01)
    (28, 3, 1)
    """
    return min(class_size, max(1, math.floor(keep * class_size + 0.5)))


def keep_indices(scores: Any, labels: Any, keep: float, drop: Literal["low", "high"] = "low") -> np.ndarray:
    """Sorted row indices to keep: the fraction ``keep`` of every class, dropping its low or high scores.

    >>> scores = [0.1, 0.9, 0.5, 0.3, 0.8, 0.2]
    >>> labels = ["a", "a", "a", "b", "b", "b"]
    >>> keep_indices(scores, labels, keep=2 / 3).tolist()  # each class loses its lowest score
    [1, 2, 3, 4]
    >>> keep_indices(scores, labels, keep=2 / 3, drop="high").tolist()
    [0, 2, 3, 5]
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be a fraction in (0, 1]; got {keep}.")
    if drop not in ("low", "high"):
        raise ValueError(f"drop must be 'low' or 'high'; got {drop!r}.")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite numbers.")
    _, codes = as_label_codes(labels, s.size)
    kept = []
    for c in range(codes.max() + 1):
        rows = np.flatnonzero(codes == c)
        # Stable sort on the rows' order: equal scores keep the lower index first.
        order = rows[np.argsort(-s[rows] if drop == "low" else s[rows], kind="stable")]
        kept.append(order[: keep_count(rows.size, keep)])
    return np.sort(np.concatenate(kept))


def write_keep_list(indices: np.ndarray, path: str | os.PathLike, force: bool = False, frame=None) -> Path:
    """Write kept indices: ``.txt`` one per line, ``.npy`` an int64 array, ``.csv`` the kept rows of ``frame``."""
    path = check_destination(path, force, KEEP_FORMATS)
    suffix = path.suffix.lower()
    with atomic_file(path, force) as tmp:
        if suffix == ".txt":
            tmp.write_text("".join(f"{i}\n" for i in indices), encoding="utf-8")
        elif suffix == ".npy":
            np.save(tmp, np.asarray(indices, dtype=np.int64), allow_pickle=False)
        else:
            if frame is None:
                raise ValueError("a .csv keep list needs the scores table (frame=...).")
            frame.iloc[indices].to_csv(tmp, index=False)
    return path
