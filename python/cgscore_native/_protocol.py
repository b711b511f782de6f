"""The authors' class-wise protocol (SPEC §2) as a list of independent binary problems.

For each repeat and each class c (sorted label order): the positives are every row of
class c, the negatives m = min(floor(|P|·ratio), |O|) rows drawn uniformly without
replacement from the other classes. The draw of each (repeat, class) problem uses its
own generator, keyed by the seed and (repeat, class), so the result never depends on
the order in which problems run, locally or on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import floor

import numpy as np


@dataclass(frozen=True)
class Problem:
    """One binary problem: positives get y = +1 and are scored, negatives get y = −1."""

    repeat: int
    class_index: int
    positives: np.ndarray  # sorted row indices
    negatives: np.ndarray  # sorted row indices

    @property
    def rows(self) -> np.ndarray:
        return np.concatenate([self.positives, self.negatives])

    @property
    def size(self) -> int:
        return int(self.positives.size + self.negatives.size)

    def label_vector(self) -> np.ndarray:
        y = np.full(self.size, -1.0)
        y[: self.positives.size] = 1.0
        return y


def resolve_seed(seed: int | None) -> int:
    """The entropy used for the run: the user's seed, or fresh OS entropy when None."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number or None; got {seed!r}.")
    return int(seed)


def task_rng(entropy: int, *key: int) -> np.random.Generator:
    """A generator that depends only on the run's entropy and the task's key."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=tuple(int(k) for k in key))))


def negative_count(n_positives: int, n_others: int, ratio: float) -> int:
    return min(floor(n_positives * ratio), n_others)


def plan_problems(codes: np.ndarray, n_classes: int, *, ratio: float, repeats: int, entropy: int) -> list[Problem]:
    """All problems of the run, in (repeat, class) order."""
    members = [np.flatnonzero(codes == c) for c in range(n_classes)]
    problems = []
    for r in range(repeats):
        for c in range(n_classes):
            positives = members[c]
            others = np.flatnonzero(codes != c)
            m = negative_count(positives.size, others.size, ratio)
            if m == others.size:
                negatives = others  # every other row: no draw, independent of the seed
            else:
                negatives = np.sort(task_rng(entropy, r, c).choice(others, size=m, replace=False))
            problems.append(Problem(r, c, positives, negatives))
    return problems
