"""Drop-in for the authors' ``calc_cg_score`` (github jjchy/CG-score).

Replace ::

    from cg_score import calc_cg_score          # the authors' file, vendored

with ::

    from cgscore_native.compat.jjchy import calc_cg_score

``calc_cg_score(dataset, device, rep_num=..., unbalance_ratio=..., sub_term=...)`` takes the
same dataset (anything with ``len()`` whose items are ``(instance, label)`` pairs, such as a
``torch.utils.data.Dataset``) and returns the same shapes: an array of n CG-scores, or with
``sub_term=True`` a dict of four arrays ``vi`` (the score), ``ab``, ``a2`` and ``b2`` with
``vi = a2 + 2·ab + b2``, each averaged over the repetitions. Torch is not needed: tensors
are converted with ``.detach().cpu().numpy()``.

Differences, all deliberate:

- **Seeded.** ``seed`` fixes the negatives' draw; the result is then bit-identical for any
  thread count. With ``seed=None`` (the default) the run's entropy is drawn from NumPy's
  global generator, so ``np.random.seed(s)`` before the call makes it reproducible, as it
  does for the authors' code, although the draws themselves differ from theirs.
- **Class order.** Classes are visited in sorted order of their labels, not in order of
  first appearance; this matters only for which negatives are drawn. When every class
  takes all the other classes' rows as negatives (``int(n_class · unbalance_ratio)`` at least
  the number of other rows, e.g. two equal classes and ratio 1) there is no draw, and the
  scores equal the authors' up to rounding.
- **``device``** is accepted and ignored: the native kernel runs on the CPU's cores
  (``n_threads`` chooses how many).
- **Exact linear algebra.** The authors invert the Gram matrix and downdate the inverse
  once per instance; here one Cholesky factorization gives every score and sub-term of a
  problem. Gram entries clamp ``x·y`` to [−1, 1] (the authors' ``acos`` can give NaN
  when rounding pushes ``x·y`` above 1).
- **Duplicate instances** (equal after normalization) make the Gram matrix singular, and
  the authors' ``torch.inverse`` fails or returns garbage; here a small ridge is added and a
  :class:`cgscore_native.DuplicatesWarning` names the rows.
- **Invalid input** (a zero or non-finite instance, fewer than two classes, instances of
  different sizes) raises a ``ValueError`` naming the rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import score  # the public API only
from . import global_entropy

__all__ = ["calc_cg_score"]


def calc_cg_score(
    dataset: Any,
    device: Any = None,
    *,
    rep_num: int = 1,
    unbalance_ratio: float = 1,
    sub_term: bool = False,
    seed: int | None = None,
    n_threads: int | None = None,
) -> np.ndarray | dict[str, np.ndarray]:
    """CG-scores (and with ``sub_term=True`` their sub-terms), as the authors' function returns them.

    Parameters
    ----------
    dataset : sized and indexable
        ``dataset[j]`` is an ``(instance, label)`` pair: an array or tensor of any shape
        (flattened), and a hashable label or a one-element tensor.
    device : any
        Accepted for compatibility and ignored (the kernel runs on the CPU).
    rep_num : int
        Repetitions of the negatives' draw; scores are averaged over them.
    unbalance_ratio : float
        Negatives drawn per positive.
    sub_term : bool
        Return a dict with ``vi``, ``ab``, ``a2``, ``b2`` instead of the scores alone.
    seed : int or None
        Seed of the negatives' draw (not in the authors' code); None takes the entropy from
        NumPy's global generator.
    n_threads : int or None
        Threads of the native kernel (not in the authors' code); None uses all cores.

    Returns
    -------
    numpy.ndarray of shape (n,), or dict of four such arrays
        The authors' ``vi`` (and ``ab``, ``a2``, ``b2``), float64.
    """
    X, labels = _unpack(dataset)
    if seed is None:
        seed = global_entropy()
    result = score(
        X,
        labels,
        ratio=unbalance_ratio,
        repeats=rep_num,
        seed=seed,
        n_threads=n_threads,
        subterms=sub_term,
    )
    if not sub_term:
        return result.scores
    assert result.subterms is not None
    return {"vi": result.scores, **{key: result.subterms[key] for key in ("ab", "a2", "b2")}}


def _unpack(dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """(n × d float64 instances, n labels) from a dataset of (instance, label) pairs."""
    try:
        n = len(dataset)
    except TypeError:
        raise TypeError(
            "dataset must have a length and items (instance, label), like a torch Dataset; "
            f"got {type(dataset).__name__}."
        ) from None
    if n == 0:
        raise ValueError("dataset is empty; it needs instances of at least two classes.")
    rows: list[np.ndarray] = []
    labels: list[Any] = []
    for j in range(n):
        item = dataset[j]
        try:
            instance, label = item
        except (TypeError, ValueError):
            raise TypeError(f"dataset[{j}] must be an (instance, label) pair; got {type(item).__name__}.") from None
        rows.append(_as_numpy(instance).reshape(-1))
        labels.append(_as_label(label))
        if rows[-1].size != rows[0].size:
            raise ValueError(
                "Every instance must have the same number of values; "
                f"dataset[0] has {rows[0].size}, dataset[{j}] has {rows[-1].size}."
            )
    return np.stack(rows).astype(np.float64, copy=False), np.asarray(labels)


def _as_numpy(value: Any) -> np.ndarray:
    """A NumPy array from an array, a list or a (CPU or GPU) tensor."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _as_label(label: Any) -> Any:
    """A plain label: one-element tensors and arrays become their Python scalar (as ``label.item()``)."""
    if hasattr(label, "item") and np.size(_as_numpy(label)) == 1:
        return label.item()
    return label
