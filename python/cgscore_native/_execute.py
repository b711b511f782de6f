"""Run the planned problems: resume from a checkpoint, then locally (on a kernel thread) or on a Dask cluster.

Whatever runs where, the outcomes come back in plan order, so aggregation is the same
fixed sequence of operations and the scores are bit-identical across back ends.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable

from ._kernel import KernelOptions, ProblemOutcome, score_problem
from ._plan import Problem
from ._prepare import UnitRows
from ._progress import progress_bar
from .checkpoint import Checkpoint


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
    done: dict[tuple[int, int, int], ProblemOutcome] = {}
    if checkpoint is not None:
        for p in problems:
            stored = checkpoint.load(p)
            if stored is not None:
                done[p.key] = stored
    pending = [p for p in problems if p.key not in done]
    save = checkpoint.save if checkpoint is not None else None

    if client is not None:
        from ._dask import run_on_cluster

        done.update(run_on_cluster(client, data, pending, options, labels=labels, on_result=save, progress=progress))
    else:
        bar = progress_bar(len(pending), progress and bool(pending))
        kernel = KernelThread()
        try:
            for p in pending:
                outcome = kernel.call(score_problem, data, p, options, labels)
                if save is not None:
                    save(outcome)
                done[p.key] = outcome
                bar.update(1)
        finally:
            kernel.close()
            bar.close()
    return [done[p.key] for p in problems]


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
