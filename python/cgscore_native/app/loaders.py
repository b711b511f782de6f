"""Loading data sets from files: NumPy, CSV/Parquet tables, image folders, torch objects
(the result tables the commands write are read back by ``results``).

Every loader returns a :class:`Dataset` whose features are finite numbers and whose labels
hold one entry per instance. A bad file raises :class:`DataFileError`, a ``ValueError`` whose
one-line message names the file and the problem. Pickles are never loaded: NumPy files are
opened with ``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import difflib
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFileError, MemoryBudgetError, MissingDependencyError, one_line
from ..utils import format_rows, is_streamed_source, open_source, progress_bar, require, warn_id_like

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
EMBEDDED = ("digits",)  # names of data sets shipped with the package

_NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Dataset:
    """Features and labels as loaded, with what a report needs to show them.

    ``X`` keeps the instances' shape (images stay ``(n, h, w)`` or ``(n, h, w, c)``);
    ``is_image`` says whether to draw them as pictures.
    """

    X: np.ndarray
    labels: np.ndarray
    source: str
    is_image: bool = False
    files: list[str] | None = None  # one file per instance, for image folders
    feature_names: list[str] | None = None
    ids: np.ndarray | None = None  # one name per instance: relative file paths, an --id-column's values
    id_name: str | None = None  # what the ids are called in the outputs: "path" or the ID column's name
    budget_left: int | str | None = None  # memory_limit less an array read from .npy shards or Parquet

    def __len__(self) -> int:
        return int(self.X.shape[0])


def load(
    source: str | os.PathLike,
    *,
    label_column: str | None = None,
    labels: str | os.PathLike | None = None,
    image_size: tuple[int, ...] | None = None,
    need_labels: bool = True,
    progress: bool = False,
    id_column: str | None = None,
    drop: Sequence[str] | None = None,
    memory_limit: int | str | None = None,
) -> Dataset:
    """Load a data set by what ``source`` is.

    - ``"digits"``: the embedded 8×8 handwritten digits.
    - a folder: images, one subfolder per class (:func:`load_image_folder`).
    - ``.npz``: arrays ``X`` and ``y`` (``labels`` may replace ``y``).
    - ``.npy``: features, memory-mapped; ``labels`` names a ``.npy``, ``.txt`` or ``.csv`` label file.
    - a folder of ``.npy`` shards, or a Parquet file with one list column (labels from its
      ``label_column`` or ``labels``): read as ``diagnose`` reads such paths (``_sources``), the
      array checked against ``memory_limit`` first; ``budget_left`` is what is left of it.
    - ``.csv``, ``.tsv``, ``.parquet``: feature columns plus ``label_column`` (default ``"label"``);
      ``id_column`` names the rows (kept out of the features), ``drop`` leaves columns out.

    An image folder's rows are named by their file paths relative to the folder (``ids``).

    With ``need_labels=False`` a ``.npy`` or ``.npz`` without labels loads with empty labels.
    ``image_size=(height, width[, channels])`` resizes an image folder's images, and turns the
    flat rows of any other input into images of that size (see :func:`with_image_size`).
    """
    text = os.fspath(source)
    if text in EMBEDDED and not os.path.exists(text):
        data = load_embedded(text)
    else:
        path = Path(text)
        if not path.exists():
            raise DataFileError(f"{text}: no such file or folder.")
        _check_regular(path)
        suffix = path.suffix.lower()
        if is_streamed_source(path):  # .npy memory-mapped, .npy shards, a Parquet list column (_sources)
            if labels is None and need_labels and suffix not in (".parquet", ".pq"):
                raise DataFileError(f"{text}: {'a folder of .npy shards holds' if path.is_dir() else 'a .npy file holds'} "
                                    "features only; pass the labels with --labels FILE.")
            opened = open_source(path, label_column, labels is not None or not need_labels, memory_limit)
            data = Dataset(X=opened.X, labels=np.empty(0) if opened.labels is None else np.asarray(opened.labels),
                           source=text, is_image=_looks_like_images(opened.X), budget_left=opened.memory_limit)
        elif path.is_dir():
            height, width, channels = _split_size(image_size) if image_size is not None else (0, 0, None)
            data = load_image_folder(path, image_size=(width, height) if image_size is not None else None,
                                     mode=_MODES.get(channels) if channels else None, progress=progress)
        elif suffix == ".npz":
            data = load_npz(path)
        elif suffix in TABLE_SUFFIXES:
            data = load_table(path, label_column=label_column, labels_elsewhere=labels is not None,
                              id_column=id_column, drop=drop)
        else:
            raise DataFileError(
                f"{text}: unknown input type {suffix or '(no extension)'!r}; use .npz, .npy, .csv, .tsv, "
                ".parquet, an image folder, or 'digits'."
            )
    if (id_column is not None or drop) and data.feature_names is None:
        raise DataFileError(f"{text}: --id-column and --drop need a table (.csv, .tsv, .parquet); "
                            "an image folder names its rows by their file paths.")
    if labels is not None:
        data.labels = load_labels(labels, column=label_column)
    data = _checked(data, need_labels)
    return with_image_size(data, image_size) if image_size is not None and not data.files else data


_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def _split_size(image_size: Sequence[int]) -> tuple[int, int, int | None]:
    """(height, width, channels or None) from (h, w), (h, w, c) or channels-first (c, h, w)."""
    size = tuple(int(v) for v in image_size)
    if len(size) not in (2, 3) or min(size) < 1:
        raise ValueError(f"image size must be (height, width) or (height, width, channels) of whole numbers >= 1; got {size}.")
    if len(size) == 2:
        return size[0], size[1], None
    if _channels_first(size):
        return size[1], size[2], size[0]
    return size[0], size[1], size[2]


def _channels_first(image_size: Sequence[int]) -> bool:
    """Three numbers whose first is a channel count (1, 3, 4) and whose last is not."""
    return len(image_size) == 3 and image_size[0] in (1, 3, 4) and image_size[2] not in (1, 3, 4)


def with_image_size(data: Dataset, image_size: Sequence[int]) -> Dataset:
    """``data`` with every row reshaped to an image of ``image_size``, to be drawn as one.

    ``image_size`` is ``(height, width)``, ``(height, width, channels)`` or, when the first
    number is 1, 3 or 4 and the last is not, channels first ``(channels, height, width)``:
    the layout of CIFAR's flat rows, turned to channels last. ``(height, width)`` also fits
    rows of ``3·height·width`` values (channels last). The features are not copied.
    """
    height, width, channels = _split_size(image_size)
    d = int(np.prod(data.X.shape[1:]))
    if channels is None and d == 3 * height * width:
        channels = 3
    shape: tuple[int, ...] = (height, width) if channels is None else (height, width, channels)
    if int(np.prod(shape)) != d:
        given = "x".join(map(str, image_size))
        raise DataFileError(
            f"{data.source}: rows have {d} values but an image of {given} holds {int(np.prod(shape))}; "
            f"pass an --image-size whose numbers multiply to {d}."
        )
    if channels is not None and _channels_first(image_size):
        X = np.moveaxis(data.X.reshape((len(data), channels, height, width)), 1, -1)
    else:
        X = data.X.reshape((len(data),) + shape)
    return replace(data, X=X, is_image=True)


def _no_column(path: Path, name: str, columns: Sequence[Any], what: str = "label column",
               flag: str = "--label-column") -> DataFileError:
    """No column ``name``: the error lists the closest names (or all of a few) and the count."""
    names = [str(c) for c in columns]
    if len(names) <= 8:
        listed = f"its columns: {', '.join(repr(c) for c in names)}"
    else:
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
        close += [c for c in names if c.lower() == name.lower() and c not in close]
        listed = (f"closest of its {len(names)} columns: {', '.join(repr(c) for c in close)}" if close
                  else f"none of its {len(names)} columns ({names[0]!r} ... {names[-1]!r}) is close")
    return DataFileError(f"{path}: no {what} {name!r} ({listed}); pass {flag} with the right name.")


def load_embedded(name: str) -> Dataset:
    """An embedded data set by name (only ``"digits"`` so far)."""
    from ..datasets import load_digits

    if name != "digits":
        raise DataFileError(f"{name}: no embedded data set of that name; try 'digits'.")
    images, target = load_digits()
    return Dataset(X=images, labels=target, source="digits (embedded)", is_image=True)


def load_npz(path: str | os.PathLike, x_key: str = "X", y_key: str = "y") -> Dataset:
    """Arrays ``X`` (features or images) and ``y`` (labels) from an ``.npz`` file."""
    path = Path(path)
    check_magic(path, ZIP_MAGIC, ".npz (a zip archive written by np.savez)")
    try:
        # Open the file ourselves: np.load leaks its handle when the zip is corrupt.
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            keys = list(data.keys())
            if x_key not in keys:
                raise DataFileError(f"{path}: no array named {x_key!r} (found {', '.join(keys) or 'none'}).")
            X = data[x_key]
            y = data[y_key] if y_key in keys else None
    except DataFileError:
        raise
    except ValueError as exc:
        raise DataFileError(f"{path}: {_pickle_hint(exc)}") from None
    except Exception as exc:  # zipfile.BadZipFile, zlib errors, truncated members ...
        raise DataFileError(f"{path}: corrupt .npz file ({one_line(exc)}).") from None
    if y is None:
        y = np.empty(0)
        # Labels may still come from --labels; _checked() complains if they do not.
    return Dataset(X=X, labels=y, source=str(path), is_image=_looks_like_images(X))


def load_labels(path: str | os.PathLike, column: str | None = None) -> np.ndarray:
    """Labels from a ``.npy`` array, a ``.txt`` file (one per line) or a ``.csv`` column."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such labels file.")
    _check_regular(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        y = _load_npy(path)
    elif suffix == ".txt":
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataFileError(f"{path}: could not read labels ({one_line(exc)}).") from None
        while lines and not lines[-1].strip():  # blank lines at the end are no labels
            lines.pop()
        y = _parse_label_strings([line.strip() for line in lines])
    elif suffix in (".csv", ".tsv"):
        table = read_table(path, text_columns=None, skip_blank_lines=False)  # a blank line is a missing label
        while len(table) and (table.iloc[-1] == "").all():  # ... except at the end
            table = table.iloc[:-1]
        _check_not_truncated(path, len(table.columns), len(table))
        if table.shape[1] == 1:
            y = table.iloc[:, 0].to_numpy()
        else:
            name = column or "label"
            if name not in table.columns:
                raise _no_column(path, name, list(table.columns))
            y = table[name].to_numpy()
    else:
        raise DataFileError(f"{path}: labels must be a .npy, .txt or .csv file; got {suffix or 'no extension'}.")
    if y.ndim != 1:
        raise DataFileError(f"{path}: labels must be one-dimensional; got shape {y.shape}.")
    empty = _empty_labels(y)
    if empty.size:
        raise DataFileError(f"{path}: empty labels in rows {format_rows(empty)} (counting from 0); "
                            "give every instance a label.")
    return y


def _check_regular(path: Path) -> None:
    """Refuse a pipe, socket or device (reading one can block forever): a file or a folder only."""
    if not (path.is_file() or path.is_dir()):
        raise DataFileError(f"{path}: not a regular file or folder (a pipe, socket or device?); "
                            "save the data to a file first.")


def _empty_labels(y: np.ndarray) -> np.ndarray:
    """Rows whose label is missing: NaN/None, or text that is empty or only spaces."""
    if y.dtype.kind == "f":
        return np.flatnonzero(np.isnan(y))
    if y.dtype.kind in "OUS":
        return np.flatnonzero([v is None or (isinstance(v, float) and v != v) or (isinstance(v, (str, bytes))
                                                                                   and not v.strip()) for v in y])
    return np.empty(0, dtype=np.int64)


def _check_not_truncated(path: Path, n_columns: int, n_rows: int) -> None:
    """Refuse a CSV/TSV whose last line has fewer fields than the header (a file cut short)."""
    if path.suffix.lower() not in (".csv", ".tsv") or n_rows == 0:
        return
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 65536))
        tail = f.read().decode("utf-8", errors="replace").rstrip("\r\n ").rsplit("\n", 1)[-1]
    fields = next(csv.reader([tail], delimiter="\t" if path.suffix.lower() == ".tsv" else ","), [])
    if 0 < len(fields) < n_columns:
        raise DataFileError(f"{path}: the last row (row {n_rows - 1}, counting from 0) has {len(fields)} of "
                            f"{n_columns} fields; the file looks cut short. Complete or remove that row.")


