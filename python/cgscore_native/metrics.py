"""``cgscore_native.metrics`` for old imports: the module is now ``cgscore_native.experiments.metrics``."""

from .experiments.metrics import (
    auroc,
    average_precision,
    detection_metrics,
    f1_max,
    precision_at_k,
)

__all__ = [
    "auroc",
    "average_precision",
    "detection_metrics",
    "f1_max",
    "precision_at_k",
]
