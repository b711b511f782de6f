"""Row IDs through every output: an image folder's file paths, a table's --id-column, a
DataFrame's index, in the API's results, the CSV/Parquet/NPZ tables and the report; a numeric ID
column is never a feature."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import cgscore_native as cg
from _cli_support import run_cli
from cgscore_native.app.loaders import load
from cgscore_native.app.results import read_diagnosis, read_scores
from cgscore_native.datasets import load_digits
from cgscore_native.errors import ScaleWarning

pd = pytest.importorskip("pandas")
Image = pytest.importorskip("PIL.Image")
pytest.importorskip("pyarrow")

IMAGES, TRUTH = load_digits()
IMAGES, TRUTH = IMAGES[:240], TRUTH[:240]
GIVEN = TRUTH.copy()
MOVED = np.arange(3, 240, 20)  # 12 images put into a wrong class folder
GIVEN[MOVED] = (GIVEN[MOVED] + 3) % 10


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """digit_<k>/img_<row>.png, 10 % of the images in a wrong folder."""
    root = tmp_path_factory.mktemp("ids") / "images"
    for row, (img, label) in enumerate(zip(IMAGES, GIVEN)):
        cls = root / f"digit_{label}"
        cls.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img.astype(np.uint16) * 15).astype(np.uint8)).save(cls / f"img_{row:03d}.png")
    return root


def _expected_paths(folder: Path) -> list[str]:
    return [p.relative_to(folder).as_posix() for c in sorted(folder.iterdir()) for p in sorted(c.iterdir())]


def test_an_image_folder_names_its_rows_by_their_relative_paths(folder):
    data = load(folder)
    assert data.id_name == "path" and list(data.ids) == _expected_paths(folder)


@pytest.mark.parametrize("out", ["d.csv", "d.parquet", "d.npz"])
def test_image_paths_round_trip_through_every_diagnosis_format(folder, tmp_path, out):
    target = tmp_path / "new" / "sub" / out  # missing parent folders are created
    proc = run_cli("diagnose", folder, "-o", target, "--quiet")
    assert proc.returncode == 0, proc.stderr
    frame = read_diagnosis(target)
    assert list(frame.columns)[:2] == ["path", "index"]
    assert list(frame["path"]) == _expected_paths(folder)
    data = load(folder)
    expected = cg.diagnose(data.X, data.labels)
    np.testing.assert_array_equal(frame["suspicion"].to_numpy(), expected.suspicion)
    # the moved files are the ones flagged (the data are easy): their paths are in the table
    moved = {f"digit_{GIVEN[r]}/img_{r:03d}.png" for r in MOVED}
    flagged = set(frame.loc[frame["is_label_issue"].astype(bool), "path"])
    assert len(moved & flagged) >= 0.9 * len(moved)


def test_image_paths_reach_the_score_table_and_the_printed_suspects(folder, tmp_path):
    proc = run_cli("score", folder, "-o", tmp_path / "s.csv", "--quiet", "--seed", "0")
    assert proc.returncode == 0, proc.stderr
    assert list(read_scores(tmp_path / "s.csv")["path"]) == _expected_paths(folder)
    proc = run_cli("diagnose", folder, "-o", tmp_path / "d.csv", "--top", "3")
    assert proc.returncode == 0, proc.stderr
    tail = proc.stdout.strip().splitlines()[-3:]
    frame = read_diagnosis(tmp_path / "d.csv")
    top = frame.sort_values("rank").head(3)
    for line, (_, row) in zip(tail, top.iterrows()):
        assert line.split()[0] == row["path"] and f"{row['given_label']} -> {row['suggested_label']}" in line


def test_sorted_and_flagged_only_tables(folder, tmp_path):
    assert run_cli("diagnose", folder, "-o", tmp_path / "all.csv", "--quiet").returncode == 0
    assert run_cli("diagnose", folder, "-o", tmp_path / "sorted.csv", "--quiet", "--sort", "suspicion").returncode == 0
    assert run_cli("diagnose", folder, "-o", tmp_path / "flagged.csv", "--quiet", "--flagged-only").returncode == 0
    every = pd.read_csv(tmp_path / "all.csv")
    ranked = pd.read_csv(tmp_path / "sorted.csv")
    flagged = pd.read_csv(tmp_path / "flagged.csv")
    assert list(ranked["rank"]) == list(range(1, len(every) + 1))
    assert np.all(np.diff(ranked["suspicion"].to_numpy()) <= 0)
    assert list(flagged["path"]) == list(ranked.loc[ranked["is_label_issue"], "path"])
    # a sorted table reads back in row order (the report aligns it with the data)
    pd.testing.assert_frame_equal(read_diagnosis(tmp_path / "sorted.csv"), read_diagnosis(tmp_path / "all.csv"))


def _table(n: int = 240) -> pd.DataFrame:
    """Flat digits with a string ID, a numeric ID and a text note."""
    flat = IMAGES.reshape(len(IMAGES), -1).astype(np.float64)
    frame = pd.DataFrame(flat, columns=[f"p{j}" for j in range(flat.shape[1])])
    return frame.assign(label=GIVEN, sample=[f"S-{r:04d}" for r in range(n)], record_id=np.arange(1000, 1000 + n),
                        note=["x"] * n)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_id_column_is_written_back_and_never_a_feature(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    table = _table()
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    out = tmp_path / "d.parquet"
    proc = run_cli("diagnose", path, "-o", out, "--quiet", "--id-column", "sample", "--drop", "record_id", "note")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    frame = read_diagnosis(out)
    assert list(frame["sample"]) == list(table["sample"])
    features_only = cg.diagnose(IMAGES.reshape(len(IMAGES), -1).astype(np.float64), GIVEN)
    np.testing.assert_array_equal(frame["suspicion"].to_numpy(), features_only.suspicion)

    # a numeric ID as --id-column: written back, not a feature
    proc = run_cli("diagnose", path, "-o", tmp_path / "n.csv", "--quiet", "--id-column", "record_id",
                   "--drop", "sample", "note")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    frame = read_diagnosis(tmp_path / "n.csv")
    assert list(frame["record_id"]) == list(table["record_id"])
    np.testing.assert_array_equal(frame["suspicion"].to_numpy(), features_only.suspicion)


def test_a_numeric_id_left_among_the_features_is_warned_about(tmp_path):
    path = tmp_path / "t.csv"
    _table().drop(columns=["sample", "note"]).to_csv(path, index=False)
    proc = run_cli("diagnose", path, "-o", tmp_path / "d.csv", "--quiet")
    assert proc.returncode == 0
    assert "'record_id' look like row IDs" in proc.stderr and "--id-column" in proc.stderr


def test_a_text_column_error_names_the_way_out(tmp_path):
    path = tmp_path / "t.csv"
    _table().to_csv(path, index=False)
    proc = run_cli("diagnose", path, "-o", tmp_path / "d.csv", "--quiet")
    assert proc.returncode != 0 and "--id-column" in proc.stderr and "--drop" in proc.stderr
    assert not (tmp_path / "d.csv").exists()


def test_a_dataframe_keeps_its_index_and_takes_a_label_column():
    table = _table().drop(columns=["record_id", "note"]).set_index("sample")
    d = cg.diagnose(table, label_column="label")
    frame = d.to_frame()
    assert frame.index.equals(table.index)
    assert "index" in frame.columns and "label" not in frame.columns
    same = cg.diagnose(table, "label")  # the column's name as the labels
    np.testing.assert_array_equal(same.suspicion, d.suspicion)
    arrays = cg.diagnose(IMAGES.reshape(len(IMAGES), -1).astype(np.float64), GIVEN)
    np.testing.assert_array_equal(d.suspicion, arrays.suspicion)
    issues = d.label_issues()
    assert set(issues.index) <= set(table.index) and len(issues) == int(d.is_label_issue.sum())
    assert list(issues.index) == list(table.index[d.ranking()[: len(issues)]])
    assert table.index[d.ranking()[0]] in repr(d)


def test_a_dataframe_can_drop_columns_and_text_columns_are_named():
    table = _table()
    with pytest.raises(TypeError, match="'sample', 'note'"):
        cg.diagnose(table.drop(columns=["record_id"]), label_column="label")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = cg.diagnose(table, label_column="label", drop=["sample", "record_id", "note"])
    assert d.to_frame().index.equals(table.index)
    with pytest.warns(UserWarning, match="'record_id' look like row IDs"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ScaleWarning)  # the ID's scale is flagged too
        cg.diagnose(table.drop(columns=["sample", "note"]), label_column="label")


def test_score_keeps_a_dataframe_index():
    table = _table().drop(columns=["record_id", "note"]).set_index("sample")
    result = cg.score(table.drop(columns=["label"]), table["label"], seed=0)
    assert result.to_frame().index.equals(table.index)
