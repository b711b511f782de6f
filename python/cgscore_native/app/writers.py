"""Writing results: score tables by extension (CSV, Parquet, NPZ), and folders, atomically.

A file appears complete or not at all: everything is written to a temporary file in the
destination's folder and then renamed over it (``_atomic.atomic_file``). Existing files are
kept unless ``force=True``. Scores tables are read back by ``results.read_scores``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputExistsError
from ..utils import atomic_directory, atomic_file, check_directory, check_writable, require

TABLE_FORMATS = (".csv", ".parquet", ".npz")

__all__ = [
    "TABLE_FORMATS", "OutputExistsError", "atomic_directory", "atomic_file", "check_destination", "check_directory",
    "check_not_input", "write_table",
]


def check_destination(path: str | os.PathLike, force: bool, formats: tuple[str, ...] | None = TABLE_FORMATS) -> Path:
    """Refuse an unknown extension or an existing destination before any work is done."""
    path = Path(path)
    if formats is not None and path.suffix.lower() not in formats:
        raise ValueError(f"{path}: output type is chosen by extension; use one of {', '.join(formats)}.")
    if path.exists() and not force:
        raise OutputExistsError(f"{path} exists; pass --force to overwrite it.")
    # A missing output folder is created when the result is written (as `cgscore report` does);
    # now the nearest folder that exists must be writable.
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"{parent} is a file, so {path} cannot be created in it; choose another output path.")
    check_writable(parent)
    return path


def check_not_input(output: str | os.PathLike, *inputs: str | os.PathLike | None) -> None:
    """Refuse an output that is one of the inputs, or a folder that holds one (it would be replaced)."""
    out = Path(output).resolve()
    for given in inputs:
        if given is None or not Path(given).exists():
            continue
        source = Path(given).resolve()
        if source == out or out in source.parents:
            raise ValueError(f"{output} is (or holds) the input {given}; writing it would destroy the input. "
                             "Choose another output path.")


def write_table(frame: Any, path: str | os.PathLike, force: bool = False) -> Path:
    """Write a pandas DataFrame as CSV, Parquet or NPZ (one array per column), chosen by extension."""
    path = check_destination(path, force)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        require("pyarrow", "io", "Writing Parquet files")
    path.absolute().parent.mkdir(parents=True, exist_ok=True)
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
