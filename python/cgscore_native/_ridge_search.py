"""The λ search of ``diagnose(ridge="auto")``: a hill climb over a sorted grid of ridges.

The score of a λ is the round-0 leave-one-out squared error against the given labels (PRESS),
negated; why PRESS and this grid, measured: bench/diagnosis/README.md, "The defaults".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# λ candidates of ridge="auto" (λ = 0 is left out when rows repeat: their Gram matrix is singular),
# searched by a hill climb from RIDGE_START. PRESS is smooth in λ, so the climb does not stop on
# the plateaus that a count of correct rows has.
RIDGE_GRID: tuple[float, ...] = (0.0, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
RIDGE_START = 0.1


def search_grid(grid: Sequence[float], score, exhaustive: bool = False) -> dict[float, Any]:
    """score(λ) for the λ of a sorted grid that a hill climb visits (all of them when exhaustive).

    The climb starts at the grid point nearest ``RIDGE_START`` and steps to the better
    neighbour while that improves the score (upwards also on a tie: the smoother fit),
    so a unimodal score is maximized in a few evaluations. A None score (singular) is worst.
    """
    grid = sorted(grid)
    if exhaustive or len(grid) <= 2:
        return {lam: score(lam) for lam in grid}
    seen: dict[float, Any] = {}

    def at(i: int) -> float:
        if grid[i] not in seen:
            seen[grid[i]] = score(grid[i])
        value = seen[grid[i]]
        return -math.inf if value is None else value

    i = min(range(len(grid)), key=lambda j: abs(math.log10(grid[j] + 1e-12) - math.log10(RIDGE_START)))
    while True:
        here = at(i)
        up = at(i + 1) if i + 1 < len(grid) else -math.inf
        down = at(i - 1) if i > 0 else -math.inf
        if up >= here and up >= down and i + 1 < len(grid) and up > -math.inf:
            i += 1
        elif down > here:
            i -= 1
        else:
            return seen
