"""`cgscore score`'s pass-through flags and argument parsing, in process with a stand-in score()."""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pytest

import cgscore_native.api as api
from cgscore_native.app import cli

pytest.importorskip("pandas")


def _recording_score(calls, accepts=("chunk_size", "checkpoint", "client", "memory_limit")):
    """A stand-in for api.score that records its keyword arguments and takes only ``accepts`` extras."""
    real = api.score

    def fake(X, labels, *, ratio=1.0, repeats=1, seed=None, n_threads=None, subterms=False, progress=False,
             **extra):
        calls.append(extra)
        return real(X, labels, ratio=ratio, repeats=repeats, seed=seed, n_threads=n_threads)

    import inspect

    params = [inspect.Parameter("X", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("labels", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
               for n in ("ratio", "repeats", "seed", "n_threads", "subterms", "progress", *accepts)]
    fake.__signature__ = inspect.Signature(params)
    return fake


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.normal(size=(40, 6)), y=np.arange(40) % 2)
    return tmp_path / "d.npz"


def test_engine_flags_are_passed_only_when_given(monkeypatch, tmp_path, data):
    calls = []
    monkeypatch.setattr(api, "score", _recording_score(calls))
    assert cli.main(["score", str(data), "-o", str(tmp_path / "a.csv"), "--quiet"]) == 0
    assert calls[-1] == {}
    argv = ["score", str(data), "-o", str(tmp_path / "b.csv"), "--quiet", "--chunk-size", "16",
            "--checkpoint", str(tmp_path / "ck"), "--memory-limit", "2GiB"]
    assert cli.main(argv) == 0
    assert calls[-1] == {"chunk_size": 16, "checkpoint": str(tmp_path / "ck"), "memory_limit": 2 * 2**30}


def test_scheduler_without_dask_is_a_one_line_error(monkeypatch, tmp_path, data, capsys):
    monkeypatch.setattr(api, "score", _recording_score([]))
    monkeypatch.setitem(sys.modules, "dask", None)  # importing dask now fails
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    code = cli.main(["score", str(data), "-o", str(tmp_path / "a.csv"), "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 2 and 'pip install ".[all]"' in err and len(err.strip().splitlines()) == 1


def test_scheduler_creates_a_client_and_closes_it(monkeypatch, tmp_path, data):
    calls, made = [], []

    class FakeClient:
        def __init__(self, address):
            self.address, self.closed = address, False
            made.append(self)

        def close(self):
            self.closed = True

    fake_module = type(sys)("dask.distributed")
    fake_module.Client = FakeClient
    monkeypatch.setitem(sys.modules, "dask", type(sys)("dask"))
    monkeypatch.setitem(sys.modules, "dask.distributed", fake_module)
    monkeypatch.setattr(api, "score", _recording_score(calls))
    assert cli.main(["score", str(data), "-o", str(tmp_path / "a.csv"), "--quiet", "--scheduler", "tcp://h:8786"]) == 0
    assert calls[-1]["client"] is made[0] and made[0].address == "tcp://h:8786" and made[0].closed


@pytest.mark.parametrize("text, value", [("8GiB", 8 * 2**30), ("512MiB", 512 * 2**20), ("2GB", 2 * 10**9),
                                         ("1e9", 10**9), ("1000", 1000), ("1.5 GiB", int(1.5 * 2**30))])
def test_parse_bytes(text, value):
    assert cli.parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "lots", "5XB", "0", "-1GiB"])
def test_parse_bytes_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError):
        cli.parse_bytes(text)


def test_parse_rates_and_size():
    assert cli.parse_rates("0.1,0.2, 0.4") == [0.1, 0.2, 0.4]
    for bad in ("0.1,1.0", "x", "", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.parse_rates(bad)
    assert cli.parse_size("32x16") == (32, 16)
    with pytest.raises(argparse.ArgumentTypeError):
        cli.parse_size("32")


@pytest.mark.parametrize("module, extra, argv", [
    ("matplotlib", "report", ["report", "{scores}", "-o", "{tmp}/rep"]),
    ("pandas", "io", ["score", "{table}", "-o", "{tmp}/s.npz"]),
    ("PIL", "io", ["score", "{tmp}", "-o", "{tmp}/s.npz"]),
])
def test_missing_optional_dependency_names_the_extra(monkeypatch, tmp_path, capsys, module, extra, argv):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"index": [0, 1], "label": [0, 1], "cg_score": [0.1, 0.2], "f": [1.0, 2.0]})
    frame.to_csv(tmp_path / "s.csv", index=False)
    (tmp_path / "cls").mkdir()
    names = {"scores": tmp_path / "s.csv", "table": tmp_path / "s.csv", "tmp": tmp_path}
    argv = [a.format(**names) for a in argv]
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    monkeypatch.setitem(sys.modules, module, None)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and 'pip install ".[all]"' in err, err  # one command for every extra
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cls", "s.csv"]
