"""Run the planned problems (or any tasks): resume from a checkpoint, then locally (on a kernel thread) or on a Dask cluster.

Whatever runs where, the outcomes come back in plan order, so aggregation is the same
fixed sequence of operations and the scores are bit-identical across back ends.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from ._kernel import KernelOptions, ProblemOutcome, score_problem
from ._plan import Problem
from ._prepare import UnitRows
from ._progress import progress_bar
from .checkpoint import Checkpoint

T = TypeVar("T")
R = TypeVar("R")


def run_problems(
    data: UnitRows,
    problems: list[Problem],
    options: KernelOptions,
    *,
    labels: Any = None,
    checkpoint: Checkpoint | None = None,
    client: Any = None,
    progress: bool = False,
) -> list[ProblemOutcome]:
    """The outcome of every problem, in the order of ``problems``."""
    store = None if checkpoint is None else _ProblemStore(checkpoint)
    bar = progress_bar(len(problems), progress, "CG-score (dask)" if client is not None else "CG-score")
    try:
        return run_tasks(data, problems, functools.partial(_score, options, labels), store=store, client=client, bar=bar)
    finally:
        bar.close()


def run_tasks(
    data: UnitRows,
    tasks: Sequence[T],
    work: Callable[[UnitRows, T], R],
    *,
    store: TaskStore | None = None,
    client: Any = None,
    bar: Any = None,
) -> list[R]:
    """work(data, task) for every task, in the order of ``tasks``: those the store holds are
    loaded, the others run on one kernel thread (or as tasks on a Dask cluster) and are saved.

    ``work`` must be deterministic and, for a cluster, picklable (a module-level function or a
    functools.partial of one); each task needs a ``name`` (unique in the run) on a cluster.
    The outcomes come back in task order whatever ran where, so a caller that combines them
    in that order gets bit-identical results from every back end.
    """
    done: dict[int, R] = {}
    if store is not None:
        for i, task in enumerate(tasks):
            stored = store.load(task)
            if stored is not None:
                done[i] = stored
                if bar is not None:
                    bar.update(1)
    pending = [i for i in range(len(tasks)) if i not in done]

    def finished(i: int, outcome: R) -> None:
        if store is not None:
            store.save(tasks[i], outcome)
        done[i] = outcome
        if bar is not None:
            bar.update(1)

    if client is not None:
        from ._dask import run_work_on_cluster

        run_work_on_cluster(client, data, [tasks[i] for i in pending], work,
                            on_result=lambda j, outcome: finished(pending[j], outcome))
    elif pending:
        with KernelThread() as kernel:
            for i in pending:
                finished(i, kernel.call(work, data, tasks[i]))
    return [done[i] for i in range(len(tasks))]


class TaskStore(Protocol):
    """Where finished tasks are kept between runs (a checkpoint)."""

    def load(self, task: Any) -> Any: ...

    def save(self, task: Any, outcome: Any) -> None: ...


class _ProblemStore:
    """A checkpoint seen as a TaskStore of scored problems."""

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint = checkpoint

    def load(self, task: Problem) -> ProblemOutcome | None:
        return self.checkpoint.load(task)

    def save(self, task: Problem, outcome: ProblemOutcome) -> None:
        self.checkpoint.save(outcome)


def _score(options: KernelOptions, labels: Any, data: UnitRows, problem: Problem) -> ProblemOutcome:
    return score_problem(data, problem, options, labels)


class KernelThread:
    """One daemon thread that runs a run's kernel calls, so that Ctrl-C reaches the caller at once.

    The native kernel holds no GIL but cannot be stopped midway, and a signal is only
    handled by the main thread between bytecodes: waiting here (rather than inside the
    kernel) lets KeyboardInterrupt propagate within a fraction of a second. The abandoned
    problem finishes in the background and its result is dropped; being a daemon, the
    thread never delays the interpreter's exit. One thread serves the whole run, so its
    OpenMP thread team is created once, not once per problem.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="cgscore-kernel", daemon=True).start()

    def call(self, fn: Callable, *args: Any) -> Any:
        """fn(*args) on the kernel thread; its exception is re-raised here."""
        box: dict[str, Any] = {}
        finished = threading.Event()
        self._jobs.put((fn, args, box, finished))
        while not finished.wait(0.2):
            pass
        if "error" in box:
            raise box["error"]
        return box["value"]

    def close(self) -> None:
        self._jobs.put(None)

    def __enter__(self) -> KernelThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args, box, finished = job
            try:
                box["value"] = fn(*args)
            except BaseException as exc:  # rethrown on the caller's thread
                box["error"] = exc
            finally:
                finished.set()


def call_interruptibly(fn: Callable, *args: Any) -> Any:
    """fn(*args) on a fresh kernel thread (see KernelThread), for a single call."""
    with KernelThread() as kernel:
        return kernel.call(fn, *args)
