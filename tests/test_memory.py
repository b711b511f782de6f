"""Memory planning: budgets in bytes or with units, refusal before any large allocation,
and a hint that names a chunk_size that fits."""

from __future__ import annotations

import re
import time
import tracemalloc

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import MemoryBudgetError
from cgscore_native._memory import parse_memory_limit, plan_bytes, problem_peak_bytes, run_peak_bytes


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
    n = 10_000
    assert 4 * n * (n + 1) <= problem_peak_bytes(n, 100) < 8 * n * n  # the lower triangle is all that is touched
    assert run_peak_bytes(n, 100, 1000) < problem_peak_bytes(n, 100)
    # uint8 rows are read in place: the problem's copy of its rows is 1 byte per entry.
    assert problem_peak_bytes(n, 3072) - problem_peak_bytes(n, 3072, row_bytes=1) == 7 * n * 3072


def test_huge_problem_is_refused_before_allocating(monkeypatch):
    def kernel_must_not_run(*args, **kwargs):
        raise AssertionError("the kernel ran")

    monkeypatch.setattr(cg._core, "score_binary", kernel_must_not_run)
    n = 300_000  # one problem of 300k rows: a 670 GiB Gram buffer, 335 GiB of it written
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
    assert info.value.required_bytes > 335 * 2**30 and info.value.available_bytes == 2 * 2**30


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
    budget = run_peak_bytes(2000, 3, 1100, n_threads=2) + plan_bytes(2, 2 * 1100, 2000, 1)  # exactly enough
    with pytest.raises(MemoryBudgetError):
        cg.score(X, labels, memory_limit=budget, n_threads=2, seed=0)
    assert cg.score(X, labels, ratio=0.1, memory_limit=budget, n_threads=2, seed=0).scores.shape == (2000,)
    with pytest.raises(MemoryBudgetError):  # one byte less does not fit
        cg.score(X, labels, ratio=0.1, memory_limit=budget - 1, n_threads=2, seed=0)


def test_binary_scores_take_a_memory_limit(rng):
    X = rng.normal(size=(500, 3))
    with pytest.raises(MemoryBudgetError, match="needs 0.00 GiB"):
        cg.cg_score_binary(X, np.ones(500), memory_limit="1MiB")
    assert cg.cg_score_binary(X, np.ones(500), memory_limit="1GiB").shape == (500,)


def test_cg_score_passes_memory_limit(rng):
    X = rng.normal(size=(100, 3))
    with pytest.raises(MemoryBudgetError):
        cg.cg_score(X, np.arange(100) % 2, memory_limit=1000)


# --- The check comes before any copy of X and before the plan is built (issue 10, item 7) ---

from cgscore_native import _plan  # noqa: E402
from cgscore_native._memory import check_memory  # noqa: E402
from cgscore_native._validate import conversion_bytes, feature_array, to_kernel_rows  # noqa: E402


def _traced_peak(call):
    """(exception raised by call, peak bytes traced by tracemalloc during it)."""
    tracemalloc.start()
    try:
        with pytest.raises(MemoryBudgetError) as info:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, peak


@pytest.mark.parametrize("entry", ["score", "cg_score_binary", "diagnose"])
def test_a_small_budget_for_uint8_images_is_refused_before_any_copy(entry):
    n, shape = 2000, (32, 32, 3)  # 6 MiB of uint8 images; a float64 copy would be 47 MiB
    X = np.random.default_rng(0).integers(0, 256, size=(n, *shape), dtype=np.uint8)
    labels = np.arange(n) % 2
    calls = {
        "score": lambda: cg.score(X, labels, memory_limit="4MiB", seed=0),
        "cg_score_binary": lambda: cg.cg_score_binary(X, np.where(labels == 1, 1, -1), memory_limit="4MiB"),
        "diagnose": lambda: cg.diagnose(X, labels, memory_limit="4MiB", chunk_size=1000, seed=0),
    }
    error, peak = _traced_peak(calls[entry])
    copy = 8 * n * X[0].size
    assert peak < copy / 20, f"{peak / 2**20:.1f} MiB allocated before refusing"
    assert error.available_bytes == 4 * 2**20


