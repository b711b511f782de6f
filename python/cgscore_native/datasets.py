"""The embedded data set: scikit-learn's copy of the UCI optical handwritten digits.

1797 images of 8×8 pixels (values 0..16), 10 classes. Source: E. Alpaydin and C. Kaynak,
"Optical Recognition of Handwritten Digits", UCI Machine Learning Repository (CC BY 4.0),
as bundled by scikit-learn (``sklearn.datasets.load_digits``). Shipped here so that the
demo and tests need no download and no scikit-learn.
"""

from __future__ import annotations

from importlib import resources

import numpy as np


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return (images, target): uint8 arrays of shape (1797, 8, 8) and (1797,)."""
    with resources.files("cgscore_native").joinpath("data/digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as data:
            return data["images"], data["target"]
