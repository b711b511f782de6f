"""Run the independent binary problems (or any tasks of a run) as tasks on a Dask cluster.

The features and their unit-length factors are scattered once to every worker; each task scores one
problem (repeat × class × chunk) with the native kernel, using the worker's own threads.
The problems and their negatives were drawn on the client before submission, and the
client aggregates the outcomes by problem key, so the result is bit-identical to the
local run with the same seed, whatever the order in which tasks finish or are retried.

Dask is an optional dependency (``pip install ".[all]"`` in the source folder): this module is
imported only when a client is passed, and the workers need cgscore_native installed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._prepare import UnitRows
from .errors import SingularGramError

# Tasks that raise are retried this many times; a worker that dies mid-task is handled by
# the scheduler (its tasks move to other workers), bounded by distributed.scheduler.allowed-failures.
DEFAULT_RETRIES = 2
# Times the scattered rows may be lost with a dead worker (each time they are scattered again).
MAX_DATA_LOSSES = 3

logger = logging.getLogger(__name__)


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
    if getattr(client, "status", "running") in ("closing", "closed"):
        raise ValueError("client is closed; connect a new dask.distributed.Client (or pass client=None to run here).")


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
    Ctrl-C the remaining tasks are cancelled before the exception propagates. If a dying worker
    held the last copy of the scattered rows, they are scattered again and the unfinished
    tasks resubmitted, at most MAX_DATA_LOSSES times.
    """
    pending = list(range(len(tasks)))
    for attempt in range(MAX_DATA_LOSSES + 1):
        if not pending:
            return
        if attempt:
            logger.warning("a worker died with the only copy of the scattered rows; scattering them again "
                           "and resubmitting %d task(s)", len(pending))
        done = _run_batch(client, data, tasks, pending, work, on_result, retries)
        pending = [i for i in pending if i not in done]
    if pending:
        raise RuntimeError(
            f"the Dask cluster lost the scattered rows {MAX_DATA_LOSSES + 1} times (workers died); "
            f"{len(pending)} task(s) were not run. Check the workers' logs and memory."
        )


def _run_batch(
    client: Any,
    data: UnitRows,
    tasks: Sequence[Any],
    positions: list[int],
    work: Callable[[UnitRows, Any], Any],
    on_result: Callable[[int, Any], None],
    retries: int,
) -> set[int]:
    """Scatter the rows and run the tasks at ``positions``; the positions done (fewer when the rows are lost)."""
    from concurrent.futures import CancelledError

    from distributed import as_completed

    scattered = client.scatter(data, broadcast=True, hash=False)
    run = uuid.uuid4().hex[:12]
    futures = [
        client.submit(_guarded, work, scattered, tasks[i], key=f"cgscore-{run}-{tasks[i].name}", retries=retries, pure=False)
        for i in positions
    ]
    position = {f.key: i for f, i in zip(futures, positions)}
    done: set[int] = set()
    try:
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except CancelledError:
                # Scattered data have no recipe: if the worker holding the last copy dies
                # (Dask's memory manager keeps as few replicas as the waiting tasks need),
                # every task waiting for it is cancelled. The caller scatters them again.
                return done
            if isinstance(outcome, _Singular):
                raise SingularGramError(outcome.message, outcome.pivot_index, outcome.pivot_value, rows=outcome.rows)
            on_result(position[future.key], outcome)
            done.add(position[future.key])
    finally:
        client.cancel(futures + [scattered])
    return done


def _guarded(work: Callable[[UnitRows, Any], Any], data: UnitRows, task: Any) -> Any:
    """work(data, task) on a worker, a SingularGramError carried back as data."""
    try:
        return work(data, task)
    except SingularGramError as exc:
        return _Singular(str(exc), exc.pivot_index, exc.pivot_value, exc.rows)