def test_a_copy_is_counted_by_the_check_and_compact_rows_need_none(rng):
    n, d = 400, 2000
    X = rng.integers(1, 256, size=(n, d)).astype(np.float64)
    y = np.where(np.arange(n) % 2 == 1, 1.0, -1.0)
    budget = run_peak_bytes(n, d, n, n_threads=1, row_bytes=0) + 8 * n * d // 2  # the run fits; a float64 copy does not
    reference = cg.cg_score_binary(X, y, n_threads=1, memory_limit=budget)
    # uint8 and float32 rows are read in place: no copy, and the same scores bit for bit.
    for compact in (X.astype(np.uint8), X.astype(np.float32)):
        np.testing.assert_array_equal(cg.cg_score_binary(compact, y, n_threads=1, memory_limit=budget), reference)
    # A copy is made (and counted) for F-ordered rows and for types the kernel does not read.
    for copied, size in ((np.asfortranarray(X), r"0\.01 GiB \(6\.1 MiB\)"), (X.astype(np.int64), r"0\.01 GiB \(6\.1 MiB\)")):
        with pytest.raises(MemoryBudgetError, match=rf"a copy of X {size}"):
            cg.cg_score_binary(copied, y, n_threads=1, memory_limit=budget)


@pytest.mark.parametrize(
    "X, dtype, copied",
    [(np.ones((5, 3)), np.float64, False), (np.ones((5, 3), dtype=np.uint8), np.uint8, False),
     (np.ones((5, 3), dtype=np.float32), np.float32, False), (np.ones((5, 3), dtype=np.uint16), np.float32, True),
     (np.ones((5, 3), dtype=np.int8), np.float32, True), (np.ones((5, 3), dtype=np.float16), np.float32, True),
     (np.ones((5, 3), dtype=bool), np.float32, True), (np.ones((5, 3), dtype=np.int64), np.float64, True),
     (np.ones((5, 3), dtype=np.uint32), np.float64, True), (np.asfortranarray(np.ones((5, 3))), np.float64, True),
     (np.asfortranarray(np.ones((5, 3), dtype=np.uint8)), np.uint8, True), (np.ones((5, 2, 3))[:, :, ::2], np.float64, True),
     (np.ones((5, 2, 2)), np.float64, False)],
)
def test_conversion_is_at_most_one_counted_exact_copy(X, dtype, copied):
    arr = feature_array(X)
    out = to_kernel_rows(arr)
    assert out.dtype == dtype and out.flags.c_contiguous and out.shape == (5, X[0].size)
    np.testing.assert_array_equal(out, X.reshape(5, -1))
    assert conversion_bytes(arr) == (np.dtype(dtype).itemsize * X.size if copied else 0)
    assert np.shares_memory(out, X) == (not copied)


@pytest.mark.parametrize("ratio, chunk_size", [(1.0, None), (0.3, None), (2.5, None), (1.0, 70), (0.5, 33), (3.0, 150)])
def test_plan_size_matches_the_plan_it_describes(ratio, chunk_size):
    codes = np.repeat(np.arange(4), [10, 55, 120, 3])
    size = _plan.plan_size(codes, 4, ratio=ratio, repeats=3, chunk_size=chunk_size)
    problems = _plan.plan_problems(codes, 4, ratio=ratio, repeats=3, entropy=1, chunk_size=chunk_size)
    assert size.n_problems == len(problems)
    assert size.largest == max(p.size for p in problems)
    assert size.total_rows == sum(p.size for p in problems)


def test_a_million_repeats_are_refused_without_building_the_plan(monkeypatch, rng):
    def must_not_plan(*args, **kwargs):
        raise AssertionError("the problems were built before the memory check")

    monkeypatch.setattr(cg.api, "plan_problems", must_not_plan)
    X = rng.normal(size=(1000, 8))
    labels = np.arange(1000) % 2
    start = time.perf_counter()
    with pytest.raises(MemoryBudgetError, match="fewer repeats") as info:
        cg.score(X, labels, repeats=10**6, memory_limit="1GiB", seed=0)
    assert time.perf_counter() - start < 1.0
    assert info.value.required_bytes >= plan_bytes(2 * 10**6, 2000 * 10**6, 1000, 10**6)
    assert "the plan and results" in str(info.value)


