"""Label-noise detectors to compare the CG-score against.

Each returns a *suspicion* per row: higher means more likely mislabeled, as for the CG-score.

- :func:`random_scores`: uniform noise, the floor any method must beat.
- :func:`knn_disagreement`: the share of a row's k nearest neighbours with another label
  (cosine similarity); :func:`knn_disagreement_euclidean`: the same by Euclidean distance.
- :func:`knn_shapley`: minus the KNN Data Shapley value (Jia et al., VLDB 2019), from
  ``cleanlab.data_valuation.data_shapley_knn`` when cleanlab is installed, otherwise from
  :func:`knn_shapley_exact`, this module's exact implementation of the paper's recursion.
- :func:`confident_learning`: 1 − cleanlab's label quality (self-confidence) of
  cross-validated logistic-regression probabilities (needs scikit-learn and cleanlab).

Neighbours are by cosine similarity, i.e. on the unit-normalized rows the CG-score uses, unless
the function says otherwise.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import numpy as np

from ..utils import as_feature_matrix, as_label_codes, available, check_finite_nonzero, normalize_rows, require

_BLOCK = 256  # test rows per block: bounds the (block × n) similarity buffers


def unit_rows(X: Any) -> np.ndarray:
    """Rows flattened to float64 and divided by their L2 norm (zero and NaN rows are refused)."""
    Xf = as_feature_matrix(X)
    check_finite_nonzero(Xf)
    return normalize_rows(Xf)


def random_scores(n: int, seed: int | None = None) -> np.ndarray:
    """Uniform random suspicion: the chance baseline."""
    return np.random.default_rng(seed).random(n)


def nearest_neighbors(X: Any, k: int, rows: Any = None) -> np.ndarray:
    """Indices (m, k) of the k most cosine-similar other rows of each of ``rows`` (default: all), nearest first."""
    Xn = unit_rows(X)
    n = Xn.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must lie in 1..{n - 1} (n = {n}); got {k}.")
    queries = np.arange(n) if rows is None else np.asarray(rows, dtype=np.intp).reshape(-1)
    out = np.empty((queries.size, k), dtype=np.intp)
    for start in range(0, queries.size, _BLOCK):
        block = queries[start:start + _BLOCK]
        sim = Xn[block] @ Xn.T
        sim[np.arange(block.size), block] = -np.inf  # a row is not its own neighbour
        part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sim, part, axis=1), axis=1, kind="stable")
        out[start:start + block.size] = np.take_along_axis(part, order, axis=1)
    return out


def knn_disagreement(X: Any, labels: Any, k: int = 10) -> np.ndarray:
    """Share of each row's k nearest neighbours whose label differs from the row's own."""
    _, codes = as_label_codes(labels, len(labels))
    nbrs = nearest_neighbors(X, k)
    return (codes[nbrs] != codes[:, None]).mean(axis=1)


def knn_disagreement_euclidean(X: Any, labels: Any, k: int = 10) -> np.ndarray:
    """Share of each row's k nearest neighbours by Euclidean distance (on the rows as given,
    not normalized) whose label differs from the row's own."""
    Xf = as_feature_matrix(X)
    check_finite_nonzero(Xf)
    n = Xf.shape[0]
    _, codes = as_label_codes(labels, n)
    if not 1 <= k < n:
        raise ValueError(f"k must lie in 1..{n - 1} (n = {n}); got {k}.")
    sq = np.einsum("ij,ij->i", Xf, Xf)
    out = np.empty(n)
    for start in range(0, n, _BLOCK):
        block = np.arange(start, min(start + _BLOCK, n))
        dist = sq[block, None] + sq[None, :] - 2.0 * (Xf[block] @ Xf.T)
        dist[np.arange(block.size), block] = np.inf  # a row is not its own neighbour
        part = np.argpartition(dist, k - 1, axis=1)[:, :k]
        out[block] = (codes[part] != codes[block, None]).mean(axis=1)
    return out


