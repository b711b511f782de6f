"""The Dask back end: bit-identical to the local run, resumable, and robust to a lost worker.

One LocalCluster (2 process workers × 1 thread) serves the whole module.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import MemoryBudgetError, _dask
from cgscore_native._kernel import score_problem

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"  # any free port: 8787 may be taken
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture
def data():
    X, y = cg.load_digits()
    keep = np.isin(y, [0, 3, 5, 8])  # four classes keep the module fast
    return X[keep], y[keep]


def assert_identical(a, b):
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.std, b.std)
    np.testing.assert_array_equal(a.scores_by_repeat, b.scores_by_repeat)
    assert a.problems == b.problems and a.seed == b.seed
    if a.subterms is not None:
        for name in a.subterms:
            np.testing.assert_array_equal(a.subterms[name], b.subterms[name])


@pytest.mark.parametrize(
    "args",
    [dict(seed=1), dict(seed=2, ratio=0.6, repeats=2, subterms=True), dict(seed=3, repeats=2, chunk_size=90, n_threads=1)],
)
def test_cluster_result_is_bit_identical_to_local(client, data, args):
    assert_identical(cg.score(*data, client=client, **args), cg.score(*data, **args))


def test_cg_score_takes_a_client(client, data):
    np.testing.assert_array_equal(cg.cg_score(*data, seed=4, client=client), cg.cg_score(*data, seed=4))


def test_checkpoint_started_locally_resumes_on_the_cluster(client, data, tmp_path):
    args = dict(seed=5, repeats=2, chunk_size=100)
    expected = cg.score(*data, **args)
    cg.score(*data, **args, checkpoint=tmp_path)
    for f in list(tmp_path.glob("r1-*.npz")):
        f.unlink()
    assert_identical(cg.score(*data, **args, checkpoint=tmp_path, client=client), expected)
    assert len(list(tmp_path.glob("r1-*.npz"))) > 0  # the cluster's outcomes were stored too


def score_on_worker(options, labels, data, problem):
    """The work of one problem on a worker: the local path's ``score_problem``."""
    return score_problem(data, problem, options, labels)


