from typing import Any

import numpy as np
import numpy.typing as npt

DUPLICATE_GRID: float

class Cancelled(RuntimeError):
    """Raised by a kernel call whose StopToken was set."""

class StopToken:
    """Cancels kernel calls from any thread (see score_binary's ``stop``)."""

    def __init__(self) -> None: ...
    def request_stop(self) -> None: ...
    @property
    def stop_requested(self) -> bool: ...
    def __enter__(self) -> StopToken: ...
    def __exit__(self, *exc_info: object) -> bool: ...

def build_info() -> dict[str, Any]: ...
def prepare_rows(X: npt.NDArray[np.float64], n_threads: int = 0) -> dict[str, Any]: ...
def score_binary(
    X: npt.NDArray[np.float64],
    Y: npt.NDArray[np.float64],
    ridge: float = 0.0,
    pivot_tolerance: float = -1.0,
    subterms: bool = False,
    n_threads: int = 0,
    backend: str = "auto",
    row_scale: npt.NDArray[np.float64] | None = None,
    first_scored: int = 0,
    stop: StopToken | None = None,
    condition_estimate: bool = True,
    kernel_depth: int = 0,
) -> dict[str, Any]:
    """Keys: scores, inverse_diagonal (rows first_scored … n − 1), alpha (H⁻¹Y, every row), min_pivot, min_pivot_index,
    condition_estimate (+inf when not estimated), backend, seconds (and a2, b2, ab with subterms)."""
def load_blas(path: str, prefix: str = "scipy_", suffix: str = "_64_") -> None: ...
def blas_info() -> dict[str, Any]: ...
def ntk_gram(
    X: npt.NDArray[np.float64],
    ridge: float = 0.0,
    n_threads: int = 0,
    backend: str = "auto",
    row_scale: npt.NDArray[np.float64] | None = None,
    stop: StopToken | None = None,
    kernel_depth: int = 0,
) -> npt.NDArray[np.float64]: ...
def symmetric_eigen(A: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(s, V), A = V diag(s) Vᵀ with s ascending; single-threaded LAPACK dsyevd (else Eigen)."""