def load_table(path: str | os.PathLike, label_column: str | None = None, labels_elsewhere: bool = False,
               id_column: str | None = None, drop: Sequence[str] | None = None) -> Dataset:
    """A CSV, TSV or Parquet table: every column but ``label_column``, ``id_column`` and ``drop``
    is a numeric feature. ``id_column`` (any type) names the rows in the outputs.

    With ``labels_elsewhere`` (labels come from another file) a table without the label
    column is all features. A numeric column that looks like a row ID (``id``, ``*_id``, unique
    increasing integers) and is left among the features is warned about.
    """
    path = Path(path)
    name = label_column or "label"
    text = [name] + ([id_column] if id_column is not None else [])
    table = read_table(path, text_columns=text)
    has_labels = name in table.columns
    if not has_labels and not labels_elsewhere:
        raise _no_column(path, name, list(table.columns))
    for column, what in [(id_column, "ID column")] + [(c, "column to drop") for c in drop or ()]:
        if column is not None and column not in table.columns:
            raise _no_column(path, column, list(table.columns), what=what,
                             flag="--id-column" if what == "ID column" else "--drop")
    left_out = ([name] if has_labels else []) + ([id_column] if id_column is not None else []) + list(drop or ())
    features = table.drop(columns=list(dict.fromkeys(left_out)))
    if features.shape[1] == 0:
        raise DataFileError(f"{path}: no feature columns besides the label column {name!r}"
                            f"{' and the ID and dropped columns' if len(left_out) > 1 else ''}.")
    bad = [str(c) for c, kind in features.dtypes.items() if getattr(kind, "kind", "O") not in "biuf"]
    if bad:
        raise DataFileError(
            f"{path}: feature columns must be numeric; {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''} "
            "are not (wrong --label-column? an ID column: pass --id-column NAME; other text: --drop NAME)."
        )
    for c in features.columns:
        if str(c).startswith("Unnamed: "):  # what pandas calls a saved, unnamed row index
            warnings.warn(f"{path}: column {c!r} looks like a saved row index; it is used as a feature. "
                          "Drop it (or save without index=True) if it is not one.", UserWarning, stacklevel=2)
    _check_not_truncated(path, len(table.columns), len(table))
    rest = [c for c in features.columns if not str(c).startswith("Unnamed: ")]
    warn_id_like(rest, [features[c].to_numpy() for c in rest], f"{path}: ",
                 "pass --id-column NAME to name the rows by it, or --drop NAME.", stacklevel=2)
    ids = None
    if id_column is not None:
        ids = table[id_column].to_numpy()
        if table[id_column].isna().any():
            rows = np.flatnonzero(table[id_column].isna().to_numpy())
            raise DataFileError(f"{path}: the ID column {id_column!r} is empty in rows {format_rows(rows)}.")
    labels = table[name] if has_labels else None
    if labels is not None:
        rows = _empty_labels(labels.to_numpy())
        if rows.size:
            raise DataFileError(f"{path}: the label column {name!r} is empty in rows {format_rows(rows)} "
                                "(counting data rows from 0); fill in those labels or remove the rows.")
    return Dataset(
        X=features.to_numpy(dtype=np.float64),
        labels=labels.to_numpy() if labels is not None else np.empty(0),
        source=str(path),
        feature_names=[str(c) for c in features.columns],
        ids=ids,
        id_name=None if id_column is None else str(id_column),
    )


