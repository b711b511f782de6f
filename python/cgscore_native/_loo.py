"""The leave-one-out NTK predictions of the label diagnosis (docs/math.md, "A label diagnosis"): one factorization per set of rows.

For a set S of rows with K classes, H the NTK Gram matrix of S (docs/math.md, "The score of one binary problem") plus a ridge λI,
Y the |S|×K matrix with +1 at the row's given class and −1 elsewhere, A = H⁻¹Y and
D_i = (H⁻¹)_ii, one factorization gives, for every row i of S:

    F_i = Y_i − A_i / D_i        the prediction for x_i of the kernel (ridge) regression fitted on S \\ {i}
    CG_i = Σ_k A_ik² / D_i        the multi-class CG-score (λ = 0): the sum of the K one-vs-rest scores
    suggested_i = argmax_k F_ik, margin_i = max_{k≠y_i} F_ik − F_i,y_i

Why F_i is the leave-one-out prediction (the Schur complement). Put row i last and write
H + λI = [[G, g], [gᵀ, c]], with G = H₋ᵢ + λI, g = H₋ᵢ,ᵢ (off the diagonal, so without λ) and
c = H_ii + λ. With s = c − gᵀG⁻¹g (> 0, the Schur complement), the block inverse is

    (H + λI)⁻¹ = [[G⁻¹ + G⁻¹g gᵀG⁻¹ / s, −G⁻¹g / s], [−gᵀG⁻¹ / s, 1 / s]].

Its last row gives D_i = 1/s and A_i = (Y_i − gᵀG⁻¹Y₋ᵢ) / s. The regression fitted without
row i predicts f₋ᵢ(x_i) = gᵀ G⁻¹ Y₋ᵢ (the kernel row of x_i against S \\ {i} times the
coefficients of the smaller system), so A_i = D_i (Y_i − f₋ᵢ(x_i)), i.e. f₋ᵢ(x_i) = Y_i − A_i/D_i,
exactly. At λ = 0, Σ_k A_ik²/D_i = Σ_k (Y_ik − f₋ᵢ(x_i)_k)² / s is the CG-score of docs/math.md, "The score of one binary problem"
summed over the K one-vs-rest label vectors, which are the columns of Y.

Rows outside S are predicted from S: F = H_{out,S} A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._blas import product
from ._duplicates import singular_error_in_rows
from ._kernel import KernelOptions, run_kernel
from ._kernels import cross_gram
from ._prepare import UnitRows
from .errors import SingularGramError

# The diagnosis does not report the Gram matrix's condition number, so the kernel skips its
# estimate (about 5-20 % of a fit at n = 1797, K = 10; bench/diagnosis/run.py --speed).
CONDITION_ESTIMATE = False
# |cosine| above this: the NTK entry is computed from ‖a ∓ b‖ (see ntk_transform.hpp).
_NEAR_PARALLEL = 1.0 - 1.0 / 1024
_BLOCK_ROWS = 1024


@dataclass
class LooFit:
    """One factorization of (S, λ): the coefficients A and the leave-one-out predictions of S."""

    rows: np.ndarray  # S, indices into the data
    alpha: np.ndarray  # (|S|, K) A = (H + λI)⁻¹ Y
    loo: np.ndarray  # (|S| − first_scored, K) F = Y − A / D of the scored rows (all by default)
    cg: np.ndarray  # (|S| − first_scored,) Σ_k A_ik² / D_i
    kernel_depth: int = 0  # the kernel of H (_kernels.py): 0 the paper's, L the depth-L NTK


def signed_targets(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Y: +1 at each row's class, −1 elsewhere, Fortran order (the kernel's layout)."""
    Y = np.full((codes.size, n_classes), -1.0, order="F")
    Y[np.arange(codes.size), codes] = 1.0
    return Y


