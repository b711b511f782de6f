"""The CG-score as a pyDVL valuation method (``pydvl.valuation``, pyDVL ≥ 0.10).

::

    from pydvl.valuation import Dataset
    from cgscore_native.integrations.pydvl import ComplexityGapValuation

    train = Dataset(X, y)
    valuation = ComplexityGapValuation(repeats=3, seed=0, progress=True).fit(train)
    result = valuation.result          # a ValuationResult: higher = more valuable
    lowest = result.sort()[:10]        # the least valuable rows (likely mislabeled)

The CG-score needs no model, no utility and no test set: it is computed exactly from the
training rows and their labels (one Cholesky factorization per class and repeat). pyDVL's
convention is "higher value = more useful", while a high CG-score marks an irregular or
mislabeled row, so the value of a row is **minus its CG-score**. Sorting a result
ascending lists the rows to inspect first. ``variances`` hold the spread of the score
over the repeats (unbiased, so 0 with one repeat) and ``counts`` the number of repeats.

pyDVL 0.10 pins NumPy < 2; cgscore_native supports NumPy 1.23 and newer, so both install
together (``pip install 'cgscore-native[pydvl]'``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import score  # the public API only
from . import require_host

require_host("pydvl.valuation", "pydvl", "cgscore_native.integrations.pydvl", needs="pyDVL (>= 0.10)")

from pydvl.utils.status import Status  # noqa: E402
from pydvl.valuation.base import Valuation  # noqa: E402
from pydvl.valuation.dataset import Dataset, GroupedDataset  # noqa: E402
from pydvl.valuation.result import ValuationResult  # noqa: E402

try:  # typing_extensions is a dependency of pyDVL
    from typing_extensions import Self
except ImportError:  # pragma: no cover
    Self = Any  # type: ignore[assignment,misc]

__all__ = ["ComplexityGapValuation"]


class ComplexityGapValuation(Valuation):
    """Data values as minus the CG-score (Ki, Choi, Chung; ICLR 2023), computed exactly.

    Args:
        ratio: Negatives drawn per positive in each class's binary problem.
        repeats: Repeats of the negatives' draw; values are averaged over them.
        seed: Seed of the draw (None: fresh entropy, recorded in ``self.seed_used``).
        n_threads: Threads of the native kernel (None: all cores).
        progress: Show a progress bar over the binary problems (tqdm, on stderr).
        **score_options: Further keywords of :func:`cgscore_native.score`
            (``duplicates``, ``ridge``, ``memory_limit``, ``chunk_size``, ``client``, ...).
    """

    algorithm_name: str = "complexity-gap"

    def __init__(
        self,
        ratio: float = 1.0,
        repeats: int = 1,
        seed: int | None = 0,
        n_threads: int | None = None,
        progress: bool = False,
        **score_options: Any,
    ) -> None:
        super().__init__()
        self.ratio = ratio
        self.repeats = repeats
        self.seed = seed
        self.n_threads = n_threads
        self.progress = progress
        self.score_options = score_options
        self.seed_used: int | None = None

    def fit(self, data: Dataset, continue_from: ValuationResult | None = None) -> Self:
        """Compute the values of every point of ``data``.

        Args:
            data: The training data; ``data.data()`` gives the features and class labels.
            continue_from: A result of an earlier fit on the same data (e.g. with another
                seed); the new values are merged into it as further repeats.

        Returns:
            The fitted object; the values are in ``self.result``.
        """
        if isinstance(data, GroupedDataset):
            raise TypeError("ComplexityGapValuation values single points; a GroupedDataset is not supported.")
        self._result = self._init_or_check_result(data, continue_from)
        x, y = data.data()
        labels = np.asarray(y)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1:
            raise ValueError(
                f"ComplexityGapValuation needs one class label per point; the labels have shape {labels.shape}."
            )
        run = score(
            x,
            labels,
            ratio=self.ratio,
            repeats=self.repeats,
            seed=self.seed,
            n_threads=self.n_threads,
            progress=self.progress,
            **self.score_options,
        )
        self.seed_used = run.seed
        repeats = int(self.repeats)
        # run.std is the spread over the repeats (population form); pyDVL wants the sample variance.
        variances = run.std**2 * (repeats / (repeats - 1)) if repeats > 1 else np.zeros_like(run.scores)
        self._result += ValuationResult(
            algorithm=str(self),
            status=Status.Converged,
            values=-run.scores,
            variances=variances,
            counts=run.count.astype(np.int_),
            indices=data.indices,
            data_names=data.names,
        )
        return self
