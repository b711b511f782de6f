"""Memory planning: budgets in bytes or with units, refusal before any large allocation,
and a hint that names a chunk_size that fits."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import MemoryBudgetError
from cgscore_native._memory import parse_memory_limit, problem_peak_bytes, run_peak_bytes


@pytest.mark.parametrize(
    "text, expected",
    [(1000, 1000), ("1000", 1000), ("4GiB", 4 * 2**30), ("512 MiB", 512 * 2**20), ("2.5GB", 2_500_000_000),
     ("10kb", 10_000), ("1 TiB", 2**40), ("3G", 3 * 10**9), (np.int64(77), 77), (None, None)],
)
def test_memory_limit_parsing(text, expected):
    assert parse_memory_limit(text) == expected


@pytest.mark.parametrize("bad, error", [("lots", ValueError), ("4 GiBs", ValueError), (-5, ValueError), (0, ValueError),
                                        ("", ValueError), (True, TypeError), ([4], TypeError)])
def test_bad_memory_limits_are_refused(bad, error):
    with pytest.raises(error, match="memory_limit"):
        parse_memory_limit(bad)


def test_peak_is_dominated_by_the_gram_buffer():
    assert problem_peak_bytes(10_000, 100) >= 8 * 10_000**2
    assert run_peak_bytes(10_000, 100, 1000) < problem_peak_bytes(10_000, 100)


def test_huge_problem_is_refused_before_allocating(monkeypatch):
    def kernel_must_not_run(*args, **kwargs):
        raise AssertionError("the kernel ran")

    monkeypatch.setattr(cg._core, "score_binary", kernel_must_not_run)
    n = 300_000  # one problem of 300k rows: a 670 GiB Gram buffer
    X = np.random.default_rng(0).normal(size=(n, 2))
    labels = np.arange(n) % 2
    tracemalloc.start()
    try:
        with pytest.raises(MemoryBudgetError) as info:
            cg.score(X, labels, memory_limit="2GiB")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * n * 8  # a few index arrays, not even a normalized copy of X
    message = str(info.value)
    assert "300000×300000 float64 Gram buffer needs" in message and "the memory limit you set is 2.00 GiB" in message
    assert info.value.required_bytes > 600 * 2**30 and info.value.available_bytes == 2 * 2**30


def test_hint_names_a_chunk_size_that_fits(rng):
    n = 3000
    X = rng.normal(size=(n, 4))
    labels = rng.integers(0, 2, size=n)
    with pytest.raises(MemoryBudgetError, match=r"chunked mode \(chunk_size=\d+ or less fits\)") as info:
        cg.score(X, labels, memory_limit="24MiB", seed=0)
    k = int(re.search(r"chunk_size=(\d+)", str(info.value)).group(1))
    result = cg.score(X, labels, memory_limit="24MiB", seed=0, chunk_size=k)
    assert max(p.n_positives + p.n_negatives for p in result.problems) <= k
    assert np.all(np.isfinite(result.scores))


def test_a_smaller_ratio_is_checked_with_its_smaller_problems(rng):
    X = rng.normal(size=(2000, 3))
    labels = np.repeat([0, 1], 1000)  # ratio 1: problems of 2000 rows; ratio 0.1: 1100 rows
    budget = run_peak_bytes(2000, 3, 1100, n_threads=2)
    with pytest.raises(MemoryBudgetError):
        cg.score(X, labels, memory_limit=budget, n_threads=2, seed=0)
    assert cg.score(X, labels, ratio=0.1, memory_limit=budget, n_threads=2, seed=0).scores.shape == (2000,)


def test_binary_scores_take_a_memory_limit(rng):
    X = rng.normal(size=(500, 3))
    with pytest.raises(MemoryBudgetError, match="needs 0.00 GiB"):
        cg.cg_score_binary(X, np.ones(500), memory_limit="1MiB")
    assert cg.cg_score_binary(X, np.ones(500), memory_limit="1GiB").shape == (500,)


def test_cg_score_passes_memory_limit(rng):
    X = rng.normal(size=(100, 3))
    with pytest.raises(MemoryBudgetError):
        cg.cg_score(X, np.arange(100) % 2, memory_limit=1000)
