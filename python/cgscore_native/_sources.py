"""Features from disk: a memory-mapped ``.npy``, a folder of ``.npy`` shards, a Parquet list column.

``diagnose`` and ``score`` call ``open_input`` first: arrays, memmaps and DataFrames pass
through unchanged; a path becomes the array the rest of the run reads, without a float64 copy:

- an ``.npy`` file is memory-mapped read-only (its pages are read as the kernel needs them);
- a folder of ``.npy`` shards (natural name order: ``part2`` before ``part10``) is checked
  from the headers alone (every shard readable, no pickles, one dtype, one trailing shape),
  then read into one array in the stored type, its bytes checked against the budget before it
  is allocated; a single shard is memory-mapped instead;
- a Parquet file's one list (or fixed-size-list, or fixed-shape-tensor) column is read a
  batch at a time into one array in the stored type, likewise checked first.

Stored types: float32, uint8 and float64 are read in place by the kernel; float16 becomes
float32 once (by the kernel's conversion for a single file, counted by the memory planner;
while reading shards or Parquet, so no float16 copy exists besides). Other types are refused
in one line that names the file, the type and what to do. ``allow_pickle=False`` always.
Every refusal is a ``DataFileError`` (a ``ValueError``) naming the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ._memory import format_size, memory_budget, parse_memory_limit
from ._optional import require
from .errors import DataFileError, MemoryBudgetError, one_line

# The types a file may store the features in; float16 is widened to float32 once.
STORED_DTYPES = tuple(np.dtype(t) for t in (np.float32, np.float16, np.uint8, np.float64))
_NPY_MAGIC = b"\x93NUMPY"
_PARQUET_SUFFIXES = (".parquet", ".pq")
# Parquet is read a batch of rows at a time, without pre-buffering (which holds every row group
# read so far: measured, 2.5 GB besides a 1 GB array), in reads of 1 MiB.
_BATCH_ROWS = 8192
_READ_BUFFER = 1 << 20


class OpenedInput(NamedTuple):
    """X as the run reads it, the labels, and the memory budget left for the run (the user's
    ``memory_limit`` less the bytes of an array read from shards or Parquet; None stays None)."""

    X: Any
    labels: Any
    memory_limit: int | str | None


@dataclass(frozen=True)
class ShardSet:
    """A folder of ``.npy`` shards, checked from their headers: in natural name order, each
    one's row count, and the trailing shape and dtype they share."""

    folder: Path
    files: tuple[Path, ...]
    rows: tuple[int, ...]
    trailing: tuple[int, ...]
    dtype: np.dtype

    @property
    def n(self) -> int:
        return sum(self.rows)

    @property
    def read_dtype(self) -> np.dtype:
        """The type of the array they are read into: the stored one, float16 widened to float32."""
        return np.dtype(np.float32) if self.dtype == np.float16 else self.dtype

    @property
    def nbytes(self) -> int:
        return self.n * int(np.prod(self.trailing, dtype=np.int64)) * self.read_dtype.itemsize


def is_path(X: Any) -> bool:
    """A file or folder name (str or os.PathLike), as opposed to an array or a DataFrame."""
    return isinstance(X, (str, os.PathLike))


def open_input(X: Any, labels: Any = None, memory_limit: int | str | None = None) -> OpenedInput:
    """X, labels and the budget as the run takes them: unchanged unless X is a path.

    X as a path: an ``.npy`` file (memory-mapped), a folder of ``.npy`` shards or a Parquet
    file with one list column (see the module's docstring). With a Parquet file, ``labels``
    may name a column of it (like ``diagnose(df, "label")``). An array read from shards or
    Parquet is checked against ``memory_limit`` (and the available memory) before it is
    allocated; the budget returned is what is left of ``memory_limit`` for the rest of the run.
    """
    if not is_path(X):
        return OpenedInput(X, labels, memory_limit)
    path = Path(X)
    if not path.exists():
        raise DataFileError(f"{path}: no such file or folder.")
    if path.is_dir():
        shards = scan_shards(path)
        X = read_shards(shards, memory_limit)
        return OpenedInput(X, labels, _left(memory_limit, 0 if len(shards.files) == 1 else X.nbytes))
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        column = labels if isinstance(labels, str) else None
        X, y = read_parquet_features(path, label_column=column, memory_limit=memory_limit)
        return OpenedInput(X, y if column is not None else labels, _left(memory_limit, X.nbytes))
    if path.suffix.lower() == ".npy":
        return OpenedInput(open_npy(path), labels, memory_limit)
    raise DataFileError(f"{path}: X as a path must be an .npy file, a folder of .npy shards or a Parquet file "
                        f"with one list column; got {path.suffix or 'no extension'!r}.")


