"""The Gram step on centred data against the same data with a large common offset.

Offset data (raw pixel intensities, document scans, un-centred embeddings) puts every pair
near u = 1, where the NTK transform needs the rows' difference rather than their dot product.
This prints, per (n, d), the median time of the Gram step (``_core.ntk_gram``, which also
mirrors the lower triangle) on centred Gaussian rows and on the same rows plus an offset
100× their spread (every pair then has |cos| > 0.9999), and the ratio offset / centred, in
wall-clock time and in CPU time of all threads (steadier on a shared machine).

    python bench/offset_cliff.py                      # n = 3000, 5000; d = 1024, 3072
    python bench/offset_cliff.py --sizes 3000x1024 --rounds 5 --backend eigen
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cgscore_native import _core
from cgscore_native._blas import ensure_blas


def gram_seconds(X: np.ndarray, backend: str, threads: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads) of one Gram step."""
    scale = 1.0 / np.linalg.norm(X, axis=1)
    wall, cpu = time.perf_counter(), time.process_time()
    _core.ntk_gram(X, n_threads=threads, backend=backend, row_scale=scale)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="3000x1024,5000x1024,3000x3072,5000x3072", help="n x d, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per case; the median is shown")
    parser.add_argument("--backend", default="auto", choices=["auto", "blas", "eigen"])
    parser.add_argument("--threads", type=int, default=0, help="0: the default")
    parser.add_argument("--offset", type=float, default=100.0, help="common offset, in units of the spread")
    args = parser.parse_args()
    if args.backend != "eigen":
        ensure_blas()
    backend = args.backend
    if backend == "auto":
        backend = "blas" if _core.blas_info().get("loaded") else "eigen"
    print(f"backend {backend}, threads {args.threads or 'default'}, offset {args.offset:g} x spread, "
          f"median of {args.rounds}")
    print(f"{'n':>6} {'d':>6} {'min |cos|':>10} {'centred s':>10} {'offset s':>10} {'ratio':>6} "
          f"{'cpu ratio':>9}")
    rng = np.random.default_rng(0)
    for size in args.sizes.split(","):
        n, d = (int(v) for v in size.lower().split("x"))
        centred = rng.normal(size=(n, d))
        offset = centred + args.offset
        sample = offset[:200] / np.linalg.norm(offset[:200], axis=1, keepdims=True)
        min_cos = np.abs(sample @ sample.T).min()
        times: dict[str, list[tuple[float, float]]] = {"centred": [], "offset": []}
        gram_seconds(centred[:256], backend, args.threads)  # warm-up: threads, BLAS
        for _ in range(args.rounds):  # alternate, so drifts of a busy machine hit both alike
            times["centred"].append(gram_seconds(centred, backend, args.threads))
            times["offset"].append(gram_seconds(offset, backend, args.threads))
        c, o = (statistics.median(t[0] for t in times[k]) for k in ("centred", "offset"))
        cc, oc = (statistics.median(t[1] for t in times[k]) for k in ("centred", "offset"))
        print(f"{n:>6} {d:>6} {min_cos:>10.6f} {c:>10.3f} {o:>10.3f} {o / c:>6.2f} {oc / cc:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
