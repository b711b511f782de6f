"""The kernel and ridge of the diagnosis, chosen from the data by leave-one-out error (docs/math.md).

For each candidate kernel, ONE symmetric eigendecomposition K = V diag(s) Vᵀ of the Gram matrix
of the rows serves every ridge λ:

    (K + λI)⁻¹Y = V diag(1/(s + λ)) VᵀY,      diag((K + λI)⁻¹) = (V∘V) (1/(s + λ)),

so the leave-one-out residual R = (K + λI)⁻¹Y / diag((K + λI)⁻¹) (the identity of _loo) and
PRESS = ‖R‖²_F / (m·K) cost O(m²K) per λ after the O(m³) decomposition. The pair (kernel, λ) of
least PRESS wins. The λ grid of a kernel is RELATIVE_RIDGES × its diagonal / ½ (a kernel scaled
by c with λ scaled by c gives the same predictions, so the grid follows each kernel's scale);
a λ at the grid's edge widens the grid (free: no new decomposition), and one still at the edge
after WIDEN_DECADES decades at the top (a nearly constant fit, PRESS's failure under heavy noise)
is warned about.

Large n: the choice is made on a stratified subsample of at most SELECTION_ROWS rows (fixed
seed: the same rows every run), and the diagnosis then fits the whole data once. The
decomposition runs single-threaded (``_core.symmetric_eigen``), so the choice is the same for
any thread count.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _core
from ._blas import ensure_blas, product
from ._kernels import Kernel
from ._loo import signed_targets
from ._prepare import UnitRows
from ._ridge_search import search_grid

# The candidates of kernel="auto": the paper's kernel and the ReLU NTK of depth 1, 2, 4, 8.
CANDIDATE_DEPTHS: tuple[int, ...] = (0, 1, 2, 4, 8)
# λ / (diagonal / ½): for the paper's kernel, the grid of ridge="auto" without 0.
RELATIVE_RIDGES: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
WIDEN_DECADES = 3  # at most this many decades added beyond an edge of the grid
SELECTION_ROWS = 1000  # larger data: choose on a stratified subsample of this many rows
_SUBSAMPLE_SEED = 20230101


class RidgeEdgeWarning(UserWarning):
    """The chosen λ stayed at the edge of its widened grid: the leave-one-out error was still falling."""


@dataclass(frozen=True)
class KernelChoice:
    """The (kernel, λ) of least PRESS and what was measured to choose it."""

    kernel: Kernel
    ridge: float
    # kernel name → {λ: PRESS}, PRESS = ‖R‖²_F / (rows · classes) on the selection rows
    press: dict[str, dict[float, float]] = field(default_factory=dict)
    rows: int = 0  # the rows the choice was made on
    seconds: float = 0.0


@dataclass(frozen=True)
class Spectrum:
    """One kernel's eigendecomposition on the selection rows, with what every λ needs."""

    kernel: Kernel
    s: np.ndarray  # eigenvalues (m,)
    V: np.ndarray  # eigenvectors (m, m)
    V2: np.ndarray  # V∘V
    VtY: np.ndarray  # VᵀY (m, K)
    Y: np.ndarray  # the signed targets (m, K)


def spectrum(data: UnitRows, rows: np.ndarray, codes: np.ndarray, n_classes: int, kernel: Kernel,
             n_threads: int = 0) -> Spectrum:
    """The eigendecomposition of the kernel's Gram matrix of ``rows`` (native Gram, one thread
    for the decomposition)."""
    ensure_blas()
    sub = data.take(rows)
    K = _core.ntk_gram(sub.X, n_threads=n_threads, row_scale=sub.scale, kernel_depth=kernel.depth)
    s, V = _core.symmetric_eigen(K)
    Y = signed_targets(codes[rows], n_classes)
    return Spectrum(kernel=kernel, s=s, V=V, V2=V * V, VtY=product(V.T, Y), Y=np.ascontiguousarray(Y))


