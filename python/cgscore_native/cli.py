"""``cgscore_native.cli`` for old imports and ``python -m cgscore_native.cli``: the module is now
``cgscore_native.app.cli``."""

import sys

from .app.cli import (
    EXIT_ERROR,
    build_parser,
    cmd_demo,
    cmd_noise_bench,
    cmd_prune,
    cmd_report,
    cmd_score,
    main,
    parse_bytes,
    parse_rates,
    parse_size,
)

__all__ = [
    "EXIT_ERROR",
    "build_parser",
    "cmd_demo",
    "cmd_noise_bench",
    "cmd_prune",
    "cmd_report",
    "cmd_score",
    "main",
    "parse_bytes",
    "parse_rates",
    "parse_size",
]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
