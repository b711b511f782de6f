"""Loaders: every input format reads back what was written; every bad file is a one-line DataFileError."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cgscore_native.app.loaders import DataFileError, Dataset, from_torch, load, load_image_folder, load_labels

pd = pytest.importorskip("pandas")
Image = pytest.importorskip("PIL.Image")

RNG = np.random.default_rng(7)
X = RNG.normal(size=(30, 5))
Y = np.repeat([0, 1, 2], 10)


def test_npz(tmp_path):
    np.savez(tmp_path / "d.npz", X=X, y=Y)
    data = load(tmp_path / "d.npz")
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.labels, Y)
    assert not data.is_image


def test_npz_images_are_drawn_as_images(tmp_path):
    np.savez(tmp_path / "d.npz", X=RNG.integers(0, 16, (30, 8, 8)), y=Y)
    assert load(tmp_path / "d.npz").is_image


@pytest.mark.parametrize("kind", ["npy", "txt", "csv"])
def test_npy_with_label_files(tmp_path, kind):
    np.save(tmp_path / "X.npy", X)
    labels = np.array(["cat", "dog", "emu"])[Y]
    if kind == "npy":
        np.save(tmp_path / "y.npy", labels)
    elif kind == "txt":
        (tmp_path / "y.txt").write_text("\n".join(labels) + "\n\n")
    else:
        pd.DataFrame({"id": range(30), "label": labels}).to_csv(tmp_path / "y.csv", index=False)
    data = load(tmp_path / "X.npy", labels=tmp_path / f"y.{kind}")
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.labels.astype(str), labels)


def test_integer_labels_from_text_stay_integers(tmp_path):
    (tmp_path / "y.txt").write_text("\n".join(map(str, Y)))
    assert load_labels(tmp_path / "y.txt").dtype.kind == "i"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_tables(tmp_path, suffix):
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    frame.insert(2, "cls", np.array(["a", "b", "c"])[Y])
    path = tmp_path / f"t{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    data = load(path, label_column="cls")
    np.testing.assert_array_equal(data.X, X)  # CSV floats round-trip exactly
    assert list(data.labels) == list(frame["cls"])
    assert data.feature_names == [f"f{i}" for i in range(5)]


def _write_images(root, sizes=None, mode="L"):
    for i, y in enumerate(Y[:12]):
        folder = root / f"class_{y}"
        folder.mkdir(parents=True, exist_ok=True)
        size = sizes[i % len(sizes)] if sizes else (6, 4)
        pixels = RNG.integers(0, 255, (size[1], size[0]) + ((3,) if mode == "RGB" else ()), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i:02d}.png")
    (root / "class_0" / "notes.md").write_text("not an image")  # ignored


def test_image_folder(tmp_path):
    _write_images(tmp_path)
    data = load(tmp_path)
    assert data.X.shape == (12, 4, 6) and data.X.dtype == np.uint8
    assert data.is_image and len(data.files) == 12
    assert sorted(set(data.labels)) == ["class_0", "class_1"]
    first = np.asarray(Image.open(tmp_path / "class_0" / "img00.png"))
    np.testing.assert_array_equal(data.X[0], first)


def test_image_folder_rgb_and_resize(tmp_path):
    _write_images(tmp_path, sizes=[(6, 4), (5, 5)], mode="RGB")
    with pytest.raises(DataFileError, match="--image-size"):
        load(tmp_path)
    data = load_image_folder(tmp_path, image_size=(3, 2))
    assert data.X.shape == (12, 2, 3, 3)


def test_digits_keyword():
    data = load("digits")
    assert data.X.shape == (1797, 8, 8) and data.is_image


class FakeTensor:
    """Just enough of torch.Tensor for duck typing."""

    def __init__(self, a):
        self.a = np.asarray(a)

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.a


class FakeDataset:
    """A map-style dataset of (C, H, W) tensors and tensor labels, like torchvision's."""

    def __init__(self, n):
        self.x = RNG.random((n, 3, 4, 5)).astype(np.float32)
        self.y = np.arange(n) % 2

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return FakeTensor(self.x[i]), FakeTensor(self.y[i])


