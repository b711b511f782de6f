"""Writing results: score tables by extension (CSV, Parquet, NPZ), atomically.

A file appears complete or not at all: everything is written to a temporary file in the
destination's folder and then renamed over it (``os.replace``). Existing files are kept
unless ``force=True``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from collections.abc import Iterator

import numpy as np

from ._optional import require

TABLE_FORMATS = (".csv", ".parquet", ".npz")
REQUIRED_COLUMNS = ("index", "label", "cg_score")


class OutputExistsError(FileExistsError):
    """The destination exists and ``force`` was not given."""


def check_destination(path: str | os.PathLike, force: bool, formats: tuple[str, ...] | None = TABLE_FORMATS) -> Path:
    """Refuse an unknown extension or an existing destination before any work is done."""
    path = Path(path)
    if formats is not None and path.suffix.lower() not in formats:
        raise ValueError(f"{path}: output type is chosen by extension; use one of {', '.join(formats)}.")
    if path.exists() and not force:
        raise OutputExistsError(f"{path} exists; pass --force to overwrite it.")
    if not path.absolute().parent.exists():
        raise FileNotFoundError(f"{path.parent}: the output folder does not exist.")
    return path


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else delete it."""
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(f"{path} exists; pass --force to overwrite it.")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_directory(path: str | os.PathLike, force: bool) -> Path:
    """Refuse a destination folder that exists and is not empty (without ``force``); creates nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path} exists and is not a folder.")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputExistsError(f"{path} exists and is not empty; pass --force to replace it.")
    if not path.absolute().parent.exists():
        raise FileNotFoundError(f"{path.parent}: the output folder's parent does not exist.")
    return path


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path``.

    An existing non-empty ``path`` is only replaced with ``force``; on failure nothing changes.
    """
    path = check_directory(path, force)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp"))
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_table(frame, path: str | os.PathLike, force: bool = False) -> Path:
    """Write a pandas DataFrame as CSV, Parquet or NPZ (one array per column), chosen by extension."""
    path = check_destination(path, force)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        require("pyarrow", "io", "Writing Parquet files")
    with atomic_file(path, force) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)  # floats are written with repr: they read back bit-exact
        elif suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            columns = {str(c): _plain_array(frame[c].to_numpy()) for c in frame.columns}
            with open(tmp, "wb") as f:
                np.savez(f, **columns)
    return path


def read_scores(path: str | os.PathLike):
    """A scores table written by ``cgscore score`` (CSV, Parquet or NPZ) as a pandas DataFrame."""
    from .loaders import DataFileError, _check_magic, _one_line, _read_table

    pd = require("pandas", "io", "Reading a scores file")
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such scores file.")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        _check_magic(path, b"PK\x03\x04", ".npz (a zip archive written by np.savez)")
        try:
            with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
                frame = pd.DataFrame({k: data[k] for k in data.keys()})
        except Exception as exc:  # pickled members, corrupt zip, ragged columns
            raise DataFileError(f"{path}: not a readable scores .npz ({_one_line(exc)}).") from None
    elif suffix in (".csv", ".parquet"):
        frame = _read_table(path)
    else:
        raise DataFileError(f"{path}: scores must be a .csv, .parquet or .npz file written by 'cgscore score'.")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFileError(f"{path}: not a scores file; missing column(s) {', '.join(missing)}.")
    scores = frame["cg_score"].to_numpy()
    if scores.dtype.kind not in "fiu" or not np.isfinite(scores.astype(float)).all():
        raise DataFileError(f"{path}: the cg_score column must hold finite numbers.")
    if not np.array_equal(frame["index"].to_numpy(), np.arange(len(frame))):
        raise DataFileError(f"{path}: the index column must run 0..n-1 in order, as 'cgscore score' writes it.")
    return frame


def _plain_array(values: np.ndarray) -> np.ndarray:
    """Object columns (e.g. string labels) become fixed-width strings, which load without pickle."""
    if values.dtype == object:
        return values.astype(str)
    return values
