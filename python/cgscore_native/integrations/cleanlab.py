"""The label diagnosis and the CG-score as cleanlab Datalab issue types, ``label_diagnosis`` and ``complexity_gap``.

Importing this module registers both issue types with cleanlab's registry (for
classification); both need features only, no ``pred_probs``::

    import cgscore_native.integrations.cleanlab  # registers "label_diagnosis" and "complexity_gap"
    from cleanlab import Datalab

    lab = Datalab(data={"label": labels}, label_name="label")
    lab.find_issues(features=X, issue_types={"label_diagnosis": {}})
    lab.report()
    lab.get_issues("label_diagnosis")  # is_label_diagnosis_issue, label_diagnosis_score, given_label, predicted_label

**label_diagnosis** runs :func:`cgscore_native.diagnose` (exact leave-one-out NTK ridge
predictions, cleaning rounds) on the features and the Datalab's labels. A row is flagged when
another class is predicted for it (``suspicion > 0``); ``predicted_label`` is that class. The
score is the calibrated probability of the given label against the most probable other class
(the predicted label of a flagged row),

    label_diagnosis_score_i = p_given / (p_given + p_best_other) = 1 / (1 + exp(suspicion_i / T))

with ``p = Diagnosis.pred_probs()`` and T its temperature (fitted by leave-one-out log-loss),
so lower = worse, ranking by it is ranking by suspicion, and a row is flagged exactly when
its score is below 1/2. ``lab.get_info("label_diagnosis")["pred_probs"]`` holds the class
probabilities, for cleanlab's functions that take ``pred_probs``. Options in the issue type's
dict go to ``diagnose`` (``{"label_diagnosis": {"kernel": "auto", "standardize": True}}``).

**complexity_gap** gives the CG-score itself (below).

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
required arguments; this module adds ``complexity_gap`` and ``label_diagnosis`` (both
``["features"]``) there. If a future cleanlab drops that table, pass the features in the
issue type's dict instead: ``issue_types={"complexity_gap": {"features": X}}`` (that always
works). And ``DataIssues.get_issues`` adds the ``given_label``/``predicted_label`` columns
from an issue type's info for cleanlab's own ``label`` type only; this module wraps it to do
the same for ``label_diagnosis`` (every other issue type is returned unchanged). The
report adds the columns itself, so ``lab.report()`` shows them whatever cleanlab does.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, ClassVar

import numpy as np

from .. import CGResult, Diagnosis, diagnose, score  # the public API only
from . import require_host

_cleanlab = require_host("cleanlab", "cleanlab", "cgscore_native.integrations.cleanlab")
require_host(
    "cleanlab.datalab.datalab",
    "cleanlab",
    "cgscore_native.integrations.cleanlab",
    needs="cleanlab's Datalab (cleanlab[datalab])",
)

import pandas as pd  # noqa: E402  (a dependency of cleanlab)
from cleanlab.datalab.internal import data_issues as _data_issues  # noqa: E402
from cleanlab.datalab.internal import issue_finder as _issue_finder  # noqa: E402
from cleanlab.datalab.internal.issue_manager import IssueManager  # noqa: E402
from cleanlab.datalab.internal.issue_manager_factory import REGISTRY, register  # noqa: E402
from cleanlab.datalab.internal.task import Task  # noqa: E402

__all__ = [
    "ComplexityGapIssueManager",
    "LabelDiagnosisIssueManager",
    "complexity_gap_score",
    "flag_and_score",
    "label_diagnosis_score",
]

ISSUE_NAME = "complexity_gap"
DIAGNOSIS_ISSUE_NAME = "label_diagnosis"
# diagnose()'s keywords an issue type's dict may set (X and labels come from the Datalab).
_DIAGNOSE_OPTIONS = frozenset(inspect.signature(diagnose).parameters) - {"X", "labels", "label_column", "drop"}


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
        labels = _checked_labels(self.issue_name, features, self.datalab)
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


def label_diagnosis_score(diagnosis: Diagnosis) -> np.ndarray:
    """Per-row 0–1 score of a diagnosis, lower = more likely mislabeled: ``1 / (1 + exp(suspicion / T))``,
    the calibrated probability of the given label against the most probable other class (module docstring).
    Below 1/2 exactly for the flagged rows; 1/2 for a row whose two best classes tie."""
    T = diagnosis.fitted_temperature()
    # exp overflows to inf for suspicion/T > 709, and 1/(1+inf) = 0: the limit, not a NaN.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(diagnosis.suspicion / T))


class LabelDiagnosisIssueManager(IssueManager):
    """Datalab issue type ``label_diagnosis``: labels the leave-one-out NTK predictions contradict.

    Features only (no ``pred_probs``). The issue type's dict may hold any keyword of
    :func:`cgscore_native.diagnose` (``ridge``, ``rounds``, ``kernel``, ``standardize``,
    ``chunk_size``, ``seed``, ``n_threads``, ``client``, ...); the columns, score and info are
    in the module docstring.
    """

    description: ClassVar[str] = (
        "Each row's label is predicted from all the other rows by exact leave-one-out kernel ridge regression "
        "under the neural tangent kernel (cgscore_native.diagnose), after cleaning rounds that set the most "
        "suspicious rows aside. A row is flagged when another class is predicted for it; predicted_label is "
        "that class. The score is the calibrated probability of the given label against the most probable "
        "other class (below 0.5 exactly for the flagged rows), so lower is worse."
    )
    issue_name: ClassVar[str] = DIAGNOSIS_ISSUE_NAME
    issue_score_key: ClassVar[str]
    verbosity_levels: ClassVar[dict[int, list[str]]] = {
        0: [],
        1: ["num_label_diagnosis_issues", "estimated_noise_rate"],
        2: ["kernel", "ridge", "temperature"],
        3: [],
    }

    def __init__(self, datalab: Any, **options: Any) -> None:
        super().__init__(datalab)
        options.pop("features", None)  # cleanlab passes the find_issues arguments here too
        unknown = sorted(set(options) - _DIAGNOSE_OPTIONS)
        if unknown:
            raise TypeError(
                f"label_diagnosis got unknown option(s) {', '.join(map(repr, unknown))}; "
                f"it takes the keywords of cgscore_native.diagnose: {', '.join(sorted(_DIAGNOSE_OPTIONS))}."
            )
        self.options = options

    def find_issues(self, features: Any = None, **_: Any) -> None:
        """Diagnose every row's label from ``features`` and the Datalab's labels."""
        codes = _checked_labels(self.issue_name, features, self.datalab)
        diagnosis = diagnose(np.asarray(features), codes, **self.options)
        names = np.asarray(self.datalab.class_names, dtype=object)  # class name of each code
        unit = label_diagnosis_score(diagnosis)
        flagged = np.asarray(diagnosis.is_label_issue, dtype=bool)
        self.issues = pd.DataFrame({f"is_{self.issue_name}_issue": flagged, self.issue_score_key: unit})
        # cleanlab's label type: the overall score is the share of rows not flagged
        self.summary = self.make_summary(score=1.0 - float(flagged.mean()))
        self.info = self.collect_info(diagnosis, names)

    def collect_info(self, diagnosis: Diagnosis, names: np.ndarray) -> dict[str, Any]:  # type: ignore[override]
        """What ``lab.get_info("label_diagnosis")`` holds: the labels by name, the class
        probabilities (columns in the order of the Datalab's classes) and what was chosen."""
        return {
            "num_label_diagnosis_issues": int(diagnosis.is_label_issue.sum()),
            "estimated_noise_rate": float(diagnosis.estimated_noise_rate),
            "given_label": names[diagnosis.labels].tolist(),
            "predicted_label": names[diagnosis.suggested_label].tolist(),
            "suspicion": diagnosis.suspicion,
            "pred_probs": diagnosis.pred_probs(),
            "temperature": diagnosis.fitted_temperature(),
            "kernel": diagnosis.kernel,
            "ridge": diagnosis.ridge,
            "options": dict(self.options),
        }

    @classmethod
    def report(cls, issues: pd.DataFrame, summary: pd.DataFrame, info: dict[str, Any],  # type: ignore[override]
               *args: Any, **kwargs: Any) -> str:
        """cleanlab's report, with the given and predicted labels beside each example's score."""
        return super().report(_with_labels(issues, info), summary, info, *args, **kwargs)



def _checked_labels(issue_name: str, features: Any, datalab: Any) -> np.ndarray:
    """The Datalab's labels (one class code per row) for an issue type that needs ``features``;
    a one-line error saying how to pass what is missing."""
    if features is None:
        raise ValueError(
            f"{issue_name} needs features: call lab.find_issues(features=X, ...) "
            f"or pass issue_types={{'{issue_name}': {{'features': X}}}}."
        )
    labels = np.asarray(datalab.labels)
    if labels.ndim != 1:
        raise TypeError(
            f"{issue_name} needs one class label per row; the Datalab's labels have shape {labels.shape}."
        )
    return labels

def _with_labels(issues: pd.DataFrame, info: dict[str, Any]) -> pd.DataFrame:
    """``issues`` with the given_label and predicted_label columns of ``info`` (when it has them)."""
    extra = {k: info[k] for k in ("given_label", "predicted_label") if k in info and k not in issues.columns}
    if not extra or any(len(v) != len(issues) for v in extra.values()):
        return issues
    return issues.assign(**extra)


def _get_issues_with_labels(get_issues: Any) -> Any:
    """``DataIssues.get_issues`` that adds given_label and predicted_label for label_diagnosis, as
    cleanlab does for its own label type; every other call is passed through unchanged."""

    @functools.wraps(get_issues)
    def with_labels(self: Any, issue_name: str | None = None) -> pd.DataFrame:
        frame = get_issues(self, issue_name)
        if issue_name == DIAGNOSIS_ISSUE_NAME:
            frame = _with_labels(frame, self.get_info(issue_name=issue_name))
        return frame

    with_labels._cgscore_native = True  # type: ignore[attr-defined]
    return with_labels


def _register() -> None:
    """Register the issue types, and have Datalab pass ``features=`` on to them."""
    task = Task.CLASSIFICATION
    for name, manager in ((ISSUE_NAME, ComplexityGapIssueManager), (DIAGNOSIS_ISSUE_NAME, LabelDiagnosisIssueManager)):
        if REGISTRY.get(task, {}).get(name) is not manager:
            register(manager, task=str(task))
        table = getattr(_issue_finder, "_CLASSIFICATION_ARGS_DICT", None)
        if isinstance(table, dict):
            table.setdefault(name, ["features"])
    data_issues = getattr(_data_issues, "DataIssues", None)
    original = getattr(data_issues, "get_issues", None)
    if original is not None and not getattr(original, "_cgscore_native", False):
        data_issues.get_issues = _get_issues_with_labels(original)  # type: ignore[union-attr]


_register()