def loo_residual(sp: Spectrum, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """(R, A) at λ = ridge: R = A / diag((K + λI)⁻¹), A = (K + λI)⁻¹Y; the LOO prediction is Y − R."""
    w = 1.0 / (sp.s + ridge)
    A = product(sp.V, w[:, None] * sp.VtY)  # one-threaded BLAS: the same bits for any thread count
    D = product(sp.V2, w[:, None])[:, 0]
    return A / D[:, None], A


def press(sp: Spectrum, ridge: float) -> float:
    """‖R‖²_F / (m·K): the mean leave-one-out squared error against the given labels."""
    R, _ = loo_residual(sp, ridge)
    return float(np.sum(R * R)) / R.size


def ridge_grid(kernel: Kernel, relative: Sequence[float] = RELATIVE_RIDGES) -> list[float]:
    """The λ grid of a kernel: relative × its diagonal / ½."""
    scale = kernel.diagonal / 0.5
    return sorted({float(r) * scale for r in relative})


def best_ridge(sp: Spectrum, grid: Sequence[float], widen: bool = True, warn: bool = True
               ) -> tuple[float, dict[float, float]]:
    """The λ of least PRESS on the grid, widened beyond an edge that wins (widened_minimum).
    λ ≤ −min(s) is skipped (K + λI not positive definite)."""
    floor = max(0.0, -float(sp.s[0])) * 4.0 + 1e-12 * float(sp.s[-1])
    return widened_minimum(lambda lam: press(sp, lam), grid, floor, sp.kernel.name, widen, warn)


def widened_minimum(press_of: Callable[[float], float], grid: Sequence[float], floor: float, kernel_name: str,
                    widen: bool = True, warn: bool = True, stacklevel: int = 6,
                    climb: bool = False) -> tuple[float, dict[float, float]]:
    """The λ > ``floor`` of least ``press_of(λ)`` on the grid, the grid widened by factors √10
    beyond an edge that wins (up to WIDEN_DECADES decades; a λ still at the top edge then is
    warned about when ``warn``: warn_top_edge). Returns λ and PRESS of every λ tried, in order.
    ``climb``: the grid is walked by the hill climb of _ridge_search (for a costly ``press_of``:
    a few λ instead of all; PRESS is smooth and unimodal in λ on the bench's data)."""
    candidates = [lam for lam in sorted(grid) if lam > floor]
    if climb:
        values = {lam: -v for lam, v in search_grid(candidates, lambda lam: -press_of(lam)).items()}
    else:
        values = {lam: press_of(lam) for lam in candidates}
    if not values:
        raise ValueError("no λ of the grid makes the Gram matrix positive definite; pass a larger ridge.")
    if not widen or len(values) < 2:
        return min(values, key=lambda v: (values[v], -v)), values
    lo, hi = min(values), max(values)
    step = math.sqrt(10.0)
    for _ in range(2 * WIDEN_DECADES):
        best = min(values, key=lambda v: (values[v], -v))
        if best == max(values) and best < hi * 10.0 ** WIDEN_DECADES:
            values[best * step] = press_of(best * step)
        elif best == min(values) and best / step > max(floor, lo * 10.0 ** -WIDEN_DECADES):
            values[best / step] = press_of(best / step)
        else:
            break
    best = min(values, key=lambda v: (values[v], -v))
    if warn:
        warn_top_edge(values, best, kernel_name, stacklevel)
    return best, dict(sorted(values.items()))


def warn_top_edge(values: dict[float, float], best: float, kernel_name: str, stacklevel: int) -> None:
    """RidgeEdgeWarning when the chosen λ is the largest tried (the low edge is the
    near-interpolant: harmless)."""
    if len(values) > 1 and best == max(values):
        warnings.warn(
            f"the leave-one-out error of kernel {kernel_name} is least at λ = {best:.3g}, the top of the "
            f"grid searched ({min(values):.3g} ... {max(values):.3g}): the fit is nearly constant, which "
            "happens when the labels carry little signal or much noise. Pass ridge= to fix λ.",
            RidgeEdgeWarning,
            stacklevel=stacklevel + 1,
        )


def selection_rows(codes: np.ndarray, n_classes: int, limit: int = SELECTION_ROWS) -> np.ndarray:
    """All rows when there are at most ``limit``; else a stratified random subsample of ``limit``
    rows (each class in proportion, at least 2 of each), the same for every run."""
    n = codes.size
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(_SUBSAMPLE_SEED)
    picked = []
    for c in range(n_classes):
        members = np.flatnonzero(codes == c)
        take = min(members.size, max(2, int(round(limit * members.size / n))))
        picked.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(picked))


