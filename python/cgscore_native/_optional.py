"""Optional dependencies: import them on demand, with a one-line hint of the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

#: The one install command every missing-dependency message names: run in the source folder,
#: it installs the package with every optional part (Parquet, Dask, the baselines).
INSTALL_ALL = 'pip install ".[all]"'


def missing(what: str, purpose: str) -> MissingDependencyError:
    """The error for a missing optional package ``what``, naming :data:`INSTALL_ALL`."""
    return MissingDependencyError(
        f"{purpose} needs {what}, which is not installed: run {INSTALL_ALL} in the cgscore_native source folder"
    )


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise MissingDependencyError naming :data:`INSTALL_ALL`.

    ``extra`` is the pip extra that brings the module (kept for the reader; the message names
    the one command that installs them all).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing(module.split(".")[0], purpose) from exc


def available(module: str) -> bool:
    """True when ``module`` imports."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
