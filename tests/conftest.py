"""Shared fixtures: a seeded generator, the kernel's back ends, the embedded digits with flipped labels."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

from cgscore_native._blas import ensure_blas
from cgscore_native.datasets import load_digits
from cgscore_native.experiments.label_noise import flip_labels

# CI runs the same examples every time, so a red run can be reproduced exactly.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20230101)


def gaussian_problem(rng: np.random.Generator, n: int, d: int, positive_share: float = 0.5):
    X = rng.normal(size=(n, d))
    y = np.where(rng.random(n) < positive_share, 1.0, -1.0)
    return X, y


@pytest.fixture(params=["eigen", "blas"])
def backend(request) -> str:
    """Each back end of the native kernel in turn (BLAS skipped when its library is missing)."""
    if request.param == "blas" and not ensure_blas():
        pytest.skip("NumPy's bundled OpenBLAS was not found")
    return request.param


@pytest.fixture(scope="session")
def noisy_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The embedded digits as float64 rows, 10 % of their labels flipped (seed 0), and the flipped mask."""
    images, target = load_digits()
    X = images.reshape(len(images), -1).astype(np.float64)
    noisy, flipped = flip_labels(target, 0.1, seed=0)
    return X, noisy, flipped
