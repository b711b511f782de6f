"""Run one method once in this process and print its peak RSS above the inputs.

Usage: python bench/peak_memory.py {ours,kernel,scipy} N D
Prints JSON: {"method", "n", "d", "extra_bytes", "buffers"} (buffers: in units of 8n² bytes).
Linux only (/proc/self/status: VmRSS and VmHWM).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cgscore_native  # noqa: E402
from baselines import scipy_closed_form  # noqa: E402
from cgscore_native import _core  # noqa: E402
from cgscore_native._blas import ensure_blas  # noqa: E402
from measure import gaussian_problem  # noqa: E402


def status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def max_rss_bytes() -> int:
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (kept across exec).
    return status_bytes("VmHWM")


def rss_bytes() -> int:
    return status_bytes("VmRSS")


def main() -> None:
    method, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ensure_blas()
    scipy_closed_form(*gaussian_problem(64, 8))  # load SciPy's libraries before the baseline
    X, y = gaussian_problem(n, d)
    Y = np.asfortranarray(y[:, None])
    baseline = rss_bytes()  # the inputs are resident; the peak so far is no higher (chunked draw)
    if method == "kernel":  # the native kernel on rows already normalized
        _core.score_binary(X, Y, 0.0, -1.0, False, 2)
    elif method == "ours":  # the public API on the raw rows (validated, never copied)
        cgscore_native.cg_score_binary(X, y)
    elif method == "scipy":
        scipy_closed_form(X, y)
    else:
        raise SystemExit(f"unknown method {method}")
    extra = max_rss_bytes() - baseline
    print(json.dumps({"method": method, "n": n, "d": d, "extra_bytes": extra, "buffers": extra / (8.0 * n * n)}))


if __name__ == "__main__":
    main()
