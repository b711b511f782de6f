"""Input checks: features to the matrix the kernel reads (float64, float32 or uint8), labels to class codes or to ±1 columns.

``read_input`` is the one input step of every entry point (an ``InputStep``: shape, kernel dtype,
copy bytes, label classes, codes and values); ``SCORE_ARGUMENTS``, ``BINARY_ARGUMENTS`` and
``DIAGNOSE_ARGUMENTS`` declare every argument's rule, applied by ``check_arguments``. Every error
says what is wrong and what to change, and names offending rows.
"""

from __future__ import annotations

import math
import os
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._guards import check_table_scale, warn_regression_target
from ._table_input import SplitInput, input_index, split_input
from .errors import LookalikeLabelsWarning

_MAX_LISTED = 10


def format_rows(rows: Any) -> str:
    """'3, 17, 40' or '3, 17, ... (12 rows)' for error messages."""
    rows = [int(r) for r in rows]
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    return shown if len(rows) <= _MAX_LISTED else f"{shown}, ... ({len(rows)} rows)"


def feature_array(X: Any) -> np.ndarray:
    """Return X as a NumPy array of n instances, checked for shape and type but not converted.

    Nothing of the size of X is allocated (``np.asarray`` only, no ``astype``, no reshape), so
    the memory check can run on ``feature_shape`` and ``conversion_bytes`` before any copy exists."""
    if hasattr(X, "detach") and hasattr(X, "cpu"):  # a torch tensor, without importing torch
        X = X.detach().cpu().numpy()
    elif hasattr(X, "tocsr") and hasattr(X, "nnz"):  # scipy.sparse, without importing scipy
        raise TypeError(f"X is a sparse {type(X).__name__} of shape {X.shape}; the kernel needs dense rows. "
                        "Pass X.toarray() (or reduce the features first, e.g. with TruncatedSVD).")
    elif hasattr(X, "to_numpy"):  # pandas
        X = _pandas_features(X)
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # numpy refuses ragged nested sequences
        raise ValueError(
            f"X could not be read as a rectangular array ({exc}). Give every instance the same shape."
        ) from exc
    if arr.dtype == object:
        raise TypeError(
            "X is an object array (ragged rows or mixed types). Pass a numeric array whose "
            "instances all have the same shape."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers; got dtype {arr.dtype}. Convert it to a numeric array.")
    if arr.ndim == 0:
        raise ValueError("X is a scalar. Pass an array of n instances, shape (n, ...).")
    if arr.shape[0] == 0:
        raise ValueError("X is empty (0 instances). Pass at least two instances of two classes.")
    if arr.size == 0:
        raise ValueError(f"X has instances of size 0 (shape {arr.shape}). Each instance needs at least one feature.")
    return arr


def _pandas_features(X: Any) -> np.ndarray:
    """A DataFrame's (or Series') values as numbers: nullable columns (Float64, Int64, boolean)
    become float64 with NaN for <NA>; a column of text or objects is named and refused."""
    dtypes = dict(X.dtypes.items()) if hasattr(X, "columns") else {getattr(X, "name", None): X.dtype}
    bad = [str(c) for c, dt in dtypes.items() if getattr(dt, "kind", "O") not in "biuf"]
    if bad:
        raise TypeError(f"X's columns {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''} are not numeric; "
                        "drop them (a label or ID column?) or encode them as numbers.")
    if all(isinstance(dt, np.dtype) for dt in dtypes.values()):
        return X.to_numpy()
    return X.to_numpy(dtype=np.float64, na_value=np.nan)  # pandas' nullable types


def feature_shape(arr: np.ndarray) -> tuple[int, int]:
    """(n, d) of a ``feature_array``: n instances of d features once flattened."""
    n = int(arr.shape[0])
    return n, int(arr.size // n)


# The types the kernel reads in place (converting a panel at a time, exactly).
KERNEL_DTYPES = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.uint8))


