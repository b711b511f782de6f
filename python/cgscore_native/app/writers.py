"""Writing results: score tables by extension (CSV, Parquet, NPZ), and folders, atomically.

A file appears complete or not at all: everything is written to a temporary file in the
destination's folder and then renamed over it (``_atomic.atomic_file``). Existing files are
kept unless ``force=True``. Scores tables are read back by ``loaders.read_scores``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_directory, atomic_file, check_directory
from .._optional import require
from ..errors import OutputExistsError

TABLE_FORMATS = (".csv", ".parquet", ".npz")

__all__ = [
    "TABLE_FORMATS", "OutputExistsError", "atomic_directory", "atomic_file", "check_destination", "check_directory",
    "write_table",
]


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


def write_table(frame: Any, path: str | os.PathLike, force: bool = False) -> Path:
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
            columns: dict[str, Any] = {str(c): _plain_array(frame[c].to_numpy()) for c in frame.columns}
            with open(tmp, "wb") as f:
                np.savez(f, **columns)
    return path


def _plain_array(values: np.ndarray) -> np.ndarray:
    """Object columns (e.g. string labels) become fixed-width strings, which load without pickle."""
    if values.dtype == object:
        return values.astype(str)
    return values
