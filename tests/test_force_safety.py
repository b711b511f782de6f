"""`--force` replaces only an output folder this package wrote; never the user's folders.

Every case runs in a sandbox of dummy files under tmp_path (the working directory is moved
there), never against a real folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cgscore_native._atomic import OUTPUT_MARKER, atomic_directory, check_directory
from cgscore_native.app.cli import main
from cgscore_native.errors import OutputExistsError


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """tmp_path/home/work as home and working directory, each holding a file of the user's."""
    home = tmp_path / "home"
    work = home / "work"
    work.mkdir(parents=True)
    (home / "notes.txt").write_text("the user's notes")
    (work / "thesis.tex").write_text("the user's thesis")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return work


def _user_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _scores_file(folder: Path) -> Path:
    import pandas as pd

    path = folder / "scores.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"index": np.arange(12), "label": np.repeat([0, 1], 6), "cg_score": rng.random(12)}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("target", [".", "..", "{cwd}", "{home}", "{root}"])
def test_force_never_replaces_the_working_or_home_folder_or_above(sandbox, target, capsys, tmp_path_factory):
    root = sandbox.parent.parent
    before = _user_files(root)
    scores = _scores_file(tmp_path_factory.mktemp("inputs"))  # outside: the input rule is tested elsewhere
    target = target.format(cwd=sandbox, home=sandbox.parent, root=root)
    assert main(["report", str(scores), "-o", target, "--force", "--quiet"]) == 2
    assert "never replaced" in capsys.readouterr().err
    assert _user_files(root) == before


def test_force_refuses_a_folder_that_is_not_an_earlier_report(sandbox, capsys):
    project = sandbox / "proj"
    project.mkdir()
    (project / "data.csv").write_text("precious")
    scores = _scores_file(sandbox)
    assert main(["report", str(scores), "-o", "proj", "--force", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "did not write" in err and "data.csv" in err
    assert _user_files(project) == {"data.csv": b"precious"}


def test_force_replaces_an_earlier_report_and_only_that(sandbox, capsys):
    scores = _scores_file(sandbox)
    assert main(["report", str(scores), "-o", "rep", "--quiet"]) == 0
    first = set(_user_files(sandbox / "rep"))
    assert OUTPUT_MARKER in first and "index.html" in first
    assert main(["report", str(scores), "-o", "rep", "--force", "--quiet"]) == 0
    assert set(_user_files(sandbox / "rep")) == first
    (sandbox / "rep" / "my-notes.txt").write_text("added by the user")  # now it holds the user's work
    assert main(["report", str(scores), "-o", "rep", "--force", "--quiet"]) == 2
    assert "my-notes.txt" in capsys.readouterr().err
    assert (sandbox / "rep" / "my-notes.txt").read_text() == "added by the user"


def test_a_report_folder_is_not_a_noise_bench_folder(sandbox):
    with atomic_directory("out", kind="report") as tmp:
        (tmp / "index.html").write_text("x")
    with pytest.raises(OutputExistsError, match="did not write"):
        check_directory("out", True, kind="noise-bench")


@pytest.mark.parametrize("marker", ["not json", '{"written_by": "someone else", "kind": "report", "files": []}', ""])
def test_a_damaged_or_foreign_marker_protects_the_folder(sandbox, marker):
    (sandbox / "out").mkdir()
    (sandbox / "out" / OUTPUT_MARKER).write_text(marker)
    with pytest.raises(OutputExistsError, match="did not write"):
        check_directory("out", True)


def test_a_symlinked_folder_is_refused(sandbox):
    (sandbox / "real").mkdir()
    (sandbox / "real" / "keep.txt").write_text("keep")
    os.symlink(sandbox / "real", sandbox / "link")
    with pytest.raises(OutputExistsError, match="symbolic link"):
        check_directory("link", True)
    assert (sandbox / "real" / "keep.txt").read_text() == "keep"


def test_a_failed_swap_puts_the_old_report_back(sandbox, monkeypatch):
    with atomic_directory("out") as tmp:
        (tmp / "index.html").write_text("old")
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(dst).name == "out":
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        with atomic_directory("out", force=True) as tmp:
            (tmp / "index.html").write_text("new")
    assert (sandbox / "out" / "index.html").read_text() == "old"
    assert sorted(p.name for p in sandbox.iterdir()) == ["out", "thesis.tex"]  # no temporaries left


def test_noise_bench_and_demo_refuse_the_working_folder(sandbox, capsys, tmp_path_factory):
    npz = tmp_path_factory.mktemp("inputs") / "d.npz"
    np.savez(npz, X=np.random.default_rng(0).random((20, 3)), y=np.repeat([0, 1], 10))
    before = {p.name: p.read_bytes() for p in sandbox.iterdir()}
    assert main(["demo", "--report", ".", "--force", "--repeats", "1"]) == 2
    assert "never replaced" in capsys.readouterr().err
    assert main(["noise-bench", str(npz), "-o", ".", "--force", "--quiet"]) == 2
    assert "never replaced" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in sandbox.iterdir()} == before
