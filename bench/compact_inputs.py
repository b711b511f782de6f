"""uint8 and float32 features against the same values as float64: time and peak memory.

The kernel reads uint8, float32 and float64 rows in place and converts them to float64 a
feature panel at a time, so no float64 copy of X is made. Per input type this prints:

- the median wall-clock time of ``cg_score_binary`` (one problem of all n rows) over several
  rounds, the types alternating so a busy machine's drifts hit them alike, and the ratio to
  float64;
- in a fresh process per type, the peak resident memory above the inputs, the planner's
  estimate for the run (``cg_score_binary`` reads X's rows in place: no copy of them), and
  their ratio;
- the size of X as given, and the float64 copy a version that converted X would have made.

Scores are checked bit-identical across the types (the conversions are exact).

    python bench/compact_inputs.py                      # n = 5000, d = 3072, 3 rounds
    python bench/compact_inputs.py --n 3000 --rounds 5
    python bench/compact_inputs.py --cifar uint8,float64   # the CIFAR-shaped protocol per type

``--cifar`` runs ``cg_score(X, labels, seed=0)`` on 50 000 × 3072 image-like pixels, 10 classes
× 5000, one repeat (10 problems of n = 10 000), once per type given, after numpy's dgemm rate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import cgscore_native as cg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import dgemm_rate  # noqa: E402

TYPES = ("uint8", "float32", "float64")

_PEAK = """
import sys, numpy as np, cgscore_native as cg
from cgscore_native._memory import run_peak_bytes
sys.path.insert(0, sys.argv[5])
from peak_memory import max_rss_bytes, rss_bytes

n, d, dtype, threads = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
X = np.random.default_rng(0).integers(0, 256, size=(n, d), dtype=np.uint8).astype(dtype)
y = np.where(np.arange(n) % 2 == 1, 1.0, -1.0)
cg.cg_score_binary(X[:300], y[:300], n_threads=threads)  # loads the BLAS, starts the threads
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak resident set restarts from here
base = rss_bytes()
cg.cg_score_binary(X, y, n_threads=threads)
print(max_rss_bytes() - base, run_peak_bytes(n, d, n, 1, threads, row_bytes=0))
"""


def peak_memory(n: int, d: int, dtype: str, threads: int) -> tuple[int, int]:
    """(measured peak bytes above the inputs, the planner's estimate), in a fresh process."""
    here = os.path.dirname(os.path.abspath(__file__))  # peak_memory.py's RSS readers
    out = subprocess.run([sys.executable, "-c", _PEAK, str(n), str(d), dtype, str(threads), here],
                         capture_output=True, text=True, check=True)
    measured, estimate = map(int, out.stdout.split())
    return measured, estimate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--d", type=int, default=3072)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per type; the median is shown")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cifar", default="", help="types for the CIFAR-shaped protocol, e.g. uint8,float64")
    args = parser.parse_args()
    if args.cifar:
        cifar(args.cifar.split(","), args.threads)
        return
    n, d = args.n, args.d
    pixels = np.random.default_rng(0).integers(0, 256, size=(n, d), dtype=np.uint8)  # image-like: non-negative
    X = {t: pixels.astype(t) for t in TYPES}
    y = np.where(np.arange(n) % 2 == 1, 1.0, -1.0)
    cg.cg_score_binary(X["float64"][:300], y[:300], n_threads=args.threads)  # warm-up
    times: dict[str, list[float]] = {t: [] for t in TYPES}
    scores: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for t in TYPES:
            start = time.perf_counter()
            scores[t] = cg.cg_score_binary(X[t], y, n_threads=args.threads)
            times[t].append(time.perf_counter() - start)
    identical = all(np.array_equal(scores[t], scores["float64"]) for t in TYPES)
    base = statistics.median(times["float64"])
    print(f"n = {n}, d = {d}, {args.threads} threads, median of {args.rounds}; scores bit-identical across types: {identical}")
    print(f"{'type':>8} {'X MiB':>8} {'f64 copy MiB':>13} {'seconds':>8} {'vs f64':>7} {'peak MiB':>9} "
          f"{'planned MiB':>12} {'peak/plan':>9}")
    for t in TYPES:
        measured, estimate = peak_memory(n, d, t, args.threads)
        copy = 0 if t == "float64" else 8 * n * d
        seconds = statistics.median(times[t])
        print(f"{t:>8} {X[t].nbytes / 2**20:8.1f} {copy / 2**20:13.1f} {seconds:8.2f} {seconds / base:7.3f} "
              f"{measured / 2**20:9.1f} {estimate / 2**20:12.1f} {measured / estimate:9.3f}")


def cifar(types: list[str], threads: int) -> None:
    """The CIFAR-shaped protocol on image-like pixels, once per type."""
    pixels = np.random.default_rng(0).integers(0, 256, size=(50_000, 3072), dtype=np.uint8)
    labels = np.repeat(np.arange(10), 5000)
    for t in types:
        X = pixels.astype(t)
        rate = dgemm_rate()
        start = time.perf_counter()
        scores = cg.cg_score(X, labels, seed=0, n_threads=threads)
        elapsed = time.perf_counter() - start
        print(f"CIFAR-shaped, {t}: {elapsed:.1f} s (numpy dgemm {rate:.0f} GFLOP/s before it; "
              f"scores finite: {bool(np.isfinite(scores).all())})", flush=True)


if __name__ == "__main__":
    main()
