"""Atomic writers: a failure while writing leaves neither the file nor a temporary behind."""

from __future__ import annotations

import numpy as np
import pytest

from cgscore_native.app.results import read_scores
from cgscore_native.app.writers import OutputExistsError, atomic_directory, write_table

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

FRAME = pd.DataFrame({"index": np.arange(4), "given_label": ["a", "b", "a", "b"], "cg_score": [0.5, 1.5, 2.5, 1e-300]})


@pytest.mark.parametrize("name", ["s.csv", "s.parquet", "s.npz"])
def test_round_trip_is_exact(tmp_path, name):
    write_table(FRAME, tmp_path / name)
    back = read_scores(tmp_path / name)
    assert list(back.columns) == list(FRAME.columns)
    np.testing.assert_array_equal(back["cg_score"].to_numpy(), FRAME["cg_score"].to_numpy())
    assert list(back["given_label"]) == list(FRAME["given_label"])
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("name", ["s.csv", "s.npz"])
def test_a_scores_file_of_an_earlier_version_reads_its_label_as_the_given_label(tmp_path, name):
    write_table(FRAME.rename(columns={"given_label": "label"}), tmp_path / name)
    back = read_scores(tmp_path / name)
    assert list(back.columns) == list(FRAME.columns)
    assert list(back["given_label"]) == list(FRAME["given_label"])


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    def broken(self, path, **kw):
        with open(path, "wb") as f:
            f.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        write_table(FRAME, tmp_path / "s.parquet")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_old_file(tmp_path, monkeypatch):
    write_table(FRAME, tmp_path / "s.csv")
    before = (tmp_path / "s.csv").read_bytes()
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path, **kw: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError):
        write_table(FRAME, tmp_path / "s.csv", force=True)
    assert (tmp_path / "s.csv").read_bytes() == before and len(list(tmp_path.iterdir())) == 1
    with pytest.raises(OutputExistsError):
        write_table(FRAME, tmp_path / "s.csv")


def test_atomic_directory_failure_and_replace(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_directory(tmp_path / "out") as tmp:
            (tmp / "half.html").write_text("<html>")
            raise RuntimeError("plot failed")
    assert list(tmp_path.iterdir()) == []
    with atomic_directory(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("1")
    with atomic_directory(tmp_path / "out", force=True) as tmp:
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".cgscore-output.json", "b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.skipif(__import__("sys").platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002], ids=oct)
def test_outputs_respect_the_umask(tmp_path, umask):
    import os
    import stat

    previous = os.umask(umask)
    try:
        write_table(FRAME, tmp_path / "s.csv")
        with atomic_directory(tmp_path / "out") as tmp:
            (tmp / "index.html").write_text("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "s.csv").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~umask


@pytest.mark.parametrize("name", ["s.csv", "s.parquet", "s.npz"])
def test_labels_named_na_or_empty_round_trip(tmp_path, name):
    frame = pd.DataFrame({"index": np.arange(4), "given_label": ["NA", "", "null", "b"], "cg_score": [0.5, 1.5, 2.5, 3.5]})
    write_table(frame, tmp_path / name)
    assert list(read_scores(tmp_path / name)["given_label"]) == ["NA", "", "null", "b"]


def test_an_unwritable_destination_is_refused_before_the_work(tmp_path):
    from cgscore_native.app.writers import check_destination

    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="is a file, so .* cannot be created"):
        check_destination(tmp_path / "file" / "s.csv", force=False)