def knn_shapley_exact(X: Any, labels: Any, k: int = 10) -> np.ndarray:
    """Exact KNN Data Shapley values, every row serving in turn as the test point of the others.

    For a test row t, sort the other N = n − 1 rows by similarity, α₁ nearest. With the
    K-NN utility U(S) = (1/K) Σ_{j ≤ min(K,|S|)} 1[y_{α_j(S)} = y_t], Jia et al. (2019,
    Theorem 1) give the exact Shapley values by a recursion from the farthest row:

        s_{α_N} = 1[y_{α_N} = y_t] / N
        s_{α_i} = s_{α_{i+1}} + (1[y_{α_i} = y_t] − 1[y_{α_{i+1}} = y_t]) / K · min(K, i) / i

    A row's value is the mean of its s over the n − 1 test rows. Cost O(n² log n) time and
    O(block · n) memory. High value = helpful; mislabeled rows get low values.
    """
    Xn = unit_rows(X)
    _, codes = as_label_codes(labels, Xn.shape[0])
    n = Xn.shape[0]
    N = n - 1
    if not 1 <= k <= N:
        raise ValueError(f"k must lie in 1..{N} (n = {n}); got {k}.")
    i = np.arange(1, N)  # positions 1..N-1 of the recursion's step terms
    weight = np.minimum(k, i) / (k * i)
    values = np.zeros(n)
    for start in range(0, n, _BLOCK):
        rows = np.arange(start, min(start + _BLOCK, n))
        sim = Xn[rows] @ Xn.T
        sim[np.arange(rows.size), rows] = -np.inf  # drop the test row itself: it sorts last
        order = np.argsort(-sim, axis=1, kind="stable")[:, :N]
        match = (codes[order] == codes[rows][:, None]).astype(np.float64)
        steps = (match[:, :-1] - match[:, 1:]) * weight
        # s_i = s_N + Σ_{j ≥ i} step_j: a cumulative sum from the far end.
        tail = np.cumsum(steps[:, ::-1], axis=1)[:, ::-1]
        s = match[:, -1:] / N + np.concatenate([tail, np.zeros((rows.size, 1))], axis=1)
        values += np.bincount(order.ravel(), weights=s.ravel(), minlength=n)
    return values / N


def knn_shapley(X: Any, labels: Any, k: int = 10, use_cleanlab: bool | None = None) -> tuple[np.ndarray, str]:
    """Suspicion = −(KNN Data Shapley value), and which implementation computed it.

    cleanlab's ``data_shapley_knn`` keeps only each test row's k nearest neighbours (a
    truncation of the recursion above); without cleanlab the exact values are computed.
    """
    if use_cleanlab is None:
        use_cleanlab = available("cleanlab.data_valuation")
    if use_cleanlab:
        dv = require("cleanlab.data_valuation", "baselines", "KNN Data Shapley via cleanlab")
        _, codes = as_label_codes(labels, len(labels))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn/cleanlab notes on metrics are not ours to show
            value = dv.data_shapley_knn(codes, features=unit_rows(X), k=k, metric="cosine")
        return -np.asarray(value, dtype=np.float64), "cleanlab.data_valuation.data_shapley_knn"
    return -knn_shapley_exact(X, labels, k), "exact recursion (own)"


def confident_learning(X: Any, labels: Any, seed: int | None = 0, folds: int = 5, blas_threads: int | None = 1
                       ) -> np.ndarray:
    """1 − cleanlab's label quality (self-confidence) of cross-validated logistic-regression probabilities.

    ``blas_threads`` limits BLAS inside this call only (threadpoolctl, restored afterwards);
    None leaves it alone. The default 1 is deliberate: the model's matrix products are small,
    and extra BLAS threads mostly spin, which made this baseline ten times slower on a busy
    2-core machine.
    """
    rank = require("cleanlab.rank", "baselines", "The confident-learning baseline")
    codes, probs = cross_validated_probabilities(X, labels, seed, folds, blas_threads)
    quality = rank.get_label_quality_scores(codes, probs, method="self_confidence")
    return 1.0 - np.asarray(quality, dtype=np.float64)


def cross_validated_probabilities(X: Any, labels: Any, seed: int | None = 0, folds: int = 5,
                                  blas_threads: int | None = 1) -> tuple[np.ndarray, np.ndarray]:
    """(class codes, out-of-fold predict_proba (n, K)) of a standardized logistic regression,
    ``folds``-fold stratified: the input of confident learning (see :func:`confident_learning`)."""
    require("sklearn", "baselines", "The confident-learning baseline")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    Xf = as_feature_matrix(X)
    check_finite_nonzero(Xf)
    _, codes = as_label_codes(labels, Xf.shape[0])
    smallest = int(np.bincount(codes).min())
    if smallest < 2:
        raise ValueError("confident learning needs at least 2 rows in every class for cross-validation.")
    cv = StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    limit = threadpool_limits(blas_threads, user_api="blas") if blas_threads else contextlib.nullcontext()
    with warnings.catch_warnings(), limit:
        warnings.simplefilter("ignore", ConvergenceWarning)
        probs = cross_val_predict(model, Xf, codes, cv=cv, method="predict_proba")
    return codes, probs