def kernel_dtype(dtype: np.dtype) -> np.dtype:
    """The type X is given to the kernel in: its own when the kernel reads it (float64, float32,
    uint8); float32 for the other types it holds exactly (small integers, float16); else float64."""
    dtype = np.dtype(dtype)
    if dtype in KERNEL_DTYPES:
        return dtype
    if dtype.kind == "b" or dtype == np.float16 or (dtype.kind in "iu" and dtype.itemsize <= 2):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def conversion_bytes(arr: np.ndarray) -> int:
    """Bytes ``to_kernel_rows`` allocates: 0 when X is already C-contiguous float64, float32 or
    uint8, else one n×d copy in ``kernel_dtype``."""
    if arr.dtype in KERNEL_DTYPES and arr.flags.c_contiguous:
        return 0
    n, d = feature_shape(arr)
    return kernel_dtype(arr.dtype).itemsize * n * d


def to_kernel_rows(arr: np.ndarray) -> np.ndarray:
    """A ``feature_array`` as the C-contiguous (n, d) matrix the kernel reads: a view when it
    already is one, else exactly one copy (``conversion_bytes``), never a float64 copy of
    float32 or uint8 data."""
    return _as_matrix(arr, kernel_dtype(arr.dtype))


def as_feature_matrix(X: Any) -> np.ndarray:
    """Return X as a C-contiguous float64 (n, d) array, one flattened instance per row.

    Shapes and types are checked here; values (NaN, zero rows) by ``check_finite_nonzero``.
    The scoring API instead uses ``feature_array``, then ``to_kernel_rows`` (no float64 copy)."""
    return _as_matrix(feature_array(X), np.dtype(np.float64))


