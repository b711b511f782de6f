"""Helpers shared by the CLI tests: run `cgscore` in a subprocess, make small data sets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from cgscore_native.datasets import load_digits


def run_cli(*args: str | os.PathLike, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m cgscore_native.app.cli ARGS` with text output; never raises on a non-zero exit."""
    env = dict(os.environ, OMP_NUM_THREADS="1")  # the test suite shares two cores
    env.pop("CGSCORE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "cgscore_native.app.cli", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=300,
    )


def small_digits(n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """The first n embedded digits (all 10 classes): images (n, 8, 8) uint8 and labels."""
    images, target = load_digits()
    return images[:n], target[:n]


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """A failed run: exit code != 0, one line on stderr containing every fragment, no traceback."""
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