def load_image_folder(
    folder: str | os.PathLike,
    image_size: tuple[int, int] | None = None,
    mode: str | None = None,
    progress: bool = False,
) -> Dataset:
    """Images in ``folder/<class>/<file>``; the subfolder's name is the label.

    All images must share one size unless ``image_size=(width, height)`` resizes them.
    ``mode`` is a Pillow mode ("L" or "RGB"); by default "L" when every image is greyscale,
    else "RGB". Pixels are kept as uint8, except that greyscale folders holding 16-bit, 32-bit
    or float images (Pillow modes I;16, I, F) keep their range: uint16, int32 or float32.
    ``progress`` shows a bar on stderr (needs tqdm).
    """
    Image = require("PIL.Image", "io", "Reading an image folder")
    folder = Path(folder)
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: list[Path] = []
    labels: list[str] = []
    for cls in classes:
        for f in sorted(cls.iterdir()):
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."):
                files.append(f)
                labels.append(cls.name)
    if not files:
        raise DataFileError(
            f"{folder}: no images found; expected one subfolder per class holding {', '.join(IMAGE_SUFFIXES)} files."
        )
    headers = [_image_header(Image, f) for f in files]  # size and mode, without decoding the pixels
    dtype: Any = np.uint8
    modes = [m for _, m in headers]
    if mode is None:
        mode = "L" if all(m in _GREY_MODES for m in modes) else "RGB"
        if mode == "L" and any(m in _DEEP_MODES for m in modes):
            # 16-bit, 32-bit and float greyscale keep their range (converting to "L" saturates it):
            # float32 when any is float, else int32 (uint16 when all are 16-bit).
            mode = "F" if any(m == "F" for m in modes) else "I"
            if mode == "I" and all(m.startswith("I;16") for m in modes):
                dtype = np.uint16
            else:
                dtype = np.float32 if mode == "F" else np.int32
    sizes = {size for size, _ in headers}
    if image_size is None and len(sizes) > 1:
        # PIL's sizes are (width, height); the message writes height × width, as --image-size does
        shown = ", ".join(f"{h}x{w}" for w, h in sorted(sizes, key=lambda s: (s[1], s[0]))[:4])
        raise DataFileError(
            f"{folder}: images come in {len(sizes)} sizes (height x width: {shown}); "
            "pass --image-size HxW to resize them to one."
        )
    width, height = image_size or next(iter(sizes))
    shape = (len(files), height, width) + ((len(mode),) if mode in ("RGB", "RGBA") else ())
    _check_images_fit(folder, shape, np.dtype(dtype), headers)
    X = np.empty(shape, dtype=dtype)
    bar = progress_bar(len(files), progress, "reading images", unit="image")
    try:
        for i, f in enumerate(files):  # one decoded image at a time, straight into X
            try:
                with Image.open(f) as im:
                    im = im.convert(mode)
                    if im.size != (width, height):
                        im = im.resize((width, height), Image.Resampling.BILINEAR)
                    X[i] = np.asarray(im).astype(dtype, copy=False)
            except Exception as exc:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError ...
                raise DataFileError(f"{f}: not a readable image ({one_line(exc)}).") from None
            bar.update(1)
    finally:
        bar.close()
    return Dataset(
        X=X,
        labels=np.asarray(labels),
        source=str(folder),
        is_image=True,
        files=[str(f) for f in files],
        ids=np.asarray([f.relative_to(folder).as_posix() for f in files]),
        id_name="path",
    )