def fit_rows(data: UnitRows, rows: np.ndarray, codes: np.ndarray, n_classes: int, ridge: float,
             n_threads: int, kernel_depth: int = 0, first_scored: int = 0) -> LooFit:
    """Factor H_S + λI once and return A, the LOO predictions and the multi-class CG of the rows S.
    ``kernel_depth``: H is the paper's kernel (0) or the depth-L ReLU NTK (_kernels.py).
    ``first_scored``: LOO and CG of rows[first_scored:] only (A of every row); the native core
    then inverts only that trailing block of the factor, (1 − first_scored/|S|)³ of the work."""
    Y = signed_targets(codes[rows], n_classes)
    options = KernelOptions(ridge=float(ridge), n_threads=n_threads, condition_estimate=CONDITION_ESTIMATE,
                            kernel_depth=int(kernel_depth))
    try:
        out = run_kernel(data.take(rows), Y, options, first_scored=first_scored)
    except SingularGramError as exc:
        raise singular_error_in_rows(exc, data, rows, what=f"the diagnosis problem (ridge {ridge:g})") from None
    alpha = np.asarray(out["alpha"])
    D = np.asarray(out["inverse_diagonal"])
    loo = Y[first_scored:] - alpha[first_scored:] / D[:, None]
    return LooFit(rows=rows, alpha=alpha, loo=loo, cg=np.asarray(out["scores"]).sum(axis=1),
                  kernel_depth=int(kernel_depth))


