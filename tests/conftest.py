"""Shared fixtures: small random data sets with known structure."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

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
