"""``cgscore_native.report`` for old imports: the module is now ``cgscore_native.app.report``."""

from .app.report import (
    write_report,
)

__all__ = [
    "write_report",
]
