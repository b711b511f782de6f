"""The CG-score as a cleanlab Datalab issue type, ``complexity_gap``.

Importing this module registers the issue type with cleanlab's registry (for
classification)::

    import cgscore_native.integrations.cleanlab  # registers "complexity_gap"
    from cleanlab import Datalab

    lab = Datalab(data={"label": labels}, label_name="label")
    lab.find_issues(features=X, issue_types={"complexity_gap": {}})
    lab.report()
    lab.get_issues("complexity_gap")   # is_complexity_gap_issue, complexity_gap_score

The functional twin :func:`complexity_gap_score` takes the arguments of cleanlab's
``data_shapley_knn(labels, *, features=...)`` and returns the same 0–1 score.

**Score.** cleanlab's scores lie in [0, 1], lower = more severe. The CG-score is ≥ 0 with
a heavy upper tail, higher = more irregular or mislabeled, so the score is

    complexity_gap_score_i = exp(−CG_i / median(CG))

monotone decreasing in CG (ranking rows by it is ranking them by CG), 1/e ≈ 0.37 for a row
of median complexity, near 0 for the outliers of the tail.

**Flag.** ``is_complexity_gap_issue`` needs no threshold. The CG-score's own sub-terms give
the leave-one-out prediction of the row by the NTK interpolant of its binary problem (its
class against the drawn negatives): ``y_i · f₋ᵢ(x_i) = −ab_i / b2_i``. A row is flagged
when that prediction has the wrong sign, i.e. when ``ab_i > 0`` (averaged over the
repeats): the rest of the data, fitted exactly, says the row belongs to another class.
On the embedded digits with 2–40 % of labels flipped this flagged 0.68–0.97 precision at
0.78–1.0 recall (12 of 1797 rows with no flips). Pass ``threshold=t`` to flag
``complexity_gap_score < t`` instead.

How the CG-score compares with KNN Data Shapley (cleanlab's ``data_valuation`` issue type),
k-NN disagreement and confident learning on the same label-noise task: the noise bench,
``cgscore noise-bench`` (results for digits in ``docs/noise_bench_digits/results.md`` of
the repository).

Private cleanlab API used: ``IssueManager`` and ``register`` are public, but cleanlab only
passes ``find_issues(features=...)`` on to issue types listed in its internal table of
required arguments; this module adds ``complexity_gap: ["features"]`` there. If a future
cleanlab drops that table, pass the features in the issue type's dict instead:
``issue_types={"complexity_gap": {"features": X}}`` (that always works).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import CGResult, score  # the public API only
from . import require_host

_cleanlab = require_host("cleanlab", "cleanlab", "cgscore_native.integrations.cleanlab")
require_host(
    "cleanlab.datalab.datalab",
    "cleanlab",
    "cgscore_native.integrations.cleanlab",
    needs="cleanlab's Datalab (cleanlab[datalab])",
)

import pandas as pd  # noqa: E402  (a dependency of cleanlab)
from cleanlab.datalab.internal import issue_finder as _issue_finder  # noqa: E402
from cleanlab.datalab.internal.issue_manager import IssueManager  # noqa: E402
from cleanlab.datalab.internal.issue_manager_factory import REGISTRY, register  # noqa: E402
from cleanlab.datalab.internal.task import Task  # noqa: E402

__all__ = ["ComplexityGapIssueManager", "complexity_gap_score", "flag_and_score"]

ISSUE_NAME = "complexity_gap"


def complexity_gap_score(
    labels: Any,
    *,
    features: Any,
    ratio: float = 1.0,
    repeats: int = 1,
    seed: int | None = 0,
    n_threads: int | None = None,
) -> np.ndarray:
    """Per-row CG score in [0, 1], lower = more irregular or likely mislabeled.

    The argument order of cleanlab's ``data_shapley_knn(labels, *, features=...)``, so the
    two can be swapped in a benchmark. The score is ``exp(−CG / median CG)`` (module
    docstring); the raw CG-scores come from :func:`cgscore_native.score` with the same
    arguments.

    Parameters
    ----------
    labels : array-like, shape (n,)
        Class labels (any hashable values, two or more classes).
    features : array-like, shape (n, ...)
        Features or embeddings of every row (flattened; rows need not be scaled).
    ratio, repeats, seed, n_threads
        As in :func:`cgscore_native.score` (seed 0 by default: results are reproducible).
    """
    result = score(features, labels, ratio=ratio, repeats=repeats, seed=seed, n_threads=n_threads)
    return _unit_score(result.scores)


def flag_and_score(result: CGResult, threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(is_issue, score) of a run with sub-terms: the flag and 0–1 score of the module docstring."""
    unit = _unit_score(result.scores)
    if threshold is not None:
        return unit < threshold, unit
    if result.subterms is None:
        raise ValueError("flag_and_score needs a result computed with subterms=True (or a threshold).")
    return result.subterms["ab"] > 0, unit


