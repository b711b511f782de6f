"""Former home of the Dask back end, now ``cgscore_native._dask``; kept so old imports work."""

from ._dask import check_client, run_on_cluster, score_task
from ._memory import worker_memory_limit

solve_on_cluster = run_on_cluster
solve_task = score_task

__all__ = ["check_client", "run_on_cluster", "score_task", "solve_on_cluster", "solve_task", "worker_memory_limit"]