def open_features(X: Any, *, memory_limit: int | str | None = None) -> Any:
    """X as the run reads it (``open_input`` without labels): arrays and DataFrames unchanged."""
    return open_input(X, None, memory_limit).X


def _left(memory_limit: int | str | None, used: int) -> int | str | None:
    """The user's budget less ``used`` bytes (already checked to fit); None stays None."""
    limit = parse_memory_limit(memory_limit)
    return memory_limit if limit is None or used == 0 else max(limit - used, 1)


# -- .npy --------------------------------------------------------------------------------------


def open_npy(path: Path) -> np.ndarray:
    """An ``.npy`` file memory-mapped read-only, its dtype checked (``check_stored_dtype``)."""
    _check_npy_magic(path)
    try:
        X = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        text = one_line(exc)
        if "object" in text.lower() or "pickle" in text.lower():
            raise DataFileError(f"{path}: holds Python objects (pickled data), which cgscore never loads; "
                                "save a numeric array with np.save.") from None
        raise DataFileError(f"{path}: corrupt or truncated .npy file ({text}).") from None
    except Exception as exc:  # a truncated header, an empty file ...
        raise DataFileError(f"{path}: corrupt or truncated .npy file ({one_line(exc)}).") from None
    check_stored_dtype(X.dtype, path)
    if X.ndim == 0:
        raise DataFileError(f"{path}: holds a single value, not n instances; save an array of shape (n, ...).")
    return X