def _as_matrix(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """arr flattened to (n, d), C-contiguous, of dtype: a view when it already is one, else exactly
    one copy (no intermediate copy in arr's own type)."""
    n, d = feature_shape(arr)
    if arr.dtype == dtype and arr.flags.c_contiguous:
        return arr.reshape(n, d)
    out = np.empty((n, d), dtype=dtype)
    out.reshape(arr.shape)[...] = arr
    return out


def check_finite_nonzero(X: np.ndarray) -> None:
    """Reject rows with NaN/±Inf and rows of zeros (they cannot be normalized).

    The scoring API does this check in its native pass over the rows (``_normalize``)."""
    reject_bad_rows(np.flatnonzero(~np.isfinite(X).all(axis=1)), np.flatnonzero(~(X != 0).any(axis=1)))


def reject_bad_rows(bad: np.ndarray, zero: np.ndarray) -> None:
    """Raise ValueError naming rows with NaN/±Inf (``bad``) or of all zeros (``zero``)."""
    if bad.size:
        raise ValueError(
            f"X has NaN or infinite values in rows {format_rows(bad)}. "
            "Remove or impute these rows before scoring."
        )
    if zero.size:
        raise ValueError(
            f"X has all-zero rows {format_rows(zero)}: they cannot be normalized to unit length. "
            "Remove these rows before scoring."
        )


def as_label_codes(labels: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (classes, codes): the sorted distinct labels and each row's class index."""
    return class_codes(label_array(labels, n))


def label_array(labels: Any, n: int) -> np.ndarray:
    """The labels as a 1-D array of n entries (torch, pandas and sequences alike), none missing."""
    if hasattr(labels, "detach") and hasattr(labels, "cpu"):
        labels = labels.detach().cpu().numpy()
    elif hasattr(labels, "to_numpy"):
        if hasattr(labels, "isna"):  # pandas: its own notion of missing (NaN, None, pd.NA, NaT)
            _reject_missing_labels(np.flatnonzero(np.asarray(labels.isna()).reshape(-1)))
        labels = labels.to_numpy()
    if isinstance(labels, (str, bytes)):
        raise TypeError("labels must be a sequence with one label per instance, not a single string.")
    arr = np.asarray(labels) if not isinstance(labels, np.ndarray) else labels
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (one label per instance); got shape {arr.shape}.")
    if arr.shape[0] != n:
        raise ValueError(f"labels has {arr.shape[0]} entries but X has {n} instances. Give one label per instance.")
    _reject_missing_labels(missing_labels(arr))
    return arr


def class_codes(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(classes, codes) of a ``label_array``: at least two classes, not a feature column by mistake."""
    _reject_feature_as_labels(arr)
    try:
        classes, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise TypeError(
            f"labels mix types that cannot be sorted ({exc}). Use labels of one type, e.g. all str or all int."
        ) from exc
    if classes.size < 2:
        raise ValueError(
            f"labels hold {classes.size} distinct value(s); the CG-score compares classes, so at least 2 are needed."
        )
    _warn_lookalike_classes(classes)
    return classes, codes.reshape(-1).astype(np.intp)


def _warn_lookalike_classes(classes: np.ndarray) -> None:
    """Warn when distinct classes print alike: text equal after Unicode normalization or
    stripping spaces ('é' composed and decomposed; 'cat' and 'cat '), or floats equal to 12 significant digits
    (0.1 + 0.2 and 0.3). They stay separate classes, as given."""
    if classes.dtype.kind in "US" or classes.dtype == object:
        key = [unicodedata.normalize("NFC", str(c)).strip() for c in classes]
    elif classes.dtype.kind == "f":
        key = [f"{c:.12g}" for c in classes]
    else:
        return
    groups: dict[str, list[Any]] = {}
    for k, c in zip(key, classes):
        groups.setdefault(k, []).append(c)
    alike = [g for g in groups.values() if len(g) > 1]
    if alike:
        shown = "; ".join(" and ".join(ascii(c.item() if hasattr(c, "item") else c) for c in g) for g in alike[:3])
        warnings.warn(f"labels {shown} are different classes that print alike (Unicode forms, spaces or "
                      "rounding); they are kept apart. Normalize the labels if they mean one class.",
                      LookalikeLabelsWarning, stacklevel=4)


def missing_labels(arr: np.ndarray) -> np.ndarray:
    """Rows whose label is missing: NaN, NaT, None or pandas' NA, whatever the dtype."""
    if arr.dtype.kind in "fc":
        return np.flatnonzero(np.isnan(arr))
    if arr.dtype.kind in "mM":
        return np.flatnonzero(np.isnat(arr))
    if arr.dtype == object:
        return np.flatnonzero([_is_missing(v) for v in arr])
    return np.empty(0, dtype=np.intp)


def _is_missing(value: Any) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(value != value)  # NaN of any float type, NaT of numpy
    except (TypeError, ValueError):
        return False


def _reject_missing_labels(rows: np.ndarray) -> None:
    if rows.size:
        raise ValueError(
            f"labels are missing (None, NaN, NA or NaT) in rows {format_rows(rows)}. "
            "Every instance needs a label: fill these in or drop the rows."
        )


# A float label column whose values are mostly distinct non-integers is a feature picked by mistake.
_FEATURE_LIKE_FRACTION = 0.5


def _reject_feature_as_labels(arr: np.ndarray) -> None:
    if arr.dtype.kind != "f" or arr.size < 4:
        return
    values = np.unique(arr)
    fractional = int(np.count_nonzero(values != np.round(values)))
    if fractional > _FEATURE_LIKE_FRACTION * arr.size:
        raise ValueError(
            f"labels look like a feature, not classes: {fractional} of {arr.size} values are distinct non-integer "
            "floats. Pass the class column; to score these values as classes anyway, convert them to str."
        )


def as_signed_labels(y: Any, n: int) -> np.ndarray:
    """y of a binary problem as float64 ±1, shape (n,) or (n, k); booleans map True → +1."""
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.dtype == bool:
        arr = np.where(arr, 1.0, -1.0)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"y must hold +1/−1 or booleans; got dtype {arr.dtype}.")
    if arr.ndim not in (1, 2) or arr.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, k) to match X; got {arr.shape}.")
    bad = np.flatnonzero(~np.isin(arr, (1, -1)).reshape(n, -1).all(axis=1))
    if bad.size:
        raise ValueError(f"y must hold only +1 and −1 (or booleans); rows {format_rows(bad)} hold other values.")
    return arr.astype(np.float64)


def check_ratio(ratio: Any) -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, np.integer, np.floating)) \
            or not np.isfinite(ratio) or ratio <= 0:
        raise ValueError(f"ratio must be a positive number (negatives per positive); got {ratio}.")
    return float(ratio)


