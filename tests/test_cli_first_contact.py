"""The command line as a new user meets it: --version, --image-size on flat rows, the
perfect-square hint, column suggestions, and API messages in the command's terms."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

import cgscore_native
from _cli_support import assert_one_line_error, run_cli, small_digits
from cgscore_native.app import cli
from cgscore_native.app.loaders import Dataset, load, with_image_size
from cgscore_native.app.report import image_size_hint, write_report
from cgscore_native.errors import DataFileError

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

IMAGES, LABELS = small_digits(120)
FLAT = IMAGES.reshape(len(IMAGES), -1)


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"cgscore {cgscore_native.__version__}", proc


# -- --image-size -----------------------------------------------------------------------------------


def test_parse_size_forms():
    assert cli.parse_size("28x28") == (28, 28) and cli.parse_size("32x32x3") == (32, 32, 3)
    assert cli.parse_size("3×32×32") == (3, 32, 32)
    for bad in ("28", "0x28", "2x2x2x2", "axb"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"'{bad}': write the image size as HEIGHTxWIDTH"):
            cli.parse_size(bad)


def test_image_size_reshapes_flat_npz_rows_for_every_kind(tmp_path):
    np.savez(tmp_path / "flat.npz", X=FLAT, y=LABELS)
    np.save(tmp_path / "flat.npy", FLAT)
    pd.DataFrame(FLAT, columns=[f"p{j}" for j in range(64)]).assign(label=LABELS).to_csv(tmp_path / "flat.csv", index=False)
    (tmp_path / "y.txt").write_text("\n".join(map(str, LABELS)))
    for source, kw in [("flat.npz", {}), ("flat.npy", {"labels": tmp_path / "y.txt"}), ("flat.csv", {})]:
        data = load(tmp_path / source, image_size=(8, 8), **kw)
        assert data.is_image and data.X.shape == (120, 8, 8), source
        np.testing.assert_array_equal(data.X, IMAGES)  # row-major: the original images come back


def test_image_size_channels_last_first_and_inferred():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, size=(5, 4, 6, 3)).astype(np.uint8)  # height 4, width 6, channels last
    flat = Dataset(X=rgb.reshape(5, -1), labels=np.arange(5), source="t")
    np.testing.assert_array_equal(with_image_size(flat, (4, 6, 3)).X, rgb)
    np.testing.assert_array_equal(with_image_size(flat, (4, 6)).X, rgb)  # 3·h·w values: channels inferred
    planes = Dataset(X=np.moveaxis(rgb, -1, 1).reshape(5, -1), labels=np.arange(5), source="t")  # CIFAR's layout
    np.testing.assert_array_equal(with_image_size(planes, (3, 4, 6)).X, rgb)
    with pytest.raises(DataFileError, match=r"rows have 72 values but an image of 5x5 holds 25"):
        with_image_size(flat, (5, 5))


def test_report_draws_flat_npz_rows_as_images_with_image_size(tmp_path):
    np.savez(tmp_path / "flat.npz", X=FLAT, y=LABELS)
    assert run_cli("score", tmp_path / "flat.npz", "-o", tmp_path / "s.csv", "--seed", 0, "--quiet").returncode == 0
    proc = run_cli("report", tmp_path / "s.csv", "--data", tmp_path / "flat.npz", "--image-size", "8x8", "-o", tmp_path / "r")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "r" / "index.html").read_text()
    assert "<img src='top_k.png'" in page and (tmp_path / "r" / "top_k.png").is_file()
    assert "instance shape (8, 8)" in page and "--image-size" not in page and "note:" not in proc.stdout


def test_report_of_flat_square_rows_suggests_image_size(tmp_path):
    np.savez(tmp_path / "flat.npz", X=FLAT, y=LABELS)
    assert run_cli("score", tmp_path / "flat.npz", "-o", tmp_path / "s.csv", "--seed", 0, "--quiet").returncode == 0
    proc = run_cli("report", tmp_path / "s.csv", "--data", tmp_path / "flat.npz", "-o", tmp_path / "r")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "r" / "index.html").read_text()
    assert "top_k.png" not in page and "--image-size 8x8" in page  # listed as rows, with the hint
    assert "note: each row has 64 = 8·8 values" in proc.stdout and "--image-size 8x8" in proc.stdout


def test_image_size_hint_for_the_usual_shapes():
    def hint(d):
        return image_size_hint(np.zeros((2, d)))
    assert "784 = 28·28" in hint(784) and "--image-size 28x28 " in hint(784)
    assert "--image-size 32x32 " in hint(1024)
    assert "3072 = 32·32·3" in hint(3072) and "32x32x3" in hint(3072) and "3x32x32" in hint(3072)
    assert "image_size=(28, 28)" in hint(784)
    assert hint(785) is None and hint(16) is None  # not a square; too small to be a picture
    assert image_size_hint(np.zeros((2, 28, 28))) is None  # already images


def test_write_report_image_size_argument(tmp_path):
    frame = pd.DataFrame({"index": np.arange(120), "label": LABELS, "cg_score": np.linspace(1, 2, 120)})
    data = Dataset(X=FLAT.astype(np.float64), labels=LABELS, source="flat")
    write_report(frame, tmp_path / "r", data, image_size=(8, 8))
    assert (tmp_path / "r" / "top_k.png").is_file()
    with pytest.raises(ValueError, match="image_size needs the data"):
        write_report(frame, tmp_path / "r2", None, image_size=(8, 8))


def test_wrong_image_size_is_one_line_and_writes_nothing(tmp_path):
    np.savez(tmp_path / "flat.npz", X=FLAT, y=LABELS)
    proc = run_cli("score", tmp_path / "flat.npz", "-o", tmp_path / "s.csv", "--image-size", "9x9")
    assert proc.returncode == 2
    assert_one_line_error(proc, "rows have 64 values", "9x9", "--image-size")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat.npz"]


# -- a wrong --label-column -------------------------------------------------------------------------


def test_wrong_label_column_lists_the_closest_names_and_the_count(tmp_path):
    columns = [f"pixel{j}" for j in range(784)]
    table = pd.DataFrame(np.ones((3, 784)), columns=columns).assign(label=[0, 1, 0])
    table.to_csv(tmp_path / "mnist.csv", index=False)
    proc = run_cli("score", tmp_path / "mnist.csv", "-o", tmp_path / "s.csv", "--label-column", "lable")
    assert proc.returncode == 2
    assert_one_line_error(proc, "no label column 'lable'", "785 columns", "'label'", "--label-column")
    assert "pixel1" not in proc.stderr  # not a listing of the first columns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.csv"]
    proc = run_cli("score", tmp_path / "mnist.csv", "-o", tmp_path / "s.csv", "--label-column", "Label")
    assert_one_line_error(proc, "'label'")


def test_missing_default_label_column_in_a_small_table_lists_every_column(tmp_path):
    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "target": [0, 1]}).to_csv(tmp_path / "t.csv", index=False)
    proc = run_cli("score", tmp_path / "t.csv", "-o", tmp_path / "s.csv")
    assert_one_line_error(proc, "no label column 'label'", "'a', 'b', 'target'", "--label-column")


def test_labels_file_with_many_columns_suggests_too(tmp_path):
    pd.DataFrame({f"c{j}": [0, 1] for j in range(20)} | {"labels": [0, 1]}).to_csv(tmp_path / "y.csv", index=False)
    np.save(tmp_path / "X.npy", np.eye(2))
    proc = run_cli("score", tmp_path / "X.npy", "--labels", tmp_path / "y.csv", "-o", tmp_path / "s.csv")
    assert_one_line_error(proc, "no label column 'label'", "21 columns", "'labels'")


# -- API messages in the command's terms ------------------------------------------------------------


def test_cli_terms_translates_keyword_arguments():
    memory = ("The largest binary problem ... Use chunked mode (chunk_size=120 or less fits), a smaller ratio "
              "(fewer negatives per problem), or a machine or Dask cluster (client=...) with more memory.")
    text = cli.cli_terms(memory)
    assert "--chunk-size 120 or less fits" in text and "(--scheduler ADDRESS)" in text
    assert "chunk_size" not in text and "client=" not in text
    assert cli.cli_terms("chunked mode (chunk_size=...) with a larger budget") == "chunked mode (--chunk-size K) with a larger budget"
    assert cli.cli_terms("n_threads must be a whole number >= 1 or None; got 0.") == "--threads must be a whole number >= 1; got 0."
    assert cli.cli_terms("seed must be a non-negative whole number or None; got -1.") == \
        "--seed must be a non-negative whole number; got -1."
    assert cli.cli_terms("a smaller ratio") == "a smaller ratio"  # plain words stay


def test_chunk_size_too_small_is_reported_with_flags(tmp_path):
    proc = run_cli("score", "digits", "-o", tmp_path / "s.csv", "--chunk-size", 1, "--seed", 0)
    assert proc.returncode == 2
    assert_one_line_error(proc, "--chunk-size 1 is too small", "--ratio 1", "--chunk-size >= 2")
    assert "chunk_size" not in proc.stderr and "None" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_memory_refusal_is_reported_with_flags(tmp_path):
    proc = run_cli("score", "digits", "-o", tmp_path / "s.csv", "--memory-limit", "100KiB", "--seed", 0)
    assert proc.returncode == 2
    assert_one_line_error(proc, "--chunk-size", "--scheduler ADDRESS")
    assert "chunk_size" not in proc.stderr and "client=" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_negative_seed_is_reported_without_none(tmp_path):
    proc = run_cli("score", "digits", "-o", tmp_path / "s.csv", "--seed", "-1")
    assert_one_line_error(proc, "--seed must be a non-negative whole number")
    assert "None" not in proc.stderr


def test_image_size_on_a_folder_is_height_by_width(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for cls, size in (("a", (6, 4)), ("b", (5, 5))):  # Pillow sizes are (width, height)
        (tmp_path / cls).mkdir()
        for i in range(2):
            Image.new("RGB", size, (40 * i, 80, 120)).save(tmp_path / cls / f"{i}.png")
    assert load(tmp_path, image_size=(2, 3)).X.shape == (4, 2, 3, 3)  # 2 rows of 3 pixels, RGB
    assert load(tmp_path, image_size=(2, 3, 1)).X.shape == (4, 2, 3)  # one channel: greyscale


def test_parquet_without_pyarrow_is_refused_before_scoring(monkeypatch, tmp_path, capsys):
    import sys

    from cgscore_native import api

    def no_scoring(*args, **kwargs):
        raise AssertionError("scored before checking that the output can be written")

    monkeypatch.setattr(api, "score", no_scoring)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert cli.main(["score", "digits", "-o", str(tmp_path / "s.parquet"), "--seed", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "needs pyarrow" in err and 'pip install ".[all]"' in err, err
    assert list(tmp_path.iterdir()) == []
