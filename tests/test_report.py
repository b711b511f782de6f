"""`cgscore report` and `cgscore demo --report`: the page and its plots exist, are valid and link up."""

from __future__ import annotations

import re

import numpy as np
import pytest

from _cli_support import assert_one_line_error, run_cli, small_digits
from cgscore_native import score
from cgscore_native.app.loaders import Dataset
from cgscore_native.app.report import write_report

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


def _linked_images(page):
    html = page.read_text(encoding="utf-8")
    return html, re.findall(r"<img src='([^']+)'", html)


def _check_pngs(folder, names):
    for name in names:
        assert (folder / name).is_file(), name
        with Image.open(folder / name) as im:
            im.verify()  # raises on a truncated or corrupt PNG
        with Image.open(folder / name) as im:
            assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100


def test_report_of_images_via_cli(tmp_path):
    images, labels = small_digits(150)
    np.savez(tmp_path / "d.npz", X=images, y=labels)
    assert run_cli("score", tmp_path / "d.npz", "-o", tmp_path / "s.parquet", "--seed", 0, "--quiet").returncode == 0
    proc = run_cli("report", tmp_path / "s.parquet", "--data", tmp_path / "d.npz", "-o", tmp_path / "rep",
                   "--top-k", 8)
    assert proc.returncode == 0, proc.stderr
    html, linked = _linked_images(tmp_path / "rep" / "index.html")
    assert linked == ["distribution.png", "top_k.png", "bottom_k.png"]
    _check_pngs(tmp_path / "rep", linked)
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == sorted(linked + ["index.html", ".cgscore-output.json"])
    # The suspects table lists the highest score first, with the neighbours' vote.
    top = int(np.argmax(score(images, labels, seed=0).scores))
    first_row = re.search(r"Suspected mislabels.*?<tbody><tr><td>1</td><td>(\d+)</td>", html, re.S)
    assert first_row and int(first_row.group(1)) == top
    assert "neighbours&#x27; label" in html or "neighbours' label" in html


def test_report_of_table_rows_and_duplicates(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 12))
    X[7] = 3 * X[6]  # a duplicate pair with conflicting labels
    labels = np.array(["a", "b", "c"])[np.arange(60) % 3]
    table = pd.DataFrame(X, columns=[f"emb{i}" for i in range(12)])
    table["label"] = labels
    table.to_csv(tmp_path / "t.csv", index=False)
    assert run_cli("score", tmp_path / "t.csv", "-o", tmp_path / "s.csv", "--seed", 0, "--quiet").returncode == 0
    proc = run_cli("report", tmp_path / "s.csv", "--data", tmp_path / "t.csv", "-o", tmp_path / "rep", "--quiet")
    assert proc.returncode == 0 and proc.stdout == ""
    html, linked = _linked_images(tmp_path / "rep" / "index.html")
    assert linked == ["distribution.png"]  # rows are listed as tables, not drawn
    _check_pngs(tmp_path / "rep", linked)
    assert "<th>emb0</th>" in html and "<th>emb7</th>" in html
    assert "1 group(s) of rows equal after normalization, 1 with conflicting labels" in html
    assert "<td>6, 7</td>" in html


def test_report_python_api_without_data(tmp_path):
    images, labels = small_digits(100)
    frame = score(images, labels, seed=0).to_frame()
    page = write_report(frame, tmp_path / "r")
    html, linked = _linked_images(page)
    assert linked == ["distribution.png"] and "Duplicate groups" in html


def test_report_refuses_mismatched_data_and_existing_folder(tmp_path):
    images, labels = small_digits(100)
    frame = score(images, labels, seed=0).to_frame()
    with pytest.raises(ValueError, match="100 rows"):
        write_report(frame, tmp_path / "r", Dataset(X=images[:50], labels=labels[:50], source="x"))
    assert not (tmp_path / "r").exists()
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "keep.txt").write_text("mine")
    frame.to_csv(tmp_path / "s.csv", index=False)
    proc = run_cli("report", tmp_path / "s.csv", "-o", tmp_path / "r")
    assert_one_line_error(proc, "not empty", "--force")
    assert (tmp_path / "r" / "keep.txt").read_text() == "mine"


def test_report_rejects_a_file_that_is_not_scores(tmp_path):
    pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "x.csv", index=False)
    assert_one_line_error(run_cli("report", tmp_path / "x.csv", "-o", tmp_path / "r"), "not a scores file")
    assert not (tmp_path / "r").exists()


def test_demo_prints_and_writes_report(tmp_path):
    proc = run_cli("demo", "--report", tmp_path / "demo", "--top", 3)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("digits: 1797 images, 180 labels flipped (10%)")
    assert float(lines[1].rsplit(":", 1)[1]) > 0.95  # AUROC (measured 0.9983: docs/cli.md, "cgscore demo")
    assert lines[2].startswith("precision at k=180:")
    assert len([line for line in lines if line.endswith("flipped")]) <= 3
    html, linked = _linked_images(tmp_path / "demo" / "index.html")
    _check_pngs(tmp_path / "demo", linked)
    assert "top_k.png" in linked
