"""Independent pure-NumPy references the native core is tested against.

Nothing here calls cgscore_native: the brute force solves every leave-one-out problem
separately, and the protocol re-implements docs/math.md, "The class-wise protocol", from its text.
"""

from __future__ import annotations

import numpy as np


def ntk_gram(X: np.ndarray) -> np.ndarray:
    """docs/math.md, "The score of one binary problem": H_ij = u(π − arccos u)/(2π), u the clamped cosine; H_ii = 1/2."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    u = np.clip(Xn @ Xn.T, -1.0, 1.0)
    H = u * (np.pi - np.arccos(u)) / (2.0 * np.pi)
    np.fill_diagonal(H, 0.5)
    return H


def complexity(H: np.ndarray, y: np.ndarray) -> np.longdouble:
    """yᵀH⁻¹y, refined with long-double residuals.

    CG_i = C − C₋ᵢ cancels: a plain float64 solve loses the small scores to rounding,
    so each solve is refined until its residual is at long-double level.
    """
    Hl, yl = H.astype(np.longdouble), y.astype(np.longdouble)
    x = np.linalg.solve(H, y).astype(np.longdouble)
    for _ in range(4):
        residual = yl - Hl @ x
        x += np.linalg.solve(H, residual.astype(np.float64)).astype(np.longdouble)
    return yl @ x


def brute_force_binary(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CG_i = C(y) − C(y₋ᵢ) with each leave-one-out problem solved on its own."""
    H = ntk_gram(X)
    y = np.asarray(y, dtype=np.float64)
    total = complexity(H, y)
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        out[i] = float(total - complexity(H[np.ix_(keep, keep)], y[keep]))
    return out


def brute_force_subterms(X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """a2, b2, ab from an explicit inverse (the definitions of docs/math.md, "The score of one binary problem")."""
    Hinv = np.linalg.inv(ntk_gram(X))
    y = np.asarray(y, dtype=np.float64)
    D = np.diag(Hinv)
    beta = Hinv @ y - D * y
    return {"a2": beta**2 / D, "b2": y**2 * D, "ab": y * beta}


def protocol_seed_free(X: np.ndarray, labels, ratio: float = 1.0) -> np.ndarray:
    """docs/math.md, "The class-wise protocol", when every class takes all other rows as negatives (no randomness)."""
    labels = np.asarray(labels)
    scores = np.full(len(labels), np.nan)
    for c in sorted(set(labels.tolist())):
        P = np.flatnonzero(labels == c)
        others = np.flatnonzero(labels != c)
        assert int(np.floor(len(P) * ratio)) >= len(others), "not the seed-free case"
        rows = np.concatenate([P, others])
        y = np.concatenate([np.ones(len(P)), -np.ones(len(others))])
        Hinv = np.linalg.inv(ntk_gram(X[rows]))
        alpha = Hinv @ y
        scores[P] = (alpha**2 / np.diag(Hinv))[: len(P)]
    return scores
