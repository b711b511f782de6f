"""The helpers the application (``app``), the experiments and the adapters share with the core,
under public names: each is the core's one implementation, re-exported here so that no layer
above the core reaches into a private stage.

- inputs: ``as_feature_matrix``, ``as_label_codes``, ``check_finite_nonzero``, ``normalize_rows``,
  ``format_rows`` (row lists in messages), ``warn_id_like`` (ID-like feature columns)
- duplicates: ``conflicting_groups``
- arguments: ``parse_memory_limit`` (the size grammar), ``available_memory_bytes``, ``parse_kernel``
- inputs from disk: ``is_streamed_source``, ``open_source`` (.npy, .npy shards, Parquet list columns)
- files and progress: ``atomic_file``, ``atomic_directory``, ``check_directory``, ``check_writable``,
  ``progress_bar``
- optional dependencies: ``require``, ``available``, ``missing``
"""

from __future__ import annotations

from ._atomic import atomic_directory, atomic_file, check_directory, check_writable
from ._duplicates import conflicting_groups
from ._guards import warn_id_like
from ._kernels import parse_kernel
from ._memory import available_memory_bytes, parse_memory_limit
from ._optional import available, missing, require
from ._prepare import normalize_rows
from ._progress import progress_bar
from ._sources import is_streamed_source, open_source
from ._validate import as_feature_matrix, as_label_codes, check_finite_nonzero, format_rows

__all__ = [
    "as_feature_matrix",
    "as_label_codes",
    "atomic_directory",
    "atomic_file",
    "available",
    "available_memory_bytes",
    "check_directory",
    "check_finite_nonzero",
    "check_writable",
    "conflicting_groups",
    "format_rows",
    "is_streamed_source",
    "missing",
    "normalize_rows",
    "open_source",
    "parse_kernel",
    "parse_memory_limit",
    "progress_bar",
    "require",
    "warn_id_like",
]
