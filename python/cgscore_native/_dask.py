"""Run the independent binary problems (or any tasks of a run) as tasks on a Dask cluster.

The features and their unit-length factors are scattered once to every worker; each task scores one
problem (repeat × class × chunk) with the native kernel, using the worker's own threads.
The problems and their negatives were drawn on the client before submission, and the
client aggregates the outcomes by problem key, so the result is bit-identical to the
local run with the same seed, whatever the order in which tasks finish or are retried.

Dask is an optional dependency (``pip install "cgscore-native[dask]"``): this module is
imported only when a client is passed, and the workers need cgscore_native installed.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._kernel import KernelOptions, ProblemOutcome, score_problem
from ._plan import Problem
from ._prepare import UnitRows
from ._progress import progress_bar
from .errors import SingularGramError

# Tasks that raise are retried this many times; a worker that dies mid-task is handled by
# the scheduler (its tasks move to other workers), bounded by distributed.scheduler.allowed-failures.
DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class _Singular:
    """A SingularGramError carried back as plain data (its extra fields survive the trip)."""

    message: str
    pivot_index: int
    pivot_value: float
    rows: tuple[int, ...]


def check_client(client: Any) -> None:
    """A synchronous dask.distributed.Client is needed."""
    if not (hasattr(client, "submit") and hasattr(client, "scatter") and hasattr(client, "scheduler_info")):
        raise TypeError(f"client must be a dask.distributed.Client; got {type(client).__name__}.")
    if getattr(client, "asynchronous", False):
        raise TypeError("client is asynchronous; pass a synchronous dask.distributed.Client.")


def score_task(data: UnitRows, problem: Problem, options: KernelOptions, labels: Any) -> ProblemOutcome | _Singular:
    """One problem on a worker; runs the same code as the local path."""
    try:
        return score_problem(data, problem, options, labels=labels)
    except SingularGramError as exc:
        return _Singular(str(exc), exc.pivot_index, exc.pivot_value, exc.rows)


def run_on_cluster(
    client: Any,
    data: UnitRows,
    problems: list[Problem],
    options: KernelOptions,
    *,
    labels: Any = None,
    on_result: Callable[[ProblemOutcome], None] | None = None,
    progress: bool = False,
    retries: int = DEFAULT_RETRIES,
    task: Callable = score_task,
) -> dict[tuple[int, int, int], ProblemOutcome]:
    """Outcomes of the problems, keyed by ``Problem.key``; on_result sees each as it arrives.

    On an error or Ctrl-C the remaining tasks are cancelled before the exception propagates.
    """
    outcomes: dict[tuple[int, int, int], ProblemOutcome] = {}
    bar = progress_bar(len(problems), progress, "CG-score (dask)")

    def arrived(i: int, outcome: ProblemOutcome) -> None:
        outcomes[problems[i].key] = outcome
        if on_result is not None:
            on_result(outcome)
        bar.update(1)

    try:
        run_work_on_cluster(client, data, problems, functools.partial(_problem_task, task, options, labels),
                            on_result=arrived, retries=retries)
    finally:
        bar.close()
    return outcomes


def run_work_on_cluster(
    client: Any,
    data: UnitRows,
    tasks: Sequence[Any],
    work: Callable[[UnitRows, Any], Any],
    *,
    on_result: Callable[[int, Any], None],
    retries: int = DEFAULT_RETRIES,
) -> None:
    """work(data, task) for every task as a Dask task; on_result(i, outcome) as each arrives
    (i: the task's position). ``data`` is scattered once to every worker; a task is named
    after ``task.name``. A SingularGramError on a worker is raised here; on an error or
    Ctrl-C the remaining tasks are cancelled before the exception propagates.
    """
    from distributed import as_completed

    if not tasks:
        return
    scattered = client.scatter(data, broadcast=True, hash=False)
    run = uuid.uuid4().hex[:12]
    futures = [
        client.submit(_guarded, work, scattered, t, key=f"cgscore-{run}-{t.name}", retries=retries, pure=False)
        for t in tasks
    ]
    position = {f.key: i for i, f in enumerate(futures)}
    try:
        for future in as_completed(futures):
            outcome = future.result()
            if isinstance(outcome, _Singular):
                raise SingularGramError(outcome.message, outcome.pivot_index, outcome.pivot_value, rows=outcome.rows)
            on_result(position[future.key], outcome)
    finally:
        client.cancel(futures + [scattered])


def _guarded(work: Callable[[UnitRows, Any], Any], data: UnitRows, task: Any) -> Any:
    """work(data, task) on a worker, a SingularGramError carried back as data."""
    try:
        return work(data, task)
    except SingularGramError as exc:
        return _Singular(str(exc), exc.pivot_index, exc.pivot_value, exc.rows)


def _problem_task(task: Callable, options: KernelOptions, labels: Any, data: UnitRows, problem: Problem) -> Any:
    return task(data, problem, options, labels)
