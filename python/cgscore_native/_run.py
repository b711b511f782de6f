"""Run the planned problems: resume from a checkpoint, then locally or on a Dask cluster.

Whatever runs where, the outcomes come back in plan order, so aggregation is the same
fixed sequence of operations and the scores are bit-identical across back ends.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from ._execute import KernelOptions, ProblemOutcome, solve_problem
from ._progress import progress_bar
from ._protocol import Problem
from .checkpoint import Checkpoint


def run_problems(
    Xn: np.ndarray,
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
        from .dask_backend import solve_on_cluster

        done.update(solve_on_cluster(client, Xn, pending, options, labels=labels, on_result=save, progress=progress))
    else:
        bar = progress_bar(len(pending), progress)
        try:
            for p in pending:
                outcome = call_interruptibly(solve_problem, Xn, p, options, labels)
                if save is not None:
                    save(outcome)
                done[p.key] = outcome
                bar.update(1)
        finally:
            bar.close()
    return [done[p.key] for p in problems]


def call_interruptibly(fn: Callable, *args: Any) -> Any:
    """fn(*args) in a helper thread, so that Ctrl-C reaches the caller at once.

    The native kernel holds no GIL but cannot be stopped midway, and a signal is only
    handled by the main thread between bytecodes: waiting here (rather than inside the
    kernel) lets KeyboardInterrupt propagate within a fraction of a second. The abandoned
    problem finishes in the background (a daemon thread) and its result is dropped.
    """
    box: dict[str, Any] = {}
    finished = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # rethrown on the caller's thread below
            box["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=target, name="cgscore-kernel", daemon=True).start()
    while not finished.wait(0.2):
        pass
    if "error" in box:
        raise box["error"]
    return box["value"]
