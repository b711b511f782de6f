"""The BLAS backend with any NumPy: the package's own OpenBLAS against the Eigen path.

    python bench/blas_independence.py                  # n = 4000, d = 3072, 3 rounds
    python bench/blas_independence.py --n 2000 --rounds 2
    python bench/blas_independence.py --libraries      # also: single-thread dgemm rate of
                                                       # every OpenBLAS in the process

Run it beside NumPy 1.x (whose wheel bundles an OpenBLAS with other symbol names, which the
package never used) to see the fast path taken anyway. Each round times the kernel
(`_core.score_binary` on unit rows, 2 threads) once per backend on the same data; the ratio
is the median of per-round ratios. `--libraries` compares the OpenBLAS copies a process can
reach (the package's, NumPy's and SciPy's, as far as present) on one single-threaded dgemm,
called directly through ctypes: the evidence that owning the library costs no speed.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cgscore_native  # noqa: E402
from cgscore_native import _core  # noqa: E402
from measure import gaussian_problem, median, seconds  # noqa: E402


def kernel_seconds(X: np.ndarray, Y: np.ndarray, backend: str) -> float:
    return seconds(lambda: _core.score_binary(X, Y, 0.0, -1.0, False, 2, backend=backend))


def backends(n: int, d: int, rounds: int, skip_eigen: bool = False) -> dict:
    X, y = gaussian_problem(n, d)
    Y = np.asfortranarray(y.reshape(n, 1))
    available = cgscore_native.build_info()["backend"] == "blas"
    names = ["blas"] if skip_eigen else ["blas", "eigen"] if available else ["eigen"]
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            times[name].append(kernel_seconds(X, Y, name))
    result = {name: median(values) for name, values in times.items()}
    if available and not skip_eigen:
        result["eigen_over_blas"] = median([e / b for e, b in zip(times["eigen"], times["blas"])])
    result["rounds"] = times
    return result


# OpenBLAS copies a process may hold: (label, glob pattern, dgemm symbol, thread setter, int type).
def _library_candidates() -> list[tuple[str, str, str, str, type]]:
    site = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    ours = _core.blas_info()["path"]
    found = []
    if ours:
        found.append(("package (ILP64)", ours, "scipy_dgemm_64_", "scipy_openblas_set_num_threads64_", ctypes.c_int64))
    for path in sorted(glob.glob(os.path.join(site, "numpy.libs", "libscipy_openblas64_*.so*"))):
        found.append(("numpy 2 (ILP64)", path, "scipy_dgemm_64_", "scipy_openblas_set_num_threads64_", ctypes.c_int64))
    for path in sorted(glob.glob(os.path.join(site, "numpy.libs", "libopenblas64_*.so*"))):
        found.append(("numpy 1 (ILP64)", path, "dgemm_64_", "openblas_set_num_threads64_", ctypes.c_int64))
    for path in sorted(glob.glob(os.path.join(site, "scipy.libs", "libscipy_openblas-*.so*"))):
        found.append(("scipy (LP64)", path, "scipy_dgemm_", "scipy_openblas_set_num_threads", ctypes.c_int32))
    return found


def library_rates(size: int, rounds: int) -> list[dict]:
    """Single-thread dgemm GFLOP/s of each OpenBLAS copy, side by side in each round.
    Each copy is set to one thread for the measurement and restored afterwards."""
    rng = np.random.default_rng(1)
    A = np.asfortranarray(rng.standard_normal((size, size)))
    B = np.asfortranarray(rng.standard_normal((size, size)))
    rows = []
    for label, path, dgemm_name, threads_name, int_type in _library_candidates():
        library = ctypes.CDLL(path)
        dgemm = getattr(library, dgemm_name)
        set_threads = getattr(library, threads_name)
        get_threads = getattr(library, threads_name.replace("set_", "get_"))
        get_threads.restype = ctypes.c_int
        rows.append({"library": label, "path": path, "call": (dgemm, set_threads, get_threads, int_type), "rates": []})
    for _ in range(rounds):
        for row in rows:
            dgemm, set_threads, get_threads, int_type = row["call"]
            C = np.zeros((size, size), order="F")
            m = int_type(size)
            one, zero = ctypes.c_double(1.0), ctypes.c_double(0.0)
            ptr = lambda a: a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))  # noqa: E731
            saved = get_threads()
            set_threads(1)
            try:
                args = (ctypes.c_char_p(b"N"), ctypes.c_char_p(b"N"), ctypes.byref(m), ctypes.byref(m), ctypes.byref(m),
                        ctypes.byref(one), ptr(A), ctypes.byref(m), ptr(B), ctypes.byref(m), ctypes.byref(zero), ptr(C),
                        ctypes.byref(m), ctypes.c_size_t(1), ctypes.c_size_t(1))
                dgemm(*args)  # warm
                time.sleep(0.25)
                start = time.perf_counter()
                dgemm(*args)
                elapsed = time.perf_counter() - start
            finally:
                set_threads(saved)
            assert np.allclose(C[:3, :3], (A @ B)[:3, :3])
            row["rates"].append(2.0 * size**3 / elapsed / 1e9)
    return [{"library": r["library"], "path": r["path"], "gflops": median(r["rates"]), "rounds": r["rates"]} for r in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--d", type=int, default=3072)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--libraries", action="store_true", help="also the dgemm rate of each OpenBLAS copy")
    parser.add_argument("--json", help="write every number to this file")
    parser.add_argument(
        "--library",
        help="load this OpenBLAS (ILP64, scipy_ symbols) instead of the package's own, e.g. the copy in "
        "numpy.libs, to compare with the earlier design that used NumPy's",
    )
    parser.add_argument("--skip-eigen", action="store_true", help="time the BLAS backend only")
    args = parser.parse_args(argv)
    if args.library:
        _core.load_blas(args.library)

    info = cgscore_native.build_info()
    report = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "backend": info["backend"],
        "blas": info["blas"],
        "n": args.n,
        "d": args.d,
    }
    print(f"NumPy {np.__version__}, Python {report['python']}: back end {info['backend']}")
    if info["blas"]:
        print(f"  BLAS {info['blas']['path']}\n  {info['blas']['config']} (core {info['blas']['corename']})")
    report["kernel"] = backends(args.n, args.d, args.rounds, args.skip_eigen)
    k = report["kernel"]
    line = f"n = {args.n}, d = {args.d}, kernel, 2 threads, median of {args.rounds}:"
    line += "".join(f" {name} {k[name]:.2f} s" for name in ("blas", "eigen") if name in k)
    if "eigen_over_blas" in k:
        line += f", eigen/blas {k['eigen_over_blas']:.2f}x"
    print(line)
    if args.libraries:
        report["libraries"] = library_rates(2000, args.rounds)
        for row in report["libraries"]:
            print(f"  dgemm 2000^3, 1 thread: {row['gflops']:5.1f} GFLOP/s  {row['library']:16s} {row['path']}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