def _image_header(Image: Any, path: Path) -> tuple[tuple[int, int], str]:
    """(width, height) and Pillow mode of an image, read from its header (no pixels decoded)."""
    try:
        with Image.open(path) as im:
            return im.size, im.mode
    except Exception as exc:  # UnidentifiedImageError, DecompressionBombError, OSError ...
        raise DataFileError(f"{path}: not a readable image ({one_line(exc)}).") from None


def _check_images_fit(folder: Path, shape: tuple[int, ...], dtype: np.dtype,
                      headers: Sequence[tuple[tuple[int, int], str]]) -> None:
    """Refuse, before decoding, an image folder whose array (plus the largest image decoded, as
    Pillow holds it: up to 4 bytes per channel) would not fit in available memory."""
    from ..utils import available_memory_bytes

    need = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    largest = max(w * h * 4 * max(len(m), 1) for (w, h), m in headers)
    available = available_memory_bytes()
    if available is not None and need + 2 * largest > available:
        raise MemoryBudgetError(
            f"{folder}: {shape[0]} images of {shape[1]}x{shape[2]} pixels need {(need + 2 * largest) / 2**30:.2f} GiB "
            f"but available memory is {available / 2**30:.2f} GiB; pass a smaller --image-size HxW (e.g. 64x64).",
            required_bytes=need + 2 * largest, available_bytes=available)


