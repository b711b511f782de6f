"""``cgscore_native.prune`` for old imports: the module is now ``cgscore_native.app.prune``."""

from .app.prune import (
    KEEP_FORMATS,
    keep_count,
    keep_indices,
    write_keep_list,
)

__all__ = [
    "KEEP_FORMATS",
    "keep_count",
    "keep_indices",
    "write_keep_list",
]