def test_from_torch_tensor_and_dataset():
    data = from_torch(FakeTensor(X), FakeTensor(Y))
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.labels, Y)
    images = FakeTensor(RNG.random((4, 3, 5, 6)))
    assert from_torch(images, FakeTensor([0, 1, 0, 1])).X.shape == (4, 5, 6, 3)
    ds = FakeDataset(6)
    data = from_torch(ds)
    assert data.X.shape == (6, 4, 5, 3) and data.is_image  # channels moved last for drawing
    np.testing.assert_array_equal(data.X[2], np.moveaxis(ds.x[2], 0, -1))
    np.testing.assert_array_equal(data.labels, ds.y)


# -- bad files --------------------------------------------------------------------------------------


def _bad_files(tmp_path):
    """(path, labels, label_column, expected message fragment) of every kind of bad input."""
    cases = {}
    cases["missing"] = (tmp_path / "nope.npz", None, None, "no such file")
    (tmp_path / "garbage.npz").write_bytes(b"this is not a zip file at all")
    cases["not zip"] = (tmp_path / "garbage.npz", None, None, "not a valid .npz")
    np.savez(tmp_path / "full.npz", X=X, y=Y)
    (tmp_path / "cut.npz").write_bytes((tmp_path / "full.npz").read_bytes()[:300])
    cases["truncated"] = (tmp_path / "cut.npz", None, None, "corrupt .npz")
    with open(tmp_path / "pickle.npy", "wb") as f:
        pickle.dump({"X": X}, f)
    cases["pickle"] = (tmp_path / "pickle.npy", tmp_path / "pickle.npy", None, "pickled")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    cases["object npy"] = (tmp_path / "obj.npy", tmp_path / "obj.npy", None, "pickled")
    np.savez(tmp_path / "obj.npz", X=np.array([[1.0], [2.0, 3.0]], dtype=object), y=[0, 1])
    cases["object npz"] = (tmp_path / "obj.npz", None, None, "pickled")
    np.savez(tmp_path / "short.npz", X=X, y=Y[:-1])
    cases["wrong shape"] = (tmp_path / "short.npz", None, None, "30 instances but 29 labels")
    np.savez(tmp_path / "y2d.npz", X=X, y=np.ones((30, 2)))
    cases["2-d labels"] = (tmp_path / "y2d.npz", None, None, "one-dimensional")
    Xn = X.copy()
    Xn[[3, 17]] = np.nan
    np.savez(tmp_path / "nan.npz", X=Xn, y=Y)
    cases["NaN"] = (tmp_path / "nan.npz", None, None, "NaN or infinite features in rows 3, 17")
    np.savez(tmp_path / "nolabels.npz", X=X)
    cases["no labels"] = (tmp_path / "nolabels.npz", None, None, "no labels")
    np.save(tmp_path / "X.npy", X)
    cases["npy without labels"] = (tmp_path / "X.npy", None, None, "--labels")
    pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "label": [0, 1]}).to_csv(tmp_path / "text.csv", index=False)
    cases["text feature"] = (tmp_path / "text.csv", None, None, "must be numeric; b")
    cases["no label column"] = (tmp_path / "text.csv", None, "cls", "no label column 'cls'")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 nonsense")
    cases["corrupt parquet"] = (tmp_path / "bad.parquet", None, None, "could not read the table")
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    (tmp_path / "imgs" / "a" / "x.png").write_bytes(b"\x89PNG broken")
    cases["corrupt image"] = (tmp_path / "imgs", None, None, "not a readable image")
    (tmp_path / "X.json").write_text("{}")
    cases["unknown type"] = (tmp_path / "X.json", None, None, "unknown input type")
    return cases