def _unit_score(cg: np.ndarray) -> np.ndarray:
    """exp(−CG / median CG): 1 for CG = 0, 1/e at the median, → 0 in the tail."""
    cg = np.asarray(cg, dtype=np.float64)
    if cg.size == 0:
        return cg.copy()
    scale = float(np.median(cg))
    if not scale > 0:  # more than half the rows with CG = 0: fall back to the mean
        scale = float(np.mean(cg))
    if not scale > 0:
        return np.ones_like(cg)
    return np.exp(-cg / scale)


class ComplexityGapIssueManager(IssueManager):
    """Datalab issue type ``complexity_gap``: rows the rest of the data contradicts.

    Constructor arguments come from ``issue_types={"complexity_gap": {...}}``:
    ``ratio``, ``repeats``, ``seed`` (default 0), ``n_threads`` as in
    :func:`cgscore_native.score`, and ``threshold`` (None: flag by the leave-one-out sign
    rule of the module docstring; a number t: flag ``complexity_gap_score < t``).
    """

    description: ClassVar[str] = (
        "The complexity-gap score (CG-score, Ki et al., ICLR 2023) of a row is how much it adds to the "
        "complexity of its class-against-the-rest problem under the neural tangent kernel: high for rows "
        "that are irregular or mislabeled. The score is exp(-CG / median CG), so lower is worse. A row is "
        "flagged when the kernel interpolant fitted on all the other rows puts it on the other side."
    )
    issue_name: ClassVar[str] = ISSUE_NAME
    issue_score_key: ClassVar[str]
    verbosity_levels: ClassVar[dict[int, list[str]]] = {
        0: [],
        1: ["num_complexity_gap_issues", "median_cg_score"],
        2: ["ratio", "repeats", "seed", "threshold"],
        3: [],
    }

    def __init__(
        self,
        datalab: Any,
        ratio: float = 1.0,
        repeats: int = 1,
        seed: int | None = 0,
        n_threads: int | None = None,
        threshold: float | None = None,
        **_: Any,
    ) -> None:
        super().__init__(datalab)
        self.ratio = ratio
        self.repeats = repeats
        self.seed = seed
        self.n_threads = n_threads
        self.threshold = threshold

    def find_issues(self, features: Any = None, **_: Any) -> None:
        """Score every row from ``features`` and the Datalab's labels."""
        if features is None:
            raise ValueError(
                "complexity_gap needs features: call lab.find_issues(features=X, ...) "
                "or pass issue_types={'complexity_gap': {'features': X}}."
            )
        labels = np.asarray(self.datalab.labels)
        if labels.ndim != 1:
            raise TypeError(
                f"complexity_gap needs one class label per row; the Datalab's labels have shape {labels.shape}."
            )
        result = score(
            features,
            labels,
            ratio=self.ratio,
            repeats=self.repeats,
            seed=self.seed,
            n_threads=self.n_threads,
            subterms=True,
        )
        is_issue, unit = flag_and_score(result, self.threshold)
        self.issues = pd.DataFrame({f"is_{self.issue_name}_issue": is_issue, self.issue_score_key: unit})
        self.summary = self.make_summary(score=float(unit.mean()))
        self.info = self.collect_info(result)

    def collect_info(self, result: CGResult) -> dict[str, Any]:  # type: ignore[override]
        return {
            "num_complexity_gap_issues": int(self.issues[f"is_{self.issue_name}_issue"].sum()),
            "median_cg_score": float(np.median(result.scores)),
            "ratio": self.ratio,
            "repeats": self.repeats,
            "seed": result.seed,
            "threshold": self.threshold,
        }


def _register() -> None:
    """Register the issue type, and have Datalab pass ``features=`` on to it."""
    task = Task.CLASSIFICATION
    if REGISTRY.get(task, {}).get(ISSUE_NAME) is not ComplexityGapIssueManager:
        register(ComplexityGapIssueManager, task=str(task))
    table = getattr(_issue_finder, "_CLASSIFICATION_ARGS_DICT", None)
    if isinstance(table, dict):
        table.setdefault(ISSUE_NAME, ["features"])


_register()