def kill_worker_once(marker: str, options, labels, data, problem):
    """A task that kills its worker process the first time any task runs it."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return score_problem(data, problem, options, labels)
    os.close(fd)
    os._exit(1)


def run_on_cluster(client, data, problems, work):
    """The outcome of every problem on the cluster, by ``Problem.key``."""
    outcomes = {}
    _dask.run_work_on_cluster(client, data, problems, work,
                              on_result=lambda i, outcome: outcomes.__setitem__(problems[i].key, outcome))
    return outcomes


# The rows are scattered, and scattered data have no recipe: Dask's memory manager keeps as few
# replicas as the waiting tasks need, so the killed worker may hold the last copy, and then every
# waiting task is cancelled. run_work_on_cluster scatters again and resubmits what is unfinished.
def test_a_lost_worker_is_replaced_and_the_result_is_identical(client, data, tmp_path):
    X, y = data
    from cgscore_native._kernel import KernelOptions
    from cgscore_native._plan import plan_problems
    from cgscore_native._prepare import prepare_features

    classes, codes = np.unique(y, return_inverse=True)
    rows, _ = prepare_features(np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float64))
    problems = plan_problems(codes, classes.size, ratio=1.0, repeats=1, entropy=6, chunk_size=120)
    options = KernelOptions(n_threads=1)
    marker = str(tmp_path / "killed")
    task = functools.partial(kill_worker_once, marker, options, classes)
    on_cluster = run_on_cluster(client, rows, problems, task)
    assert os.path.exists(marker)  # a worker really died
    for p in problems:
        local = score_problem(rows, p, options, classes)
        np.testing.assert_array_equal(on_cluster[p.key].scores, local.scores)
    client.wait_for_workers(2, timeout=60)


def test_lost_rows_are_scattered_again_and_the_result_is_identical(client, data, caplog, monkeypatch):
    X, y = data
    from cgscore_native._kernel import KernelOptions
    from cgscore_native._plan import plan_problems
    from cgscore_native._prepare import prepare_features

    classes, codes = np.unique(y, return_inverse=True)
    rows, _ = prepare_features(np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float64))
    problems = plan_problems(codes, classes.size, ratio=1.0, repeats=1, entropy=6, chunk_size=120)
    options = KernelOptions(n_threads=1)
    scatter, scattered = client.scatter, []

    def scatter_then_lose(*args, **kwargs):  # the first copy is gone, as with a dead worker
        future = scatter(*args, **kwargs)
        if not scattered:
            client.cancel(future)
        scattered.append(future)
        return future

    monkeypatch.setattr(client, "scatter", scatter_then_lose)
    with caplog.at_level("WARNING", logger="cgscore_native._dask"):
        on_cluster = run_on_cluster(client, rows, problems, functools.partial(score_on_worker, options, classes))
    monkeypatch.undo()
    assert "scattering them again" in caplog.text and len(scattered) == 2
    assert sorted(on_cluster) == sorted(p.key for p in problems)
    for p in problems:
        np.testing.assert_array_equal(on_cluster[p.key].scores, score_problem(rows, p, options, classes).scores)


def test_memory_is_checked_against_the_workers_limit(client):
    n = 80_000  # one 80k-row problem: 48 GiB, more than a worker of this machine may use
    X = np.random.default_rng(0).normal(size=(n, 2))
    with pytest.raises(MemoryBudgetError, match="a Dask worker's memory limit is"):
        cg.score(X, np.arange(n) % 2, client=client)
    with pytest.raises(MemoryBudgetError, match="the memory limit you set is 0.50 GiB"):
        cg.score(X, np.arange(n) % 2, client=client, memory_limit="512MiB")


def test_a_non_client_is_refused(data):
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client"):
        cg.score(*data, client="tcp://127.0.0.1:8786")


def test_importing_the_package_does_not_import_dask():
    code = "import sys, cgscore_native; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def report_singular(*args):
    return _dask._Singular("The NTK Gram matrix of the problem is singular", 3, 1e-18, (4, 9))


def test_a_singular_problem_on_a_worker_raises_with_its_rows(client, data):
    from cgscore_native import SingularGramError
    from cgscore_native._plan import plan_problems

    X, y = data
    problems = plan_problems(np.unique(y, return_inverse=True)[1], 4, ratio=1.0, repeats=1, entropy=0)
    Xn = X.reshape(len(X), -1) / np.linalg.norm(X.reshape(len(X), -1), axis=1, keepdims=True)
    with pytest.raises(SingularGramError, match="singular") as info:
        run_on_cluster(client, Xn, problems, report_singular)
    assert info.value.rows == (4, 9) and info.value.pivot_index == 3


def test_progress_bar_on_the_cluster(client, data, capsys):
    pytest.importorskip("tqdm")
    result = cg.score(*data, seed=7, client=client, progress=True, chunk_size=150)
    assert "CG-score (dask)" in capsys.readouterr().err
    assert np.array_equal(result.scores, cg.score(*data, seed=7, chunk_size=150).scores)


def assert_same_diagnosis(a, b):
    for name in ("suspicion", "suggested_label", "is_label_issue", "cg_score", "margin_by_round"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.ridge == b.ridge and a.ridge_scores == b.ridge_scores and a.params == b.params
    assert a.estimated_noise_rate == b.estimated_noise_rate
    for x, y in zip(a.set_aside, b.set_aside, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("args", [dict(), dict(seed=7, chunk_size=90, repeats=2, n_threads=1)])
def test_diagnose_on_a_cluster_is_bit_identical_to_local(client, data, args):
    X, y = data
    noisy = y.copy()
    noisy[::9] = np.roll(np.unique(y), 1)[np.searchsorted(np.unique(y), y[::9])]  # flip every ninth label
    assert_same_diagnosis(cg.diagnose(X, noisy, client=client, **args), cg.diagnose(X, noisy, **args))


def test_diagnose_resumes_on_a_cluster_from_a_local_checkpoint(client, data, tmp_path):
    args = dict(seed=8, chunk_size=90, repeats=2)
    expected = cg.diagnose(*data, **args, checkpoint=tmp_path)
    removed = sorted(tmp_path.glob("r1-*.npz"))
    assert removed
    for f in removed:
        f.unlink()
    assert_same_diagnosis(cg.diagnose(*data, **args, checkpoint=tmp_path, client=client), expected)
    assert sorted(tmp_path.glob("r1-*.npz")) == removed  # the cluster's outcomes were stored too
