"""uint8 and float32 features against the same values as float64: time and peak memory.

The kernel reads uint8, float32 and float64 rows in place and converts them to float64 a
feature panel at a time, so no float64 copy of X is made. Per input type this prints:

- the median wall-clock time of ``cg_score_binary`` (one problem of all n rows) over several
  rounds, the types alternating so a busy machine's drifts hit them alike, and the ratio to
  float64;
- in a fresh process per type, the peak resident memory above the inputs, the planner's
  estimate for the run, and their ratio (glibc is told to map every block of 64 KiB or more
  on its own, so memory freed earlier is not reused unseen);
- the size of X as given, and the float64 copy a version that converted X would have made.

Scores are checked bit-identical across the types (the conversions are exact).

    python bench/compact_inputs.py                      # n = 5000, d = 3072, 3 rounds
    python bench/compact_inputs.py --n 3000 --rounds 5
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

TYPES = ("uint8", "float32", "float64")

_PEAK = """
import sys, numpy as np, cgscore_native as cg
from cgscore_native._memory import run_peak_bytes

def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field))

n, d, dtype, threads = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
X = np.random.default_rng(0).integers(0, 256, size=(n, d), dtype=np.uint8).astype(dtype)
y = np.where(np.arange(n) % 2 == 1, 1.0, -1.0)
cg.cg_score_binary(X[:300], y[:300], n_threads=threads)  # loads the BLAS, starts the threads
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak resident set restarts from here
base = status("VmRSS")
cg.cg_score_binary(X, y, n_threads=threads)
print(status("VmHWM") - base, run_peak_bytes(n, d, n, 1, threads, itemsize=X.itemsize))
"""


def peak_memory(n: int, d: int, dtype: str, threads: int) -> tuple[int, int]:
    """(measured peak bytes above the inputs, the planner's estimate), in a fresh process."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="65536")
    out = subprocess.run([sys.executable, "-c", _PEAK, str(n), str(d), dtype, str(threads)],
                         capture_output=True, text=True, check=True, env=env)
    measured, estimate = map(int, out.stdout.split())
    return measured, estimate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--d", type=int, default=3072)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per type; the median is shown")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