def choose_kernel(data: UnitRows, codes: np.ndarray, n_classes: int,
                  candidates: Sequence[Kernel] | None = None, ridge: float | None = None, n_threads: int = 0,
                  limit: int = SELECTION_ROWS) -> KernelChoice:
    """The (kernel, λ) of least PRESS over ``candidates`` (default: CANDIDATE_DEPTHS) and each
    kernel's λ grid (or the fixed ``ridge`` for every kernel), on at most ``limit`` rows.
    Ties go to the shallower kernel, then the larger λ."""
    kernels = list(candidates) if candidates is not None else [Kernel(d) for d in CANDIDATE_DEPTHS]
    return _choose(data, codes, n_classes, kernels, RELATIVE_RIDGES, ridge, n_threads, limit)


def _choose(data: UnitRows, codes: np.ndarray, n_classes: int, kernels: Sequence[Kernel],
            relative: Sequence[float], ridge: float | None, n_threads: int, limit: int) -> KernelChoice:
    start = time.perf_counter()
    rows = selection_rows(codes, n_classes, limit)
    table: dict[str, dict[float, float]] = {}
    best: tuple[float, int, float] | None = None  # (PRESS, depth, −λ)
    chosen = (kernels[0], 0.0)
    for kernel in kernels:
        sp = spectrum(data, rows, codes, n_classes, kernel, n_threads)
        if ridge is None:
            lam, values = best_ridge(sp, ridge_grid(kernel, relative), warn=False)
        else:
            lam = float(ridge)
            positive = lam + float(sp.s[0]) > 1e-12 * float(sp.s[-1])
            values = {lam: press(sp, lam) if positive else math.inf}
        table[kernel.name] = values
        key = (values[lam], kernel.depth, -lam)
        if best is None or key < best:
            best, chosen = key, (kernel, lam)
    if ridge is None:  # warned about for the chosen kernel only
        warn_top_edge(table[chosen[0].name], chosen[1], chosen[0].name, stacklevel=4)
    return KernelChoice(kernel=chosen[0], ridge=float(chosen[1]), press=table, rows=int(rows.size),
                        seconds=time.perf_counter() - start)


def resolve_kernel(kernel: Kernel | None, grid: Sequence[float], fixed_ridge: bool, data: UnitRows,
                   codes: np.ndarray, n_classes: int, n_threads: int = 0) -> tuple[Kernel, list[float], KernelChoice | None]:
    """What diagnose() fits with: (kernel, λ grid of its round 0, the choice or None).

    kernel=None ("auto"): the (kernel, λ) of least PRESS over the candidates; an explicit depth-L
    kernel: its λ of least PRESS; either way the grid becomes that one λ (or the user's fixed λ).
    The paper's kernel keeps the grid and today's climb unchanged. ``grid`` is the λ grid of the
    paper's kernel (ridge_grid): the other kernels search it scaled by their diagonal / ½.
    """
    if kernel is not None and kernel.depth == 0:
        return kernel, list(grid), None
    kernels = [Kernel(d) for d in CANDIDATE_DEPTHS] if kernel is None else [kernel]
    relative = [v for v in grid if v > 0] or list(RELATIVE_RIDGES)
    ridge = float(grid[0]) if fixed_ridge else None
    choice = _choose(data, codes, n_classes, kernels, relative, ridge, n_threads, SELECTION_ROWS)
    return choice.kernel, [choice.ridge], choice
