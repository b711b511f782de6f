"""Aggregate the problems' outcomes, in plan order, into per-row means, spreads and reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._kernel import SUBTERMS, ProblemOutcome
from ._validate import format_rows
from .result import ProblemReport


@dataclass
class Aggregate:
    """Every row's scores over the repeats and each problem's diagnostics."""

    mean: np.ndarray
    std: np.ndarray
    count: np.ndarray
    by_repeat: np.ndarray  # (repeats, n)
    subterms: dict[str, np.ndarray] | None
    reports: list[ProblemReport]


def aggregate(outcomes: list[ProblemOutcome], n: int, repeats: int, subterms: bool, classes: np.ndarray) -> Aggregate:
    """Collect the positives' scores per repeat, in the given (plan) order, so that the
    arithmetic is the same fixed sequence whichever back end ran the problems."""
    by_repeat = np.full((repeats, n), np.nan)
    sub = {name: np.full((repeats, n), np.nan) for name in SUBTERMS} if subterms else None
    reports = []
    for outcome in outcomes:
        problem = outcome.problem
        by_repeat[problem.repeat, problem.positives] = outcome.scores
        if sub is not None and outcome.subterms is not None:
            for name, values in outcome.subterms.items():
                sub[name][problem.repeat, problem.positives] = values
        reports.append(
            ProblemReport(
                repeat=problem.repeat,
                label=plain(classes[problem.class_index]),
                n_positives=int(problem.positives.size),
                n_negatives=int(problem.negatives.size),
                min_pivot=outcome.min_pivot,
                min_pivot_row=outcome.min_pivot_row,
                condition_estimate=outcome.condition_estimate,
                chunk=problem.chunk,
            )
        )
    missing = np.flatnonzero(np.isnan(by_repeat).any(axis=0))
    if missing.size:  # every row is a positive of its class once per repeat
        raise RuntimeError(f"internal error: rows {format_rows(missing)} were not scored in every repeat")
    return Aggregate(
        mean=by_repeat.mean(axis=0),
        std=by_repeat.std(axis=0),
        count=np.full(n, repeats, dtype=np.int64),
        by_repeat=by_repeat,
        subterms={name: v.mean(axis=0) for name, v in sub.items()} if sub is not None else None,
        reports=reports,
    )


def plain(value: Any) -> Any:
    """numpy scalars to Python scalars, for readable reports and messages."""
    return value.item() if isinstance(value, np.generic) else value