_GREY_MODES = ("L", "1", "I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_DEEP_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def from_torch(data: Any, labels: Any = None) -> Dataset:
    """A Dataset from torch objects, without importing torch (duck-typed).

    ``data`` is a tensor of instances (then ``labels`` is a tensor or array), or a map-style
    dataset whose items are ``(x, label)`` pairs, such as ``torchvision.datasets.MNIST``.
    """
    if _is_tensor(data):
        if labels is None:
            raise DataFileError("from_torch: a tensor of instances needs labels=...")
        X = _channels_last(_to_numpy(data))
        return _checked(Dataset(X=X, labels=_to_numpy(labels).reshape(-1), source="torch tensor",
                                is_image=_looks_like_images(X)))
    if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
        raise TypeError("from_torch expects a tensor or a map-style dataset (with __len__ and __getitem__).")
    xs, ys = [], []
    for i in range(len(data)):
        item = data[i]
        if not (isinstance(item, (tuple, list)) and len(item) >= 2):
            raise DataFileError(f"from_torch: item {i} is not an (x, label) pair.")
        xs.append(_to_numpy(item[0]))
        y = _to_numpy(item[1])
        if y.size != 1:
            raise DataFileError(f"from_torch: the label of item {i} is not a single value (shape {y.shape}).")
        ys.append(y.reshape(-1)[0].item())
    shapes = {x.shape for x in xs}
    if len(shapes) != 1:
        raise DataFileError(f"from_torch: instances have {len(shapes)} different shapes; make them one size.")
    X = _channels_last(np.stack(xs))
    if labels is not None:
        ys = list(_to_numpy(labels).reshape(-1))
    return _checked(Dataset(X=X, labels=np.asarray(ys), source=type(data).__name__, is_image=_looks_like_images(X)))


# -- helpers -----------------------------------------------------------------------------------


def _checked(data: Dataset, need_labels: bool = True) -> Dataset:
    """Shapes agree, features are finite numbers, labels are present and one-dimensional."""
    X, y, src = data.X, np.asarray(data.labels), data.source
    if X.dtype == object or X.dtype.kind not in "biuf":
        raise DataFileError(f"{src}: features must be numeric; got dtype {X.dtype}.")
    if X.ndim == 0 or X.shape[0] == 0:
        raise DataFileError(f"{src}: no instances (features have shape {X.shape}).")
    if y.size == 0 and not need_labels:
        return _checked_features(data)
    if y.size == 0:
        raise DataFileError(f"{src}: no labels; store them as array 'y' or pass --labels FILE.")
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise DataFileError(f"{src}: labels must be one-dimensional; got shape {y.shape}.")
    if y.shape[0] != X.shape[0]:
        raise DataFileError(f"{src}: {X.shape[0]} instances but {y.shape[0]} labels; give one label per instance.")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise DataFileError(f"{src}: NaN labels in rows {format_rows(np.flatnonzero(np.isnan(y)))}.")
    data.labels = y
    return _checked_features(data)


def _checked_features(data: Dataset) -> Dataset:
    X = data.X
    if X.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(X.reshape(X.shape[0], -1)).all(axis=1))
        if bad.size:
            raise DataFileError(
                f"{data.source}: NaN or infinite features in rows {format_rows(bad)}; remove or impute them."
            )
    return data


