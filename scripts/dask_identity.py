"""Local vs Dask: the same seed gives bit-identical scores, on the full embedded digits.

    python scripts/dask_identity.py                       # starts a LocalCluster (2 process workers)
    python scripts/dask_identity.py tcp://scheduler:8786  # or uses an existing cluster

Prints one line per configuration with the largest absolute difference (0.0 when identical)
and exits non-zero if any differs.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import cgscore_native as cg

CONFIGS = [
    dict(seed=0),
    dict(seed=1, ratio=0.5, repeats=3, subterms=True),
    dict(seed=2, repeats=2, chunk_size=120),
    dict(seed=3, ratio=2.0, chunk_size=300, n_threads=1),
]


def compare(client) -> bool:
    X, y = cg.load_digits()
    identical = True
    for args in CONFIGS:
        start = time.perf_counter()
        local = cg.score(X, y, **args)
        middle = time.perf_counter()
        remote = cg.score(X, y, client=client, **args)
        end = time.perf_counter()
        same = np.array_equal(local.scores, remote.scores) and np.array_equal(local.scores_by_repeat, remote.scores_by_repeat)
        if args.get("subterms"):
            same = same and all(np.array_equal(local.subterms[k], remote.subterms[k]) for k in local.subterms)
        same = same and local.problems == remote.problems
        identical &= same
        diff = float(np.max(np.abs(local.scores - remote.scores)))
        print(
            f"{args!s:55s} problems={len(local.problems):4d} bit-identical={same} max|diff|={diff:g} "
            f"local {middle - start:.2f}s dask {end - middle:.2f}s"
        )
    return identical


def main() -> int:
    from dask.distributed import Client, LocalCluster

    if len(sys.argv) > 1:
        with Client(sys.argv[1]) as client:
            return 0 if compare(client) else 1
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            return 0 if compare(client) else 1


if __name__ == "__main__":
    sys.exit(main())
