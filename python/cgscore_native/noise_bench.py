"""``cgscore_native.noise_bench`` for old imports: the module is now ``cgscore_native.experiments.noise_bench``."""

from .experiments.noise_bench import (
    COLUMNS,
    METHODS,
    METRICS,
    default_methods,
    plot,
    run_noise_bench,
    suspicion,
    to_markdown,
    write_noise_bench,
)

__all__ = [
    "COLUMNS",
    "METHODS",
    "METRICS",
    "default_methods",
    "plot",
    "run_noise_bench",
    "suspicion",
    "to_markdown",
    "write_noise_bench",
]
