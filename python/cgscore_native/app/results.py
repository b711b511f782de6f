"""Reading back the result tables the commands write: a scores table (``cgscore score``) or a
diagnosis table (``cgscore diagnose``), as CSV, Parquet or NPZ, checked and in row order.

A file that is not such a table raises :class:`DataFileError` naming the file and what is
missing. NPZ files are opened with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFileError, one_line
from ..utils import require
from .loaders import ZIP_MAGIC, check_magic, read_table

SCORE_COLUMNS = ("index", "given_label", "cg_score")
DIAGNOSIS_COLUMNS = ("index", "given_label", "suggested_label", "suspicion", "is_label_issue", "rank",
                     "multiclass_cg_score")
# Columns renamed since earlier versions wrote them: (old name, new name) of a diagnosis table,
# of a scores table.
# What a diagnosis's predictions were made with, written by `cgscore diagnose` as constant
# columns after DIAGNOSIS_COLUMNS (so that CSV files carry them too).
RUN_COLUMNS = ("mode", "kernel", "ridge")
_RENAMED_DIAGNOSIS_COLUMNS = (("cg_score", "multiclass_cg_score"),)
_RENAMED_SCORE_COLUMNS = (("label", "given_label"),)


def read_scores(path: str | os.PathLike) -> Any:
    """A scores table written by ``cgscore score`` (CSV, Parquet or NPZ) as a pandas DataFrame."""
    path = Path(path)
    return _checked_scores_table(path, _read_result_table(path, "scores", "cgscore score"))


def read_diagnosis(path: str | os.PathLike) -> Any:
    """A diagnosis table written by ``cgscore diagnose`` (CSV, Parquet or NPZ) as a pandas DataFrame."""
    path = Path(path)
    return _checked_diagnosis_table(path, _read_result_table(path, "diagnosis", "cgscore diagnose"))


def read_scores_or_diagnosis(path: str | os.PathLike) -> Any:
    """A scores or a diagnosis table, told apart by its columns (a diagnosis has ``suspicion``);
    the file is read once."""
    path = Path(path)
    frame = _read_result_table(path, "scores", "cgscore score")
    return _checked_diagnosis_table(path, frame) if "suspicion" in frame.columns else _checked_scores_table(path, frame)


def _renamed_diagnosis_columns(frame: Any, renamed: Any = _RENAMED_DIAGNOSIS_COLUMNS) -> Any:
    """A diagnosis (or scores) table of an earlier version in today's column names (a diagnosis's
    cg_score is the multi-class one; a scores table's label is the given label)."""
    renames = {old: new for old, new in renamed if old in frame.columns and new not in frame.columns}
    return frame.rename(columns=renames) if renames else frame


def _checked_scores_table(path: Path, frame: Any) -> Any:
    frame = _renamed_diagnosis_columns(frame, _RENAMED_SCORE_COLUMNS)
    missing = [c for c in SCORE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFileError(f"{path}: not a scores file; missing column(s) {', '.join(missing)}.")
    return _checked_scores(path, frame)


def _checked_diagnosis_table(path: Path, frame: Any) -> Any:
    frame = _renamed_diagnosis_columns(frame)
    missing = [c for c in DIAGNOSIS_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFileError(f"{path}: not a diagnosis file; missing column(s) {', '.join(missing)}.")
    suspicion = frame["suspicion"].to_numpy()
    if suspicion.dtype.kind not in "fiu" or not np.isfinite(suspicion.astype(float)).all():
        raise DataFileError(f"{path}: the suspicion column must hold finite numbers.")
    return _checked_scores(path, frame, "multiclass_cg_score")


def _read_result_table(path: Path, what: str, writer: str) -> Any:
    pd = require("pandas", "io", f"Reading a {what} file")
    if not path.is_file():
        raise DataFileError(f"{path}: no such {what} file.")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        check_magic(path, ZIP_MAGIC, ".npz (a zip archive written by np.savez)")
        try:
            with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
                return pd.DataFrame({k: data[k] for k in data.keys()})
        except Exception as exc:  # pickled members, corrupt zip, ragged columns
            raise DataFileError(f"{path}: not a readable {what} .npz ({one_line(exc)}).") from None
    if suffix in (".csv", ".parquet"):
        return read_table(path, text_columns=["label", "given_label", "suggested_label"])
    raise DataFileError(f"{path}: {what} must be a .csv, .parquet or .npz file written by '{writer}'.")


def _checked_scores(path: Path, frame: Any, score_column: str = "cg_score") -> Any:
    """Finite scores and every row 0..n-1 once; a table written with --sort comes back in row order."""
    scores = frame[score_column].to_numpy()
    if scores.dtype.kind not in "fiu" or not np.isfinite(scores.astype(float)).all():
        raise DataFileError(f"{path}: the {score_column} column must hold finite numbers.")
    index = frame["index"].to_numpy()
    if not np.array_equal(index, np.arange(len(frame))):
        if index.dtype.kind in "iu" and np.array_equal(np.sort(index), np.arange(len(frame))):
            return frame.iloc[np.argsort(index, kind="stable")].reset_index(drop=True)
        raise DataFileError(f"{path}: the index column must hold every row 0..n-1 once, as 'cgscore score' and "
                            "'cgscore diagnose' write it (a --flagged-only file holds only some rows).")
    return frame
