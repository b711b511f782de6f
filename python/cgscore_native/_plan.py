"""The authors' class-wise protocol (docs/math.md, "The class-wise protocol") as a list of independent binary problems.

For each repeat and each class c (sorted label order): the positives are every row of
class c, the negatives m = min(floor(|P|·ratio), |O|) rows drawn uniformly without
replacement from the other classes. The draw of each (repeat, class) problem uses its
own generator, keyed by the seed and (repeat, class), so the result never depends on
the order in which problems run, locally or on a cluster.

Chunked mode (``chunk_size=k``) splits each class's rows at random into chunks small
enough that every problem, positives plus their negatives, has at most k rows; each
chunk draws its own negatives. The split and the draws are keyed by (repeat, class,
chunk) in the same way, so chunked runs are just as reproducible.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from math import ceil, floor
from typing import Any, Callable

import numpy as np

from ._validate import check_count, check_seed


@dataclass(frozen=True)
class Problem:
    """One binary problem: positives get y = +1 and are scored, negatives get y = −1.

    The kernel sees the negatives first: it scores only the rows from ``first_scored`` on,
    and forms L⁻¹ only for them (the positives' trailing block: 1/8 of the full inverse when
    the two halves are equal)."""

    repeat: int
    class_index: int
    positives: np.ndarray  # sorted row indices
    negatives: np.ndarray  # sorted row indices
    chunk: int = 0  # the chunk of the class's rows (always 0 without chunked mode)

    @property
    def rows(self) -> np.ndarray:
        """The problem's rows in kernel order: negatives, then positives."""
        return np.concatenate([self.negatives, self.positives])

    @property
    def first_scored(self) -> int:
        return int(self.negatives.size)

    @property
    def size(self) -> int:
        return int(self.positives.size + self.negatives.size)

    @property
    def name(self) -> str:
        """r{repeat}-c{class}-k{chunk}: the problem's file in a checkpoint and its task on a cluster."""
        r, c, k = self.key
        return f"r{r}-c{c}-k{k}"

    @property
    def key(self) -> tuple[int, int, int]:
        """(repeat, class, chunk): names the problem in checkpoints and on a cluster."""
        return (int(self.repeat), int(self.class_index), int(self.chunk))

    def label_vector(self) -> np.ndarray:
        """y in kernel order: −1 for the negatives, +1 for the positives."""
        y = np.full(self.size, -1.0)
        y[self.first_scored :] = 1.0
        return y


def resolve_seed(seed: int | None) -> int:
    """The entropy used for the run: the user's seed, or fresh OS entropy when None."""
    checked = check_seed(seed)
    return secrets.randbits(128) if checked is None else checked  # as much entropy as np.random.SeedSequence() draws


def task_rng(entropy: int, *key: int) -> np.random.Generator:
    """A generator that depends only on the run's entropy and the task's key."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=tuple(int(k) for k in key))))


def negative_count(n_positives: int, n_others: int, ratio: float) -> int:
    return min(floor(n_positives * ratio), n_others)


def max_chunk_positives(chunk_size: int, n_others: int, ratio: float) -> int:
    """The most positives p whose problem (p plus their negatives) has at most chunk_size rows.

    The problem size p + min(floor(p·ratio), |O|) grows with p, so a bisection finds it;
    0 means not even one positive fits.
    """
    return largest_fitting(lambda p: p + negative_count(p, n_others, ratio) <= chunk_size, chunk_size)


def largest_fitting(fits: Callable[[int], bool], upper: int) -> int:
    """The largest p in 0..upper with fits(p), by bisection; fits must hold for 0 and be monotone."""
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def check_chunk_size(chunk_size: Any, n_classes_others: list[int], ratio: float) -> int:
    """Validate chunk_size: a whole number large enough for one positive plus its negatives."""
    k = check_count(chunk_size, "chunk_size", 1, none=True, unit=" (rows per binary problem)")  # the one rule
    need = max(1 + negative_count(1, others, ratio) for others in n_classes_others)
    if k < need:
        raise ValueError(
            f"chunk_size={k} is too small: with ratio={ratio:g} one positive and its negatives take {need} rows. "
            f"Pass chunk_size >= {need}, or a smaller ratio."
        )
    return k


@dataclass(frozen=True)
class PlanSize:
    """The size of a run's plan, known from the class counts alone (no problem is built)."""

    n_problems: int
    largest: int  # rows of the largest problem
    total_rows: int  # rows of all problems together (each one's index list and scores)
    repeats: int


