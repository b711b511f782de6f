"""``cgscore_native.baselines`` for old imports: the module is now ``cgscore_native.experiments.baselines``."""

from .experiments.baselines import (
    confident_learning,
    cross_validated_probabilities,
    knn_disagreement,
    knn_disagreement_euclidean,
    knn_shapley,
    knn_shapley_exact,
    nearest_neighbors,
    random_scores,
    unit_rows,
)

__all__ = [
    "confident_learning",
    "cross_validated_probabilities",
    "knn_disagreement",
    "knn_disagreement_euclidean",
    "knn_shapley",
    "knn_shapley_exact",
    "nearest_neighbors",
    "random_scores",
    "unit_rows",
]
