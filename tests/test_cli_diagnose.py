"""`cgscore diagnose` end to end in a subprocess, and `cgscore report` of its file: the API's
diagnosis bit-exact in every output format, one-line errors that write nothing, the relabels page."""

from __future__ import annotations

import numpy as np
import pytest

from _cli_support import assert_one_line_error, run_cli, small_digits
from cgscore_native import diagnose
from cgscore_native.app.results import read_diagnosis, read_scores_or_diagnosis

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

IMAGES, LABELS = small_digits(200)
NOISY = LABELS.copy()
NOISY[::10] = (NOISY[::10] + 1) % 10  # 20 flips: rows 0, 10, 20, ...
COLUMNS = ["index", "given_label", "suggested_label", "suspicion", "is_label_issue", "rank", "multiclass_cg_score",
           "mode", "kernel", "ridge"]


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "d.npz"
    np.savez(path, X=IMAGES, y=NOISY)
    return path


@pytest.mark.parametrize("out, extra, kwargs", [
    ("d.csv", (), {}),
    ("d.parquet", ("--ridge", "0.1", "--rounds", "2", "--set-aside", "0.15"), dict(ridge=0.1, rounds=2, set_aside=0.15)),
    ("d.npz", ("--chunk-size", "100", "--repeats", "2", "--seed", "4"), dict(chunk_size=100, repeats=2, seed=4)),
])
def test_each_output_format_holds_the_api_diagnosis(tmp_path, npz, out, extra, kwargs):
    proc = run_cli("diagnose", npz, "-o", tmp_path / out, "--quiet", *extra)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stderr
    frame = read_diagnosis(tmp_path / out)
    expected = diagnose(IMAGES, NOISY, **kwargs)
    assert list(frame.columns) == COLUMNS
    np.testing.assert_array_equal(frame["suspicion"].to_numpy(), expected.suspicion)  # bit-exact
    np.testing.assert_array_equal(frame["multiclass_cg_score"].to_numpy(), expected.cg_score)
    np.testing.assert_array_equal(frame["suggested_label"].to_numpy(), expected.suggested_label)
    np.testing.assert_array_equal(frame["given_label"].to_numpy(), NOISY)
    np.testing.assert_array_equal(frame["is_label_issue"].to_numpy(), expected.suspicion > 0)
    assert frame["rank"].to_numpy()[np.argmax(expected.suspicion)] == 1


def test_the_summary_names_what_was_found(tmp_path, npz):
    proc = run_cli("diagnose", npz, "-o", tmp_path / "d.csv")
    assert proc.returncode == 0, proc.stderr
    d = diagnose(IMAGES, NOISY)
    assert "diagnosed 200 instances of 10 classes" in proc.stdout
    assert f"{int(d.is_label_issue.sum())} flagged as label issues" in proc.stdout
    assert f"ridge {d.ridge:g}" in proc.stdout


@pytest.mark.parametrize("extra, fragments", [
    (("--ridge", "-1"), ("--ridge", "'auto' or a number >= 0")),
    (("--set-aside", "1"), ("--set-aside", "share in [0, 1)")),
    (("--rounds", "x"), ("--rounds", "whole number")),
    (("--chunk-size", "5"), ("cgscore: error:", "row(s) per chunk, too few", "--chunk-size >= ")),
    (("--memory-limit", "1KiB", "--chunk-size", "100"), ("cgscore: error:", "GiB")),
])
def test_bad_arguments_fail_in_one_line_and_write_nothing(tmp_path, npz, extra, fragments):
    proc = run_cli("diagnose", npz, "-o", tmp_path / "d.csv", *extra)
    assert_one_line_error(proc, *fragments)
    assert proc.returncode == 2
    assert not (tmp_path / "d.csv").exists()


def test_outputs_are_refused_before_any_work(tmp_path, npz):
    assert_one_line_error(run_cli("diagnose", npz, "-o", tmp_path / "d.xlsx"), ".csv, .parquet, .npz")
    (tmp_path / "d.csv").write_text("keep me")
    assert_one_line_error(run_cli("diagnose", npz, "-o", tmp_path / "d.csv"), "exists", "--force")
    assert (tmp_path / "d.csv").read_text() == "keep me"
    assert_one_line_error(run_cli("diagnose", tmp_path / "missing.npz", "-o", tmp_path / "e.csv"), "cgscore: error:")


def test_a_checkpoint_resumes_through_the_cli(tmp_path, npz):
    args = ("diagnose", npz, "--chunk-size", "100", "--seed", "2", "--checkpoint", tmp_path / "ck", "--quiet")
    assert run_cli(*args, "-o", tmp_path / "a.csv").returncode == 0
    for f in sorted((tmp_path / "ck").glob("r1-*.npz")):
        f.unlink()
    assert run_cli(*args, "-o", tmp_path / "b.csv").returncode == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_the_report_of_a_diagnosis_shows_the_suggested_relabels(tmp_path, npz):
    pytest.importorskip("matplotlib")
    assert run_cli("diagnose", npz, "-o", tmp_path / "d.csv", "--quiet").returncode == 0
    proc = run_cli("report", tmp_path / "d.csv", "--data", npz, "-o", tmp_path / "rep", "--quiet")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "Relabel worksheet" in page and "flag threshold" in page
    assert (tmp_path / "rep" / "flagged.csv").exists() and (tmp_path / "rep" / "suspicion.png").exists()
    d = diagnose(IMAGES, NOISY)
    worst = int(np.argmax(d.suspicion))
    # the table row of the most suspicious instance: rank 1, its row, given and suggested label
    assert (f"<td>1</td><td>{worst}</td><td>{NOISY[worst]}</td><td>→</td><td><b>{d.suggested_label[worst]}</b></td>"
            in page)
    assert page.count("<b>") >= int(d.is_label_issue.sum())


def test_report_tells_the_two_kinds_of_file_apart(tmp_path, npz):
    assert run_cli("diagnose", npz, "-o", tmp_path / "d.npz", "--quiet").returncode == 0
    assert run_cli("score", npz, "-o", tmp_path / "s.npz", "--quiet", "--seed", "1").returncode == 0
    assert "suspicion" in read_scores_or_diagnosis(tmp_path / "d.npz").columns
    assert "given_label" in read_scores_or_diagnosis(tmp_path / "s.npz").columns
    pd.DataFrame({"index": [0], "given_label": [1], "suspicion": [0.5]}).to_csv(tmp_path / "bad.csv", index=False)
    proc = run_cli("report", tmp_path / "bad.csv", "-o", tmp_path / "rep")
    assert_one_line_error(proc, "not a diagnosis file", "suggested_label")
    assert not (tmp_path / "rep").exists()