class _FakeCluster:
    """Just what the memory check asks of a Dask client: its workers' memory limits."""

    def __init__(self, limit):
        self.limit = limit

    def scheduler_info(self):
        return {"workers": {"w1": {"memory_limit": self.limit}, "w2": {"memory_limit": 4 * self.limit}}}


def test_the_rows_sent_to_each_worker_are_counted():
    n, d = 2000, 3000  # the rows sent are 46 MiB; the problem itself fits in the worker's limit
    need = run_peak_bytes(n, d, 500, n_threads=1)
    check_memory(n, d, 500, 1, None, None)  # locally the features already exist
    with pytest.raises(MemoryBudgetError, match="the rows sent to each worker 0.04 GiB") as info:
        check_memory(n, d, 500, 1, None, _FakeCluster(need + 10 * 2**20))
    assert info.value.required_bytes == need + 8 * n * d + 8 * n
    check_memory(n, d, 500, 1, None, _FakeCluster(need + 8 * n * d + 8 * n))


# --- The planner's estimate against the measured peak (issue 11: compact inputs) ---

_PEAK_SCRIPT = """
import sys, numpy as np, cgscore_native as cg
from cgscore_native._memory import plan_bytes, run_peak_bytes
from cgscore_native._plan import plan_size

def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field))

n, d, dtype, kind, entry = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
rng = np.random.default_rng(0)
if kind == "image":  # non-negative pixels: every tile concentrated (the shifted-rows path)
    X = rng.integers(0, 256, size=(n, d), dtype=np.uint8).astype(dtype)
else:  # centred: the direct path
    X = rng.integers(-100, 100, size=(n, d), dtype=np.int8).astype(dtype)
labels = np.arange(n) % 2
cg.score(X[:300], labels[:300], seed=0, n_threads=2)  # loads the BLAS, starts the threads
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak resident set (VmHWM) to the current one
base = status("VmRSS")
if entry == "score":  # two problems, each a copy of its rows in X's type
    cg.score(X, labels, seed=0, n_threads=2)
    size = plan_size(labels, 2, ratio=1.0, repeats=1, chunk_size=None)
    estimate = (run_peak_bytes(n, d, size.largest, 1, 2, row_bytes=X.itemsize)
                + plan_bytes(size.n_problems, size.total_rows, n, 1))
else:  # one problem reading X's rows in place
    cg.cg_score_binary(X, np.where(labels == 1, 1, -1), n_threads=2)
    estimate = run_peak_bytes(n, d, n, 1, 2, row_bytes=0)
print(status("VmHWM") - base, estimate)
"""


def _can_reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        with open("/proc/self/status") as f:
            return any(line.startswith("VmHWM") for line in f)
    except OSError:
        return False


@pytest.mark.skipif(not _can_reset_peak_rss(), reason="needs Linux's /proc/self/clear_refs to measure a peak")
@pytest.mark.parametrize("entry, dtype, kind", [("cg_score_binary", "uint8", "image"), ("cg_score_binary", "float32", "centred"),
                                                ("cg_score_binary", "float64", "image"), ("score", "uint8", "image"),
                                                ("score", "float64", "centred")])
def test_the_planned_peak_matches_the_measured_one(entry, dtype, kind):
    """Peak memory above the inputs (n = 5000, d = 3072, 2 threads) against the planner's estimate,
    for every input type, in fresh processes: at most 5 % above it, and at least 80 % of it
    (measured: 0.84–0.98).

    The estimate counts every buffer as resident at once; glibc may hand freed blocks (the
    duplicate check's) back or reuse them for the kernel's panels, which decides how close the
    peak comes: at n = 2000–3000, where those blocks weigh more beside the n×n buffer, the
    peak is 0.65–0.80 of the estimate."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, "5000", "3072", dtype, kind, entry],
                         capture_output=True, text=True, check=True, timeout=300)
    measured, estimate = map(int, out.stdout.split())
    assert 0.8 * estimate <= measured <= 1.05 * estimate, (
        f"measured {measured / 2**20:.1f} MiB, planned {estimate / 2**20:.1f} MiB")
