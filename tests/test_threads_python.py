"""Python threads calling the API at once each get their own correct, unchanged result."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import cgscore_native as cg


def test_two_threads_scoring_at_once_match_sequential_runs(rng):
    jobs = []
    for k in range(4):
        X = rng.normal(size=(300 + 40 * k, 12))
        labels = rng.integers(0, 3, size=X.shape[0])
        jobs.append((X, labels, dict(seed=k, repeats=2, ratio=0.7 + 0.2 * k, n_threads=1 + k % 2)))
    expected = [cg.score(X, labels, **args).scores for X, labels, args in jobs]
    start = threading.Barrier(2)  # the two threads enter each pair of jobs together

    def run(job):
        X, labels, args = job
        start.wait(timeout=60)
        return cg.score(X, labels, **args).scores

    with ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(run, jobs))
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_threads_with_binary_scores_and_chunks(rng):
    X = rng.normal(size=(400, 8))
    y = np.where(rng.random(400) < 0.5, 1.0, -1.0)
    labels = (y > 0).astype(int)
    expected_binary = cg.cg_score_binary(X, y, n_threads=2)
    expected_chunked = cg.cg_score(X, labels, seed=3, chunk_size=80)
    with ThreadPoolExecutor(max_workers=2) as pool:
        binary = [pool.submit(cg.cg_score_binary, X, y, n_threads=2) for _ in range(3)]
        chunked = [pool.submit(cg.cg_score, X, labels, seed=3, chunk_size=80) for _ in range(3)]
        for f in binary:
            np.testing.assert_array_equal(f.result(), expected_binary)
        for f in chunked:
            np.testing.assert_array_equal(f.result(), expected_chunked)
