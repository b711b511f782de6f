"""The diagnosis file says what its predictions were made with (kernel, λ), in every format, and
the report shows it: the file is all ``cgscore report`` gets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cgscore_native as cg
from _cli_support import run_cli, small_digits


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npz"])
def test_the_diagnosis_file_carries_the_kernel_and_ridge(tmp_path, suffix):
    X, y = small_digits()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / f"d{suffix}"
    proc = run_cli("diagnose", tmp_path / "X.npy", "--labels", tmp_path / "y.npy", "-o", out,
                   "--kernel", "relu-ntk-2", "--ridge", "0.25", "--quiet")
    assert proc.returncode == 0, proc.stderr
    from cgscore_native.app.results import read_diagnosis

    frame = read_diagnosis(out)
    assert set(frame["kernel"]) == {"relu-ntk-2"}
    assert np.all(frame["ridge"].to_numpy(dtype=float) == 0.25)
    assert set(frame["mode"]) == {"exact"}
    # The same run in Python: the file's predictions are the kernel's, not the paper's.
    d = cg.diagnose(X, y, kernel=2, ridge=0.25)
    np.testing.assert_array_equal(frame["suspicion"].to_numpy(), d.suspicion)


def test_the_report_names_the_kernel_of_the_file(tmp_path):
    X, y = small_digits()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    proc = run_cli("diagnose", tmp_path / "X.npy", "--labels", tmp_path / "y.npy", "-o", tmp_path / "d.csv",
                   "--kernel", "relu-ntk-4", "--ridge", "0.5", "--sort", "suspicion", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert pd.read_csv(tmp_path / "d.csv")["kernel"].eq("relu-ntk-4").all()
    proc = run_cli("report", tmp_path / "d.csv", "-o", tmp_path / "rep", "--quiet")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert "<th>kernel</th><td>relu-ntk-4, λ = 0.5</td>" in page
    assert "<th>mode</th><td>exact</td>" in page