def _check_npy_magic(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
    except OSError as exc:  # its strerror alone: the message names the file already
        raise DataFileError(f"{path}: cannot read ({exc.strerror or one_line(exc)}); check its permissions.") from None
    if head[:1] == b"\x80":  # every pickle protocol >= 2 starts with PROTO 0x80
        raise DataFileError(f"{path}: holds pickled data, which cgscore never loads; save plain arrays with np.save.")
    if head != _NPY_MAGIC:
        raise DataFileError(f"{path}: not an .npy file (written by np.save); its first bytes are {head!r}.")


def check_stored_dtype(dtype: np.dtype, path: Path) -> None:
    """Refuse a stored type the run would have to copy into float64 (or cannot read at all)."""
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise DataFileError(f"{path}: holds Python objects (pickled data), which cgscore never loads; "
                            "save a numeric array.")
    if not dtype.isnative and dtype.newbyteorder("=") in STORED_DTYPES:
        raise DataFileError(f"{path}: features stored big-endian ({dtype.str}); save them in this machine's byte "
                            f"order, e.g. X.astype('{dtype.newbyteorder('=').str}').")
    if dtype not in STORED_DTYPES:
        raise DataFileError(f"{path}: features stored as {dtype}; cgscore reads float32, float16, uint8 or float64 "
                            "from disk (without a float64 copy). Save them as float32 (X.astype(np.float32)), "
                            "or as uint8 for pixels.")


# -- a folder of shards ------------------------------------------------------------------------


def natural_key(name: str) -> list[Any]:
    """Sort key putting ``part2`` before ``part10``: digit runs compare as numbers."""
    return [(0, int(t), t) if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", name) if t]


def shard_files(folder: Path) -> list[Path]:
    """The ``.npy`` files directly in ``folder`` (not hidden), in natural name order."""
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise DataFileError(f"{folder}: cannot list the folder ({one_line(exc)}).") from None
    files = [p for p in entries if p.suffix.lower() == ".npy" and not p.name.startswith(".") and not p.is_dir()]
    return sorted(files, key=lambda p: natural_key(p.name))


def is_shard_folder(folder: Path) -> bool:
    """A folder holding ``.npy`` files directly (an image folder holds class subfolders)."""
    return folder.is_dir() and bool(shard_files(folder))


def scan_shards(folder: Path) -> ShardSet:
    """Check every shard from its header: readable, an ``.npy`` without objects, one stored
    type and one trailing shape; raises DataFileError naming the first shard that is not."""
    files = shard_files(folder)
    if not files:
        raise DataFileError(f"{folder}: no .npy shards in the folder; put the features there as .npy files "
                            "(one array of shape (rows, ...) each), or pass one .npy file.")
    rows: list[int] = []
    first: tuple[Path, tuple[int, ...], np.dtype] | None = None
    for f in files:
        shard = open_npy(f)  # memory-mapped: only the header is read
        if first is None:
            first = (f, shard.shape[1:], shard.dtype)
        elif shard.dtype != first[2]:
            raise DataFileError(f"{f}: shard stored as {shard.dtype} but {first[0].name} as {first[2]}; "
                                f"save every shard in one type (e.g. X.astype(np.{first[2]})).")
        elif shard.shape[1:] != first[1]:
            raise DataFileError(f"{f}: shard of shape {shard.shape} but {first[0].name} has rows of shape "
                                f"{first[1]}; every shard needs rows of one shape.")
        rows.append(int(shard.shape[0]))
        del shard
    assert first is not None
    if sum(rows) == 0:
        raise DataFileError(f"{folder}: every shard is empty (0 rows).")
    return ShardSet(folder, tuple(files), tuple(rows), tuple(first[1]), first[2])


def read_shards(shards: ShardSet, memory_limit: int | str | None = None) -> np.ndarray:
    """The shards as one array: a single shard memory-mapped (read-only, no copy); several
    read into one array of ``shards.read_dtype``, refused before it is allocated when its
    bytes do not fit the budget (``memory_limit``, and the available memory)."""
    if len(shards.files) == 1:
        return open_npy(shards.files[0])
    check_fits(shards.folder, shards.nbytes, f"{len(shards.files)} shards of {shards.n} rows in all",
               shards.read_dtype, memory_limit)
    X = np.empty((shards.n, *shards.trailing), dtype=shards.read_dtype)
    start = 0
    for f, count in zip(shards.files, shards.rows):
        X[start:start + count] = open_npy(f)  # page by page from the file: no copy of the shard
        start += count
    return X


def check_fits(path: Path, nbytes: int, what: str, dtype: np.dtype, memory_limit: int | str | None) -> None:
    """Refuse, before allocating it, an array of ``nbytes`` read from ``path`` that exceeds the
    budget (the user's memory_limit, or the available memory)."""
    limit, name = memory_budget(memory_limit)
    if limit is not None and nbytes > limit:
        raise MemoryBudgetError(
            f"{path}: its {what} need {format_size(nbytes)} as one {dtype} array but {name} is "
            f"{format_size(limit)}; write them to one .npy file (memory-mapped, no copy: "
            "np.lib.format.open_memmap) or use a machine with more memory.",
            required_bytes=nbytes, available_bytes=limit)


# -- Parquet -----------------------------------------------------------------------------------


def _list_storage(arrow_type: Any) -> Any:
    """The list type behind an Arrow column type (an extension type's storage), else None."""
    pa = require("pyarrow", "io", "Reading Parquet files")
    storage = getattr(arrow_type, "storage_type", arrow_type)
    if pa.types.is_list(storage) or pa.types.is_large_list(storage) or pa.types.is_fixed_size_list(storage):
        return storage
    return None


def parquet_list_columns(path: Path) -> list[str]:
    """The names of a Parquet file's list columns (read from its schema only)."""
    pq = require("pyarrow.parquet", "io", "Reading Parquet files")
    try:
        schema = pq.read_schema(path)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read the Parquet schema ({one_line(exc)}).") from None
    except Exception as exc:  # ArrowInvalid: not a Parquet file
        raise DataFileError(f"{path}: not a readable Parquet file ({one_line(exc)}).") from None
    return [f.name for f in schema if _list_storage(f.type) is not None]


def read_parquet_features(path: Path, label_column: str | None = None,
                          memory_limit: int | str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The one list column of a Parquet file as an (n, d) array in the stored type (float16 as
    float32), read a batch at a time, refused before allocation when it does not fit; and the
    ``label_column``'s values (None when not asked for). Other columns are ignored."""
    pq = require("pyarrow.parquet", "io", "Reading Parquet files")
    names = parquet_list_columns(path)
    if len(names) != 1:
        columns = [f.name for f in pq.read_schema(path)]
        shown = ", ".join(repr(c) for c in (names or columns)[:8])
        raise DataFileError(f"{path}: {'no' if not names else len(names)} list column(s) ({'its columns' if not names else 'found'}: "
                            f"{shown}); the features must be one column of lists or arrays (one per row): "
                            f"{'store them so' if not names else 'keep one of them'}, or read a table of "
                            "feature columns with pandas.")
    column = names[0]
    try:
        parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=_READ_BUFFER)
    except Exception as exc:
        raise DataFileError(f"{path}: not a readable Parquet file ({one_line(exc)}).") from None
    schema = parquet.schema_arrow
    if label_column is not None and label_column not in schema.names:
        raise DataFileError(f"{path}: no label column {label_column!r} (its columns: "
                            f"{', '.join(repr(c) for c in schema.names[:8])}); pass the right name.")
    storage = _list_storage(schema.field(column).type)
    if _list_storage(storage.value_type) is not None:
        raise DataFileError(f"{path}: column {column!r} holds nested lists; store each row as one flat list.")
    dtype = np.dtype(storage.value_type.to_pandas_dtype())
    if dtype.kind not in "biuf":
        raise DataFileError(f"{path}: column {column!r} holds lists of {storage.value_type}, not numbers; "
                            "store the features as numbers (float32).")
    check_stored_dtype(dtype, path)
    n = parquet.metadata.num_rows
    wanted = [column] + ([label_column] if label_column is not None else [])
    batches = parquet.iter_batches(batch_size=_BATCH_ROWS, columns=wanted)
    X: np.ndarray | None = None
    labels: list[np.ndarray] = []
    start = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        values, d = _batch_rows(batch.column(0), path, column, start)
        if X is None:
            read = np.dtype(np.float32) if dtype == np.float16 else dtype
            check_fits(path, n * d * read.itemsize, f"{n} rows of {d} features", read, memory_limit)
            X = np.empty((n, d), dtype=read)
        if d != X.shape[1]:
            raise DataFileError(f"{path}: column {column!r} has rows of {d} values from row {start} on, "
                                f"but {X.shape[1]} before; every row needs the same length.")
        X[start:start + values.shape[0]] = values
        if label_column is not None:
            labels.append(batch.column(1).to_numpy(zero_copy_only=False))
        start += values.shape[0]
    if X is None or start == 0:
        raise DataFileError(f"{path}: no rows.")
    return X, (np.concatenate(labels) if label_column is not None else None)


def _batch_rows(arr: Any, path: Path, column: str, start: int) -> tuple[np.ndarray, int]:
    """One batch of the list column as a (rows, d) NumPy view of its values, refusing nulls
    and rows of other lengths by row number (counting from 0)."""
    storage = getattr(arr, "storage", arr)  # an extension array (fixed-shape tensor)
    if storage.null_count:
        rows = np.flatnonzero(storage.is_null().to_numpy(zero_copy_only=False))[:5] + start
        raise DataFileError(f"{path}: column {column!r} is empty (null) in rows {', '.join(map(str, rows))}; "
                            "fill them in or drop those rows.")
    flat = storage.flatten()
    if flat.null_count:
        raise DataFileError(f"{path}: column {column!r} holds null values inside its lists; impute them first.")
    count = len(storage)
    if hasattr(storage, "offsets"):
        lengths = np.diff(storage.offsets.to_numpy())
        bad = np.flatnonzero(lengths != lengths[0]) if count else np.empty(0, dtype=np.intp)
        if bad.size:
            raise DataFileError(f"{path}: column {column!r} has rows of {lengths[0]} values and of {lengths[bad[0]]} "
                                f"(row {start + int(bad[0])}); every row needs the same length.")
        d = int(lengths[0]) if count else 0
    else:
        d = int(storage.type.list_size)
    if count and d == 0:
        raise DataFileError(f"{path}: column {column!r} holds empty lists; each row needs at least one value.")
    return flat.to_numpy(zero_copy_only=False).reshape(count, d), d


# -- the command line's files ------------------------------------------------------------------


def is_streamed_source(path: Path) -> bool:
    """A path ``open_source`` reads: an ``.npy`` file, a folder of ``.npy`` shards, or a Parquet
    file with a list column (a Parquet table of scalar columns is not one)."""
    suffix = path.suffix.lower()
    if path.is_dir():
        return is_shard_folder(path)
    if suffix == ".npy":
        return True
    if suffix not in _PARQUET_SUFFIXES or not path.is_file():
        return False
    try:
        return bool(parquet_list_columns(path))
    except DataFileError:  # not readable as Parquet: the table reader says why
        return False


def open_source(path: Path, label_column: str | None = None, labels_elsewhere: bool = False,
                memory_limit: int | str | None = None) -> OpenedInput:
    """The features of an ``is_streamed_source`` path for the command line, with the labels of
    a Parquet file's ``label_column`` (default ``"label"``; None when ``labels_elsewhere``, and
    for ``.npy`` files and shards, whose labels come from a file of their own)."""
    if path.suffix.lower() not in _PARQUET_SUFFIXES or path.is_dir():
        return open_input(path, None, memory_limit)
    name = label_column or "label"
    if not labels_elsewhere and name not in require("pyarrow.parquet", "io", "Reading Parquet files").read_schema(path).names:
        raise DataFileError(f"{path}: no label column {name!r}; pass --label-column NAME, or the labels with --labels FILE.")
    return open_input(path, None if labels_elsewhere else name, memory_limit)