def plan_size(codes: np.ndarray, n_classes: int, *, ratio: float, repeats: int, chunk_size: int | None = None) -> PlanSize:
    """What ``plan_problems`` would build, from the class counts: O(classes) work, whatever ``repeats``.

    The problem sizes do not depend on the draws, so the memory check can refuse a run (say
    ``repeats=10**6``) before a single problem exists."""
    counts = np.bincount(codes, minlength=n_classes)
    n = int(codes.size)
    if chunk_size is not None:
        chunk_size = check_chunk_size(chunk_size, [n - int(m) for m in counts], ratio)
    n_problems = largest = total = 0
    for p in (int(m) for m in counts):
        others = n - p
        per_chunk = p if chunk_size is None else max_chunk_positives(chunk_size, others, ratio)
        if per_chunk >= p:
            parts = [(p, 1)]
        else:  # np.array_split: the first p % k parts have one row more
            k = ceil(p / per_chunk)
            parts = [(p // k + 1, p % k), (p // k, k - p % k)]
        for size, count in parts:
            if count:
                rows = size + negative_count(size, others, ratio)
                n_problems += count
                total += count * rows
                largest = max(largest, rows)
    return PlanSize(n_problems * repeats, largest, total * repeats, repeats)


def plan_problems(
    codes: np.ndarray, n_classes: int, *, ratio: float, repeats: int, entropy: int, chunk_size: int | None = None
) -> list[Problem]:
    """All problems of the run, in (repeat, class, chunk) order.

    Without chunk_size, one problem per (repeat, class) exactly as docs/math.md, "The class-wise protocol". With it, a
    class whose problem would exceed chunk_size rows is split into the fewest chunks of
    near-equal size that fit; a class that already fits stays whole (and draws exactly as
    without chunking, so a chunk_size above the largest problem changes nothing).
    """
    members = [np.flatnonzero(codes == c) for c in range(n_classes)]
    n = codes.size
    if chunk_size is not None:
        chunk_size = check_chunk_size(chunk_size, [n - m.size for m in members], ratio)
    problems = []
    for r in range(repeats):
        for c in range(n_classes):
            positives = members[c]
            others = np.flatnonzero(codes != c)
            per_chunk = positives.size if chunk_size is None else max_chunk_positives(chunk_size, others.size, ratio)
            if per_chunk >= positives.size:
                negatives = _draw(others, negative_count(positives.size, others.size, ratio), task_rng(entropy, r, c))
                problems.append(Problem(r, c, positives, negatives))
                continue
            n_chunks = ceil(positives.size / per_chunk)
            # Split a seeded permutation, so chunks are random subsets of the class.
            shuffled = task_rng(entropy, r, c, 0).permutation(positives)
            for j, part in enumerate(np.array_split(shuffled, n_chunks)):
                m = negative_count(part.size, others.size, ratio)
                negatives = _draw(others, m, task_rng(entropy, r, c, j + 1))
                problems.append(Problem(r, c, np.sort(part), negatives, chunk=j))
    return problems


def _draw(others: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """m of the other rows, uniformly without replacement, sorted."""
    if m == others.size:
        return others  # every other row: no draw, independent of the seed
    return np.sort(rng.choice(others, size=m, replace=False))


def stratified_chunks(codes: np.ndarray, K: int, chunk_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A random partition of the rows into ⌈n / chunk_size⌉ chunks, each class dealt evenly over them."""
    n = codes.size
    m = max(1, ceil(n / chunk_size))
    smallest = int(np.bincount(codes, minlength=K).min())
    if smallest < m:
        raise ValueError(
            f"chunk_size={chunk_size} makes {m} chunks but the smallest class has {smallest} rows; every class must "
            f"be in every chunk. Use chunk_size >= {ceil(n / max(smallest, 1))}."
        )
    owner = np.empty(n, dtype=np.intp)
    offset = 0
    for k in range(K):
        members = np.flatnonzero(codes == k)
        members = members[rng.permutation(members.size)]
        owner[members] = (np.arange(members.size) + offset) % m  # deal like cards: sizes differ by ≤ 1
        offset += members.size
    return [np.flatnonzero(owner == c) for c in range(m)]