def thread_limit() -> int:
    """The largest thread count a call accepts (the core's ``max_threads()``): a few per core;
    beyond that nothing is gained, and libgomp aborts the process when it cannot create them."""
    return max(64, 4 * (os.cpu_count() or 1))


def default_threads() -> int:
    """The threads the core uses when none are asked for: OpenMP's default (OMP_NUM_THREADS, else
    every core), capped at ``thread_limit()``."""
    from ._core import build_info

    return max(1, min(int(build_info()["default_threads"]), thread_limit()))


def check_threads(n_threads: int | None) -> int:
    """None → 0 (the core's default: OMP_NUM_THREADS or all cores), or ``thread_limit()`` when
    OMP_NUM_THREADS asks for more; a number above the limit is refused before any work."""
    limit = thread_limit()
    if n_threads is None:
        return 0 if default_threads() < limit else limit
    n_threads = check_count(n_threads, "n_threads", minimum=1, none=True)
    if n_threads > limit:
        raise ValueError(f"n_threads={n_threads} is more than the {limit} threads a call may use on this machine "
                         f"({os.cpu_count()} cores); pass at most {limit}, or None for one per core.")
    return n_threads


def check_count(value: Any, name: str, minimum: int, none: bool = False, unit: str = "") -> int:
    """The one rule for whole-number arguments (repeats, rounds, n_threads, chunk_size): an int
    (Python's or NumPy's, not a bool) of at least ``minimum``. ``none``: None is allowed too (the
    caller handles it); ``unit`` says what the number counts, in the message."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}{unit}{' or None' if none else ''}; got {value!r}.")
    return int(value)


def check_chunk_size(chunk_size: Any, minimum: int, unit: str = "") -> int | None:
    """chunk_size: None, or a whole number of rows of at least ``minimum``."""
    return None if chunk_size is None else check_count(chunk_size, "chunk_size", minimum, none=True, unit=unit)


# Past this the predictions (of scale ~1/λ) drown in the rounding of F = Y − A/D.
MAX_RIDGE = 1e6


def check_ridge(ridge: Any, grid: Any) -> list[float]:
    """diagnose's ridge and ridge_grid: the λ it may use, sorted (one for a given number)."""
    if isinstance(ridge, str):
        if ridge != "auto":
            raise ValueError(f"ridge must be 'auto' or a number >= 0; got {ridge!r}.")
        try:
            values = [float(v) for v in grid]
        except (TypeError, ValueError):
            raise TypeError(f"ridge_grid must be a sequence of numbers >= 0, e.g. (0.01, 0.1, 1); got {grid!r}.") from None
        if not values or any(not (math.isfinite(v) and 0 <= v <= MAX_RIDGE) for v in values):
            raise ValueError(f"ridge_grid must hold numbers in [0, {MAX_RIDGE:g}]; got {list(grid)!r}.")
        return sorted(set(values))
    if isinstance(ridge, bool) or not isinstance(ridge, (int, float, np.integer, np.floating)):
        raise TypeError(f"ridge must be 'auto' or a number >= 0; got {ridge!r}.")
    if not (math.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"ridge must be 'auto' or a finite number >= 0; got {ridge!r}.")
    if ridge > MAX_RIDGE:
        raise ValueError(f"ridge={ridge:g} is so large that the predictions (of scale ~1/ridge) drown in rounding; "
                         f"use at most {MAX_RIDGE:g} ('auto' searches 0 to 30).")
    return [float(ridge)]


def check_set_aside(set_aside: Any) -> float | None:
    if isinstance(set_aside, str):
        if set_aside != "auto":
            raise ValueError(f"set_aside must be 'auto' or a share in [0, 1); got {set_aside!r}.")
        return None
    if isinstance(set_aside, bool) or not isinstance(set_aside, (int, float, np.integer, np.floating)) \
            or not 0 <= set_aside < 1:
        raise ValueError(f"set_aside must be 'auto' or a share in [0, 1); got {set_aside!r}.")
    return float(set_aside)


