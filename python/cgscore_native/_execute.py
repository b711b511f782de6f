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

from . import _core
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
    """One thread that runs a run's kernel calls, so that Ctrl-C reaches the caller at once.

    A signal is only handled by the main thread between bytecodes, so the main thread waits
    here rather than inside the kernel (which holds no GIL). Each call gets a fresh
    ``_core.StopToken``, entered on the kernel thread, so every kernel call it makes polls it
    between blocks. On KeyboardInterrupt (or any exception while waiting) the token is set,
    the kernel ends within about one block with ``_core.Cancelled``, and the thread is joined
    before the exception goes on: no native work outlives the call (a daemon thread still
    inside OpenBLAS when the interpreter exited crashed the process). One thread serves the
    whole run, so its OpenMP thread team is created once, not once per problem.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._token: _core.StopToken | None = None  # of the latest call
        self._thread = threading.Thread(target=self._serve, name="cgscore-kernel")
        self._thread.start()

    def call(self, fn: Callable, *args: Any) -> Any:
        """fn(*args) on the kernel thread; its exception is re-raised here."""
        box: dict[str, Any] = {}
        finished = threading.Event()
        self._token = token = _core.StopToken()
        try:
            self._jobs.put((fn, args, box, finished, token))
            while not finished.wait(0.2):
                pass
        except BaseException:
            token.request_stop()
            _wait_through_interrupts(lambda: finished.wait(0.1))
            raise
        if "error" in box:
            raise box["error"]
        return box["value"]

    def close(self) -> None:
        """Stop the call still running, if any, and join the thread."""
        if self._token is not None and self._thread.is_alive():
            self._token.request_stop()  # a no-op when the last call has finished
        self._jobs.put(None)

        def joined() -> bool:
            self._thread.join(0.1)
            return not self._thread.is_alive()

        _wait_through_interrupts(joined)

    def __enter__(self) -> KernelThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args, box, finished, token = job
            try:
                with token:
                    box["value"] = fn(*args)
            except BaseException as exc:  # rethrown on the caller's thread
                box["error"] = exc
            finally:
                finished.set()


def _wait_through_interrupts(done: Callable[[], bool]) -> None:
    """Poll ``done`` until it is true; a further Ctrl-C while the kernel stops is ignored
    (it stops within about one block), so the thread is always joined."""
    while True:
        try:
            if done():
                return
        except KeyboardInterrupt:
            pass


def call_interruptibly(fn: Callable, *args: Any) -> Any:
    """fn(*args) on a fresh kernel thread (see KernelThread), for a single call."""
    with KernelThread() as kernel:
        return kernel.call(fn, *args)
