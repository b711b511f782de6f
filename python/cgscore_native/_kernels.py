"""The kernel family of the diagnosis (docs/math.md): names, parsing, and a NumPy cross-Gram matrix.

- ``"paper"`` (depth 0): the CG-score's kernel H = u (π − arccos u) / (2π), diagonal 1/2.
- ``"relu-ntk-L"`` (depth L = 1 … 64): the neural tangent kernel of an L-hidden-layer ReLU
  network, Σ⁰ = Θ⁰ = u; θ = arccos Σʰ⁻¹; Σʰ = (sin θ + (π − θ) cos θ)/π; Σ̇ʰ = (π − θ)/π;
  Θʰ = Θʰ⁻¹·Σ̇ʰ + Σʰ; K = Θᴸ, diagonal L + 1. Deeper is more local.

The native core computes the Gram matrix of the fitted rows (``kernel_depth``); the cross-Gram
here predicts rows outside them, with the same near-parallel handling (the angle from the
chord ‖a ∓ b‖ where |u| > 1 − 1/1024), to a few ulps of the core's entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._blas import product

MAX_DEPTH = 64  # relu_ntk.hpp: kMaxKernelDepth
PAPER = "paper"
AUTO = "auto"
_PREFIX = "relu-ntk-"
# |cosine| above this: the angle comes from the rows' chord (ntk_transform.hpp, kNearParallel).
NEAR_PARALLEL = 1.0 - 1.0 / 1024


@dataclass(frozen=True)
class Kernel:
    """One kernel of the family, by depth (0: the paper's)."""

    depth: int = 0

    @property
    def name(self) -> str:
        return PAPER if self.depth == 0 else f"{_PREFIX}{self.depth}"

    @property
    def diagonal(self) -> float:
        """K(x, x): 1/2 for the paper's kernel, L + 1 for depth L."""
        return 0.5 if self.depth == 0 else self.depth + 1.0


def valid_names() -> str:
    return f"'{AUTO}', '{PAPER}', '{_PREFIX}L' or a whole number L (1 … {MAX_DEPTH}; 0 is '{PAPER}')"


def parse_kernel(value: object) -> Kernel | None:
    """A kernel= argument as a Kernel, or None for "auto" (chosen from the data).

    Accepted: "auto", "paper", "relu-ntk-L" and whole numbers L (0 = "paper"), L ≤ MAX_DEPTH.
    """
    if isinstance(value, Kernel):
        return value
    depth: int | None = None
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO:
            return None
        if text == PAPER:
            depth = 0
        elif text.startswith(_PREFIX) and text[len(_PREFIX):].isdigit():
            depth = int(text[len(_PREFIX):])
        elif text.isdigit():
            depth = int(text)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        depth = int(value)
    if depth is None or not 0 <= depth <= MAX_DEPTH:
        raise ValueError(f"kernel must be {valid_names()}; got {value!r}.")
    return Kernel(depth)


def cross_gram(A: np.ndarray, B: np.ndarray, depth: int = 0) -> np.ndarray:
    """K(a_i, b_j) for unit rows a_i of A and b_j of B, for the kernel of ``depth``."""
    u = product(A, B, transpose_b=True)  # not A @ B.T: NumPy's BLAS threads would change its bits
    np.clip(u, -1.0, 1.0, out=u)
    theta = np.arccos(u)
    omc, opc = 1.0 - u, 1.0 + u  # 1 − cos θ and 1 + cos θ
    i, j = np.nonzero(np.abs(u) > NEAR_PARALLEL)
    if i.size:  # the angle from the chord: accurate to a few ulps where arccos is ill-conditioned
        diff = np.minimum(np.sum((A[i] - B[j]) ** 2, axis=1), 4.0)
        summ = np.minimum(np.sum((A[i] + B[j]) ** 2, axis=1), 4.0)
        near_plus = u[i, j] > 0
        theta[i, j] = np.where(near_plus, 2 * np.arcsin(np.minimum(np.sqrt(diff) / 2, 1.0)),
                               np.pi - 2 * np.arcsin(np.minimum(np.sqrt(summ) / 2, 1.0)))
        u[i, j] = np.where(near_plus, 1 - diff / 2, summ / 2 - 1)
        omc[i, j] = np.where(near_plus, diff / 2, 2 - summ / 2)
        opc[i, j] = np.where(near_plus, 2 - diff / 2, summ / 2)
    if depth == 0:
        return u * (np.pi - theta) / (2 * np.pi)
    return _relu_ntk_levels(u, omc, opc, theta, depth)


def _relu_ntk_levels(c: np.ndarray, omc: np.ndarray, opc: np.ndarray, theta: np.ndarray, depth: int) -> np.ndarray:
    """Θᴸ from the level-0 angle (cos θ, 1 − cos θ, 1 + cos θ, θ), as relu_ntk.hpp computes it:
    1 − Σʰ is formed without cancellation, so the next angle stays accurate near θ = 0."""
    K = c.copy()
    for _ in range(depth):
        s = np.sqrt(omc * opc)  # sin θ
        rest = np.pi - theta
        sigma = (s + rest * c) / np.pi
        K = K * (rest / np.pi) + sigma
        omc = np.maximum((rest * omc + (theta - s)) / np.pi, 0.0)  # 1 − Σʰ
        c, opc = sigma, 1.0 + sigma
        theta = 2 * np.arcsin(np.minimum(np.sqrt(omc / 2), 1.0))
    return K