CASES = [
    "missing", "not zip", "truncated", "pickle", "object npy", "object npz", "wrong shape", "2-d labels", "NaN",
    "no labels", "npy without labels", "text feature", "no label column", "corrupt parquet", "corrupt image",
    "unknown type",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_files_raise_one_line_errors(tmp_path, case):
    path, labels, column, fragment = _bad_files(tmp_path)[case]
    with pytest.raises(DataFileError) as info:
        load(path, labels=labels, label_column=column)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_dataset_len():
    assert len(Dataset(X=X, labels=Y, source="x")) == 30


def test_saved_row_index_column_is_warned_about(tmp_path):
    frame = pd.DataFrame(X[:, :2], columns=["a", "b"])
    frame["label"] = Y
    frame.to_csv(tmp_path / "t.csv")  # index=True adds an unnamed first column
    with pytest.warns(UserWarning, match="Unnamed: 0.*row index"):
        data = load(tmp_path / "t.csv")
    assert data.X.shape == (30, 3)


def test_table_of_features_with_a_labels_file(tmp_path):
    pd.DataFrame(X, columns=list("abcde")).to_parquet(tmp_path / "f.parquet")
    np.save(tmp_path / "y.npy", Y)
    data = load(tmp_path / "f.parquet", labels=tmp_path / "y.npy")
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.labels, Y)


def test_labels_named_na_are_labels_but_empty_ones_are_refused(tmp_path):
    pd = pytest.importorskip("pandas")
    (tmp_path / "y.txt").write_text("NA\nnull\nb\nNA\n\n")  # trailing blank lines are no labels
    assert list(load_labels(tmp_path / "y.txt")) == ["NA", "null", "b", "NA"]
    (tmp_path / "y.csv").write_text("label\nNA\nnull\nb\nNA\n")
    assert list(load_labels(tmp_path / "y.csv")) == ["NA", "null", "b", "NA"]
    table = pd.DataFrame({"f0": [1.0, 2.0, 3.0, 4.0], "label": ["NA", "None", "null", "NA"]})
    table.to_csv(tmp_path / "t.csv", index=False)
    data = load(tmp_path / "t.csv", label_column="label")
    assert list(data.labels) == ["NA", "None", "null", "NA"]
    (tmp_path / "gap.txt").write_text("a\n\nb\n \nc\n")
    with pytest.raises(DataFileError, match=r"gap.txt: empty labels in rows 1, 3 "):
        load_labels(tmp_path / "gap.txt")
    (tmp_path / "gap.csv").write_text("label\na\n\nb\n")
    with pytest.raises(DataFileError, match=r"gap.csv: empty labels in rows 1 "):
        load_labels(tmp_path / "gap.csv")
    (tmp_path / "cell.csv").write_text("f0,label\n1,a\n2,\n3,b\n4,a\n")
    with pytest.raises(DataFileError, match=r"label column 'label' is empty in rows 1 "):
        load(tmp_path / "cell.csv")
    # Missing feature values are still found (and refused) as missing.
    (tmp_path / "bad.csv").write_text("f0,label\n1.0,a\nNA,b\n")
    with pytest.raises(DataFileError, match="NaN"):
        load(tmp_path / "bad.csv", label_column="label")


@pytest.mark.parametrize("mode, dtype", [("I;16", np.uint16), ("I", np.int32), ("F", np.float32)])
def test_image_folder_keeps_the_range_of_16_bit_and_float_images(tmp_path, mode, dtype):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    pixels = {
        "I;16": lambda: rng.integers(0, 2**16, size=(6, 5)).astype(np.uint16),
        "I": lambda: rng.integers(-(2**20), 2**20, size=(6, 5)).astype(np.int32),
        "F": lambda: rng.normal(size=(6, 5)).astype(np.float32) * 1000,
    }[mode]
    written = []
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for k in range(3):
            array = pixels()
            image = Image.fromarray(array)
            assert image.mode == mode
            image.save(tmp_path / cls / f"{k}.{'png' if mode == 'I;16' else 'tif'}")
            written.append(array)
    data = load_image_folder(tmp_path)
    assert data.X.dtype == dtype
    np.testing.assert_array_equal(data.X, np.stack(written))
