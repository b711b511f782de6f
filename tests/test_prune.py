"""Class-balanced pruning: the same fraction of every class, by score, through the API and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _cli_support import assert_one_line_error, run_cli
from cgscore_native.app.prune import keep_count, keep_indices

pd = pytest.importorskip("pandas")


def test_keeps_the_highest_of_every_class():
    scores = np.array([5.0, 1.0, 3.0, 2.0, 9.0, 0.5, 7.0, 4.0])
    labels = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    np.testing.assert_array_equal(keep_indices(scores, labels, 0.5), [0, 2, 4, 6])
    np.testing.assert_array_equal(keep_indices(scores, labels, 0.5, drop="high"), [1, 3, 5, 7])


def test_ties_keep_the_lower_index():
    np.testing.assert_array_equal(keep_indices(np.ones(6), np.zeros(6, int) + [0, 0, 0, 1, 1, 1], 1 / 3), [0, 3])


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 30), min_size=2, max_size=5), keep=st.floats(0.01, 1.0), seed=st.integers(0, 99))
def test_same_fraction_from_every_class(sizes, keep, seed):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    scores = rng.random(labels.size)
    kept = keep_indices(scores, labels, keep)
    assert np.all(np.diff(kept) > 0)
    for c, m in enumerate(sizes):
        mine = kept[labels[kept] == c]
        assert mine.size == keep_count(m, keep) and 1 <= mine.size <= m
        assert abs(mine.size - keep * m) <= 0.5 or mine.size == 1
        dropped = np.setdiff1d(np.flatnonzero(labels == c), mine)
        if dropped.size:
            assert scores[mine].min() >= scores[dropped].max()


@pytest.mark.parametrize("keep", [0, -0.1, 1.5, float("nan")])
def test_bad_fraction(keep):
    with pytest.raises(ValueError, match="keep"):
        keep_indices(np.ones(4), [0, 0, 1, 1], keep)


@pytest.mark.parametrize("out", ["keep.txt", "keep.npy", "keep.csv"])
def test_cli_prune_formats(tmp_path, out):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"index": np.arange(50), "label": np.arange(50) % 4, "cg_score": rng.random(50)})
    frame.to_csv(tmp_path / "s.csv", index=False)
    proc = run_cli("prune", tmp_path / "s.csv", "--keep", 0.7, "--drop", "high", "-o", tmp_path / out)
    assert proc.returncode == 0, proc.stderr
    expected = keep_indices(frame["cg_score"], frame["label"], 0.7, drop="high")
    if out.endswith(".txt"):
        got = np.array([int(v) for v in (tmp_path / out).read_text().split()])
    elif out.endswith(".npy"):
        got = np.load(tmp_path / out)
    else:
        got = pd.read_csv(tmp_path / out)["index"].to_numpy()
    np.testing.assert_array_equal(got, expected)
    assert f"kept {expected.size} of 50 rows" in proc.stdout


def test_cli_prune_errors(tmp_path):
    assert_one_line_error(run_cli("prune", tmp_path / "none.csv", "--keep", 0.5, "-o", tmp_path / "k.txt"),
                          "no such scores file")
    assert_one_line_error(run_cli("prune", tmp_path / "none.csv", "--keep", 2, "-o", tmp_path / "k.txt"),
                          "fraction")
    assert_one_line_error(run_cli("prune", tmp_path / "none.csv", "--keep", 0.5, "-o", tmp_path / "k.json"),
                          ".txt, .csv, .npy")
    assert not list(tmp_path.iterdir())