def _load_npy(path: Path) -> np.ndarray:
    check_magic(path, _NPY_MAGIC, ".npy (written by np.save)")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataFileError(f"{path}: {_pickle_hint(exc)}") from None
    except Exception as exc:  # truncated data, bad header ...
        raise DataFileError(f"{path}: corrupt .npy file ({one_line(exc)}).") from None


def check_magic(path: Path, magic: bytes, what: str) -> None:
    """Refuse a file whose first bytes are not ``magic``, saying whether it is a pickle."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(magic))
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({one_line(exc)}).") from None
    if head[:1] == b"\x80":  # every pickle protocol >= 2 starts with PROTO 0x80
        raise DataFileError(f"{path}: holds pickled data, which cgscore never loads; save plain arrays with NumPy.")
    if head != magic:
        raise DataFileError(f"{path}: not a valid {what} file.")


def _pickle_hint(exc: Exception) -> str:
    text = one_line(exc)
    if "pickle" in text.lower() or "object arrays" in text.lower():
        return "holds object arrays (pickled data), which cgscore never loads; save numeric or string arrays."
    return f"could not be read ({text})."


# pandas' default missing-value strings (read_csv's documented list), applied to numeric columns only.
_NA_STRINGS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
               "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def read_table(path: Path, text_columns: Sequence[str] | None = (), skip_blank_lines: bool = True):
    """A pandas DataFrame from CSV/TSV/Parquet, with one-line errors.

    In a CSV, the ``text_columns`` (labels; None: every column) are read as written: a label
    named "NA" or an empty one stays a label; the other columns get pandas' missing values.
    """
    pd = require("pandas", "io", f"Reading {path.suffix} files")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            require("pyarrow", "io", "Reading Parquet files")
            return pd.read_parquet(path)
        sep = "\t" if suffix == ".tsv" else ","
        header = pd.read_csv(path, sep=sep, nrows=0).columns
        keep = set(header if text_columns is None else text_columns)
        na = {c: _NA_STRINGS for c in header if c not in keep}
        return pd.read_csv(path, sep=sep, keep_default_na=False, na_values=na, skip_blank_lines=skip_blank_lines)
    except MissingDependencyError:
        raise
    except Exception as exc:  # pandas/pyarrow parser errors, bad encodings, truncated files
        raise DataFileError(f"{path}: could not read the table ({one_line(exc)}).") from None


def _parse_label_strings(values: Sequence[str]) -> np.ndarray:
    """Integers when every label is an integer, else strings."""
    try:
        return np.asarray([int(v) for v in values], dtype=np.int64)
    except ValueError:
        return np.asarray(values, dtype=str)


def _looks_like_images(X: np.ndarray) -> bool:
    """(n, h, w) or (n, h, w, c) with c in 1, 3, 4: draw instances as pictures."""
    return X.ndim == 3 and min(X.shape[1:]) >= 2 or (X.ndim == 4 and X.shape[-1] in (1, 3, 4))


def _channels_last(X: np.ndarray) -> np.ndarray:
    """torch's (n, C, H, W) images to (n, H, W, C), for drawing; scores do not depend on the order."""
    if X.ndim == 4 and X.shape[1] in (1, 3) and X.shape[-1] not in (1, 3, 4):
        return np.moveaxis(X, 1, -1)
    return X


def _is_tensor(obj: Any) -> bool:
    return hasattr(obj, "detach") and hasattr(obj, "cpu") and hasattr(obj, "numpy")


def _to_numpy(obj: Any) -> np.ndarray:
    if _is_tensor(obj):
        return obj.detach().cpu().numpy()
    return np.asarray(obj)