# A chunk's leave-one-out fit needs other rows of a row's class to predict it: with one, a row is
# always predicted as another class, so every row of a class dealt one per chunk is flagged.
MIN_CLASS_ROWS_PER_CHUNK = 2


def check_chunk_classes(codes: np.ndarray, classes: np.ndarray, chunk: int, chosen: bool) -> None:
    """Refuse chunks holding fewer than MIN_CLASS_ROWS_PER_CHUNK rows of some class, whoever chose them."""
    n = codes.size
    m = max(1, math.ceil(n / chunk))
    counts = np.bincount(codes, minlength=classes.size)
    smallest = int(np.argmin(counts))
    per_chunk = int(counts[smallest]) // m
    if per_chunk >= MIN_CLASS_ROWS_PER_CHUNK:
        return
    needed = math.ceil(n / max(1, int(counts[smallest]) // MIN_CLASS_ROWS_PER_CHUNK))
    who = f"the memory budget allows chunks of {chunk} rows" if chosen else f"chunk_size={chunk}"
    label = classes[smallest].item() if hasattr(classes[smallest], "item") else classes[smallest]
    raise ValueError(
        f"{who}: {m} chunks, so class {label!r} ({counts[smallest]} rows) gets "
        f"{per_chunk} row(s) per chunk, too few to predict its rows (at least {MIN_CLASS_ROWS_PER_CHUNK}). Use "
        f"chunk_size >= {needed}{' with a larger memory_limit' if chosen else ''}, or merge or drop that class."
    )


def check_seed(seed: Any) -> int | None:
    """seed: None (fresh entropy) or a non-negative whole number."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number or None; got {seed!r}.")
    return int(seed)


def check_optional_ridge(ridge: Any) -> float | None:
    """score's ridge: None (the duplicate policy decides) or a number >= 0, always used."""
    if ridge is not None and not (isinstance(ridge, (int, float, np.number)) and np.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"ridge must be a number >= 0 (or None for the default); got {ridge!r}.")
    return None if ridge is None else float(ridge)


def _one_of(name: str, *options: str) -> Callable[[Any], str]:
    def rule(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"{name} must be {' or '.join(repr(o) for o in options)}; got {value!r}.")
        return value
    return rule


def _memory_limit(limit: Any) -> Any:
    from ._memory import parse_memory_limit  # the size grammar is the planner's

    parse_memory_limit(limit)
    return limit


def _client(client: Any) -> Any:
    if client is not None:
        from ._dask import check_client

        check_client(client)
    return client


def _kernel(kernel: Any) -> Any:
    from ._kernels import parse_kernel

    return parse_kernel(kernel)  # None: "auto"


# Every argument's rule, declared once, in scikit-learn's parameter-constraint style: each entry
# point's table names the arguments it takes, and ``check_arguments`` applies the rules (in the
# table's order) before any data is read, so an argument has one rule and one message everywhere.
# A rule returns the value as the run uses it.
Rule = Callable[[Any], Any]

SCORE_ARGUMENTS: dict[str, Rule] = {
    "ratio": check_ratio,
    "repeats": lambda v: check_count(v, "repeats", minimum=1),
    "n_threads": check_threads,
    "client": _client,
    "duplicates": _one_of("duplicates", "ridge", "raise"),
    "ridge": check_optional_ridge,
    "chunk_size": lambda v: check_chunk_size(v, 1, unit=" (rows per binary problem)"),
    "memory_limit": _memory_limit,
    "seed": check_seed,
}

BINARY_ARGUMENTS: dict[str, Rule] = {
    name: SCORE_ARGUMENTS[name] for name in ("n_threads", "duplicates", "ridge", "memory_limit")
}

DIAGNOSE_ARGUMENTS: dict[str, Rule] = {
    "n_threads": check_threads,
    "rounds": lambda v: check_count(v, "rounds", minimum=0),
    "ridge": lambda v: check_ridge(*v),  # (ridge, ridge_grid) → the λ it may use
    "kernel": _kernel,
    "set_aside": check_set_aside,
    "ridge_search": _one_of("ridge_search", "climb", "grid"),
    "client": _client,
    "repeats": lambda v: None if v is None else check_count(v, "repeats", minimum=1),
    "chunk_size": lambda v: check_chunk_size(v, 2),
    "memory_limit": _memory_limit,
    "seed": check_seed,
}


def check_arguments(rules: dict[str, Rule], **values: Any) -> dict[str, Any]:
    """The arguments as the run uses them, each checked by its rule, in the order of ``rules``."""
    return {name: rule(values[name]) for name, rule in rules.items()}


# -- the one input step --

@dataclass
class InputStep:
    """X and the labels as every entry point reads them, before anything large exists: the checked
    (not converted) features with what the memory check needs, and the labels converted once.

    ``kernel_rows()`` hands the features to the next stage (``_prepare.prepare_features``) in
    the type the kernel reads, making at most the one copy counted in ``copy_bytes``."""

    features: np.ndarray | None  # a feature_array; None once handed over by kernel_rows()
    n: int
    d: int  # features per instance, once flattened
    kernel_dtype: np.dtype  # the type the kernel reads X in
    copy_bytes: int  # what kernel_rows() allocates (0: X is read in place)
    labels: np.ndarray  # class labels as given, 1-D; or the ±1 targets, (n,) or (n, k) (binary)
    classes: np.ndarray | None = None  # the sorted distinct labels (class labels only)
    codes: np.ndarray | None = None  # each row's index into classes (class labels only)
    index: Any = None  # a DataFrame's or Series' row index, else None
    feature_names: list[str] | None = None  # a DataFrame's feature columns

    @property
    def itemsize(self) -> int:
        """Bytes per entry of X as the kernel reads it."""
        return self.kernel_dtype.itemsize

    @property
    def class_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """(classes, codes) of class labels."""
        if self.classes is None or self.codes is None:
            raise TypeError("this input holds ±1 targets, not class labels.")
        return self.classes, self.codes

    def kernel_rows(self) -> np.ndarray:
        """The features as the C-contiguous (n, d) matrix the kernel reads (``to_kernel_rows``). The
        step lets go of the unconverted array, so that a copy made here is the only one it keeps."""
        if self.features is None:
            raise RuntimeError("the features were already handed to the kernel.")
        rows, self.features = to_kernel_rows(self.features), None
        return rows


def read_input(X: Any, labels: Any, *, binary: bool = False, label_column: str | None = None,
               drop: Sequence[str] | None = None, standardize: bool | None = None) -> InputStep:
    """The input step of ``score``, ``cg_score_binary`` and ``diagnose``, the first thing each calls.

    ``binary``: ``labels`` are ±1 targets (``cg_score_binary``), else class labels.
    ``standardize`` not None (``diagnose``): a DataFrame's columns may hold the labels
    (``label_column``, or ``labels`` naming a column) and ``drop`` leaves columns out; the table
    is standardized when True, and the guards warn of unscaled columns and regression targets.
    """
    # Inputs that are not arrays yet (files, shard folders) become arrays here, before anything else.
    table = standardize is not None
    given = split_input(X, labels, label_column, drop, stacklevel=5) if table else SplitInput(X, labels, input_index(X))
    arr = feature_array(given.X)  # checked, not converted: the memory check comes before any copy
    n, d = feature_shape(arr)
    if binary:
        return _step(arr, as_signed_labels(given.labels, n), given)
    values = label_array(given.labels, n)
    classes, codes = class_codes(values)
    if table:
        arr = check_table_scale(arr, given.feature_names, bool(standardize), stacklevel=5)
        warn_regression_target(values, codes, classes.size, stacklevel=4)
    return _step(arr, values, given, classes, codes)


def _step(arr: np.ndarray, labels: np.ndarray, given: SplitInput, classes: np.ndarray | None = None,
          codes: np.ndarray | None = None) -> InputStep:
    n, d = feature_shape(arr)
    return InputStep(arr, n, d, kernel_dtype(arr.dtype), conversion_bytes(arr), labels, classes, codes,
                     given.index, given.feature_names)
