"""Timing and memory helpers: medians, the machine's dgemm rate, peak RSS in a subprocess."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# OpenBLAS's idle threads spin for about 0.1 s after a threaded call (THREAD_TIMEOUT): a method
# timed right after SciPy or numpy's dgemm would share its cores with them. Measured at
# n = 1000: 0.128 s right after SciPy, 0.086 s after a pause.
SETTLE_SECONDS = 0.25


def seconds(fn) -> float:
    """Wall time of fn(), started after a pause that lets other threads go idle."""
    time.sleep(SETTLE_SECONDS)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values) -> float:
    return float(statistics.median(values))


def dgemm_rate(size: int = 3000) -> float:
    """GFLOP/s of numpy's A @ B (OpenBLAS dgemm, default threads) right now."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    A @ B  # warm the thread pool
    return 2.0 * size**3 / seconds(lambda: A @ B) / 1e9


def binary_flops(n: int, d: int) -> float:
    """n²d (Gram, symmetric) + n³/3 (Cholesky) + n³/3 (triangular inverse)."""
    return n * n * d + 2.0 * n**3 / 3.0


def gaussian_problem(n: int, d: int, seed: int = 0):
    """Unit rows and ±1 labels, drawn in row chunks so that making them peaks at one n×d buffer."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, d))
    for start in range(0, n, 1024):
        chunk = X[start : start + 1024]
        rng.standard_normal(out=chunk)
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
    y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    return X, y


def peak_memory(method: str, n: int, d: int) -> float:
    """Peak RSS above the inputs, in n×n float64 buffers, measured in a fresh process."""
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "peak_memory.py"), method, str(n), str(d)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["buffers"]
