"""What cgscore_native is measured against, written the way a user would write them.

- ``scipy_closed_form``: docs/math.md, "The score of one binary problem"'s closed form in ten lines of NumPy/SciPy (OpenBLAS).
- ``authors_binary`` / ``authors_protocol``: the authors' algorithm (explicit inverse,
  then one O(n²) downdate per instance), re-implemented in NumPy.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla


def unit_rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def ntk_gram(Xn: np.ndarray) -> np.ndarray:
    H = Xn @ Xn.T
    np.clip(H, -1.0, 1.0, out=H)
    H *= np.pi - np.arccos(H)
    H /= 2.0 * np.pi
    np.fill_diagonal(H, 0.5)
    return H


def scipy_closed_form(Xn: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CG_i = (H⁻¹y)_i² / (H⁻¹)_ii with one Cholesky, cho_solve, dtrtri and column norms."""
    factor = sla.cho_factor(ntk_gram(Xn), lower=True, overwrite_a=True, check_finite=False)
    alpha = sla.cho_solve(factor, y, check_finite=False)
    Linv, info = sla.lapack.dtrtri(factor[0], lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dtrtri failed: info={info}")
    D = np.einsum("ij,ij->j", np.tril(Linv), np.tril(Linv))
    return alpha**2 / D


def authors_binary(Xn: np.ndarray, y: np.ndarray, scored: int | None = None) -> np.ndarray:
    """The authors' algorithm: H⁻¹ once, then for each instance i the inverse of H₋ᵢ by a
    rank-one downdate of the (n−1)² block, and CG_i = yᵀH⁻¹y − y₋ᵢᵀ H₋ᵢ⁻¹ y₋ᵢ.
    Only the first ``scored`` instances are scored (the protocol keeps the positives)."""
    n = len(y)
    Hinv = np.linalg.inv(ntk_gram(Xn))
    total = y @ Hinv @ y
    out = np.empty(n if scored is None else scored)
    for i in range(len(out)):
        keep = np.arange(n) != i
        a = Hinv[keep, i]
        inv_minus_i = Hinv[np.ix_(keep, keep)] - np.outer(a, a) / Hinv[i, i]
        yk = y[keep]
        out[i] = total - yk @ inv_minus_i @ yk
    return out


def authors_protocol(X: np.ndarray, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """docs/math.md, "The class-wise protocol" with ratio 1 and one repeat, each binary problem by ``authors_binary``."""
    Xn = unit_rows(X)
    rng = np.random.default_rng(seed)
    scores = np.zeros(len(labels))
    for c in np.unique(labels):
        P, O = np.flatnonzero(labels == c), np.flatnonzero(labels != c)
        N = O if len(P) >= len(O) else rng.choice(O, size=len(P), replace=False)
        rows = np.concatenate([P, N])
        y = np.concatenate([np.ones(len(P)), -np.ones(len(N))])
        scores[P] = authors_binary(Xn[rows], y, scored=len(P))
    return scores
