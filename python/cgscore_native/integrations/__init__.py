"""Adapters that plug the CG-score into the tools users already run.

Each submodule imports its host library on import, and nothing else in cgscore_native
imports these submodules, so the core never needs the hosts:

- :mod:`cgscore_native.integrations.cleanlab`: the Datalab issue types ``label_diagnosis``
  and ``complexity_gap`` (registered on import) and ``complexity_gap_score(labels, *, features=...)``.
  Install: ``pip install ".[cleanlab]"``.
- :mod:`cgscore_native.integrations.pydvl`: ``ComplexityGapValuation``, a pyDVL
  ``Valuation``. Install: ``pip install ".[pydvl]"`` (pyDVL pins NumPy < 2).

OpenDataVal has no adapter: its releases pin torch 2.1, NumPy < 1.26 and pandas < 2 and
cannot be installed beside a current scientific stack (see docs/integrations.md).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require_host"]


def require_host(module: str, extra: str, adapter: str, needs: str | None = None) -> ModuleType:
    """Import the host library ``module`` or raise ImportError naming the extra that installs it.

    ``needs`` names what is missing in the message (default: the top-level package).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = needs or module.split(".")[0]
        install = f'run pip install ".[{extra}]" in the cgscore_native source folder'
        raise ImportError(f"{adapter} needs {what}, which is not installed: {install}") from exc