def ntk_cross_gram(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """H_ij = u (π − arccos u) / (2π) for unit rows a_i of A and b_j of B, u = a_i·b_j (clipped).

    Near u = ±1 arccos has an infinite slope, so there θ = 2 asin(‖a − b‖/2) (or π minus it,
    from ‖a + b‖) and u = 1 − ‖a − b‖²/2 are used instead, as the native kernel does.
    """
    u = product(A, B, transpose_b=True)  # not A @ B.T: NumPy's BLAS threads would change its bits
    np.clip(u, -1.0, 1.0, out=u)
    H = u * (np.pi - np.arccos(u)) / (2 * np.pi)
    i, j = np.nonzero(np.abs(u) > _NEAR_PARALLEL)
    if i.size:
        near_plus = u[i, j] > 0
        diff = np.sum((A[i] - B[j]) ** 2, axis=1)
        summ = np.sum((A[i] + B[j]) ** 2, axis=1)
        theta = np.where(near_plus, 2 * np.arcsin(np.minimum(np.sqrt(diff) / 2, 1.0)),
                         np.pi - 2 * np.arcsin(np.minimum(np.sqrt(summ) / 2, 1.0)))
        cos = np.where(near_plus, 1 - diff / 2, summ / 2 - 1)
        H[i, j] = cos * (np.pi - theta) / (2 * np.pi)
    return H


def predict_rows(data: UnitRows, rows: np.ndarray, fit: LooFit) -> np.ndarray:
    """F = H_{rows,S} A: the prediction of the fit on S for rows outside S, in blocks of both
    (no normalized copy of S, and no cross-Gram block larger than _BLOCK_ROWS²)."""
    out = np.zeros((rows.size, fit.alpha.shape[1]))
    for start in range(0, rows.size, _BLOCK_ROWS):
        block = rows[start:start + _BLOCK_ROWS]
        A = data.normalized(block)
        for s in range(0, fit.rows.size, _BLOCK_ROWS):
            S = data.normalized(fit.rows[s:s + _BLOCK_ROWS])
            H = ntk_cross_gram(A, S) if fit.kernel_depth == 0 else cross_gram(A, S, fit.kernel_depth)
            out[start:start + block.size] += product(H, fit.alpha[s:s + _BLOCK_ROWS])
    return out


def margins(F: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(margin, suggested code) per row: max_{k≠y} F_k − F_y, and argmax_k F_k (the given class
    unless another is strictly higher, so that suggested ≠ given exactly when margin > 0)."""
    idx = np.arange(codes.size)
    given = F[idx, codes]
    others = F.copy()
    others[idx, codes] = -np.inf
    best_other = np.argmax(others, axis=1)
    margin = others[idx, best_other] - given
    return margin, np.where(margin > 0, best_other, codes)


def cleaning_guarded(noise: float, n_classes: int, guard: float) -> bool:
    """True when the cleaning round is skipped: round 0's estimated noise rate is at least
    ``guard`` (diagnosis.CLEANING_GUARD) × the chance rate (K − 1)/K, so the rows it would set
    aside are as much signal as noise (bench/detection/README.md, "The cleaning-round guard")."""
    return noise >= guard * (n_classes - 1) / n_classes


def clean_rounds(data: UnitRows, rows: np.ndarray, codes: np.ndarray, n_classes: int, ridge: float, n_threads: int,
                 start: np.ndarray, rounds: int, share: float,
                 kernel_depth: int = 0, reported: int | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """The cleaning rounds of one set of rows S, from its round-0 predictions ``start`` (|S|, K).

    Each round sets aside the ``share`` of S with the highest margin of the previous round,
    refits on the rest and predicts every row of S again (kept rows leave-one-out, set-aside
    rows from the kept ones). Returns the predictions of rounds 1..R (R, |S|, K) and, per round,
    the positions in S of the rows set aside.

    ``reported``: only the first ``reported`` rows of S are wanted from the LAST round (a cell's
    core; its halo only helps fit): that round scores only them (``fit_rows(first_scored=)``),
    and the other rows' predictions of that round are NaN.
    """
    F = start
    out = np.empty((rounds, rows.size, n_classes))
    aside: list[np.ndarray] = []
    for r in range(rounds):
        m_prev = margins(F, codes[rows])[0]
        count = min(int(round(share * rows.size)), rows.size - 2)
        order = np.argsort(-m_prev, kind="stable")
        out_local = np.sort(order[:count])
        keep_local = np.sort(order[count:])
        F = out[r]
        first, predicted = 0, out_local
        if reported is not None and r == rounds - 1:
            F[:] = np.nan
            unscored = keep_local[keep_local >= reported]
            keep_local = np.concatenate([unscored, keep_local[keep_local < reported]])  # the wanted rows last
            first, predicted = unscored.size, out_local[out_local < reported]
        fit = fit_rows(data, rows[keep_local], codes, n_classes, ridge, n_threads, kernel_depth=kernel_depth,
                       first_scored=first)
        F[keep_local[first:]] = fit.loo
        if predicted.size:
            F[predicted] = predict_rows(data, rows[predicted], fit)
        aside.append(out_local)
    return out, aside


@dataclass(frozen=True)
class LooTask:
    """One unit of a diagnosis's work on a set of rows S (all rows, or one chunk of a partition):
    round 0 at one λ (``rounds`` = 0), or the cleaning rounds from the round-0 predictions ``start``.

    The task holds everything it needs besides the features, so it runs the same here, on a
    Dask worker, or not at all when a checkpoint holds its outcome (see ``run_task``)."""

    name: str  # unique in the run: the checkpoint file and the cluster task
    rows: np.ndarray  # S, indices into the data
    codes: np.ndarray  # the class code of every row of the data
    n_classes: int
    ridge: float
    n_threads: int
    rounds: int = 0
    share: float = 0.0  # of S set aside in each cleaning round
    start: np.ndarray | None = None  # (|S|, K) round-0 predictions, for the cleaning rounds
    kernel_depth: int = 0  # 0: the paper's kernel; L: the depth-L ReLU NTK (_kernels.py)

    def expected_shapes(self, stored: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
        """The shapes a stored outcome must have (checked when a checkpoint is read back)."""
        m, K = self.rows.size, self.n_classes
        if self.rounds == 0:
            return {"loo": (m, K), "cg": (m,)}
        counts = stored.get("aside_counts")
        aside = int(counts.sum()) if counts is not None and counts.shape == (self.rounds,) else -1
        return {"rounds": (self.rounds, m, K), "aside_counts": (self.rounds,), "aside": (aside,)}


def run_task(data: UnitRows, task: LooTask) -> dict[str, np.ndarray]:
    """The outcome of a task as plain arrays (what a checkpoint stores): ``rows`` always;
    round 0: ``loo`` (|S|, K) and ``cg`` (|S|); cleaning: ``rounds`` (R, |S|, K) and ``aside``,
    the positions set aside in each round, concatenated (``aside_counts`` per round)."""
    if task.rounds == 0:
        fit = fit_rows(data, task.rows, task.codes, task.n_classes, task.ridge, task.n_threads,
                       kernel_depth=task.kernel_depth)
        return {"rows": task.rows, "loo": fit.loo, "cg": fit.cg}
    if task.start is None:
        raise ValueError("a cleaning task needs its round-0 predictions (start).")
    F, aside = clean_rounds(data, task.rows, task.codes, task.n_classes, task.ridge, task.n_threads,
                            task.start, task.rounds, task.share, kernel_depth=task.kernel_depth)
    return {
        "rows": task.rows,
        "rounds": F,
        "aside": np.concatenate(aside).astype(np.int64),
        "aside_counts": np.array([a.size for a in aside], dtype=np.int64),
    }
