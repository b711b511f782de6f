"""One vocabulary across the commands: `given_label` in score's table as in diagnose's, flagged.csv
without a second label column, -o folders created, image sizes written height × width."""

from __future__ import annotations

import numpy as np
import pytest

from _cli_support import assert_one_line_error, run_cli, small_digits

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    images, labels = small_digits(200)
    labels = labels.copy()
    labels[::10] = (labels[::10] + 3) % 10  # 20 wrong labels, so that rows are flagged
    path = tmp_path_factory.mktemp("vocab") / "d.npz"
    np.savez(path, X=images, y=labels)
    return path, labels


def test_score_and_diagnose_call_the_given_label_the_same(tmp_path, npz):
    path, labels = npz
    assert run_cli("score", path, "-o", tmp_path / "s.csv", "--seed", 0, "--quiet").returncode == 0
    assert run_cli("diagnose", path, "-o", tmp_path / "d.csv", "--quiet").returncode == 0
    scores, diagnosis = pd.read_csv(tmp_path / "s.csv"), pd.read_csv(tmp_path / "d.csv")
    assert "label" not in scores.columns and "label" not in diagnosis.columns
    np.testing.assert_array_equal(scores["given_label"], labels)
    np.testing.assert_array_equal(diagnosis["given_label"], labels)
    # the two CG-scores are different quantities, named apart
    assert "cg_score" in scores.columns and "multiclass_cg_score" in diagnosis.columns
    assert "cg_score" not in diagnosis.columns
    # prune and report read the new word
    assert run_cli("prune", tmp_path / "s.csv", "--keep", 0.5, "-o", tmp_path / "keep.txt", "--quiet").returncode == 0
    assert run_cli("report", tmp_path / "s.csv", "--data", path, "-o", tmp_path / "rep", "--quiet").returncode == 0


def test_flagged_csv_has_the_diagnosis_columns_once(tmp_path, npz):
    path, _ = npz
    assert run_cli("diagnose", path, "-o", tmp_path / "d.csv", "--quiet").returncode == 0
    assert run_cli("report", tmp_path / "d.csv", "--data", path, "-o", tmp_path / "rep", "--quiet").returncode == 0
    diagnosis = pd.read_csv(tmp_path / "d.csv")
    sheet = pd.read_csv(tmp_path / "rep" / "flagged.csv")
    assert list(sheet.columns) == list(diagnosis.columns)  # no trailing duplicate label column
    flagged = diagnosis[diagnosis["is_label_issue"]].sort_values("suspicion", ascending=False, kind="stable")
    np.testing.assert_array_equal(sheet["index"], flagged["index"])


def test_diagnose_creates_the_output_folder(tmp_path, npz):
    path, _ = npz
    out = tmp_path / "new" / "deeper" / "d.csv"
    proc = run_cli("diagnose", path, "-o", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and len(pd.read_csv(out)) == 200


def test_images_of_two_sizes_are_named_height_by_width(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for cls, (height, width) in (("a", (4, 6)), ("b", (4, 4))):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((height, width), 40 * i + 10, dtype=np.uint8)).save(tmp_path / "imgs" / cls / f"{i}.png")
    proc = run_cli("diagnose", tmp_path / "imgs", "-o", tmp_path / "d.csv", "--quiet")
    assert_one_line_error(proc, "2 sizes (height x width: 4x4, 4x6)", "--image-size HxW")
