"""The diagnosis's staged bar on a Dask cluster: every fit done on a worker advances it, to the same total as here."""

from __future__ import annotations

import pytest

import cgscore_native as cg
from test_result_ergonomics import record_bars

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.mark.parametrize("args", [dict(), dict(chunk_size=120, repeats=2, seed=3)])
def test_fits_on_the_cluster_advance_the_bar(client, noisy_digits, monkeypatch, args):
    X, noisy, _ = noisy_digits
    X, noisy = X[:300], noisy[:300]
    bars = record_bars(monkeypatch)
    cg.diagnose(X, noisy, **args)
    cg.diagnose(X, noisy, client=client, **args)
    here, there = bars
    assert there.n == there.total == here.total > 0
    assert there.descriptions == here.descriptions


def test_the_bar_on_stderr_with_a_client(client, noisy_digits, capsys):
    pytest.importorskip("tqdm")
    X, noisy, _ = noisy_digits
    capsys.readouterr()
    cg.diagnose(X[:300], noisy[:300], client=client, progress=True)
    err = capsys.readouterr().err
    assert "diagnose: λ search" in err and "diagnose: cleaning round" in err
    done, total = map(int, __import__("re").findall(r"(\d+)/(\d+) \[", err)[-1])
    assert 0 < done <= total
