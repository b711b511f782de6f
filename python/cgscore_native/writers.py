"""``cgscore_native.writers`` for old imports: the module is now ``cgscore_native.app.writers``."""

from .app.loaders import read_scores  # reading lives with the loaders
from .app.writers import (
    TABLE_FORMATS,
    OutputExistsError,
    atomic_directory,
    atomic_file,
    check_destination,
    check_directory,
    write_table,
)

__all__ = [
    "OutputExistsError",
    "TABLE_FORMATS",
    "atomic_directory",
    "atomic_file",
    "check_destination",
    "check_directory",
    "read_scores",
    "write_table",
]
