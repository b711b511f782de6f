"""The drop-in replacements of ml-metrics' and the authors' CG-score functions.

References: the brute force of reference.py (every leave-one-out problem solved on its own),
and a NumPy transcription of the inverse-downdate loop that both replaced implementations
run (their own code needs ml-metrics' private tree or torch, neither installable here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import cgscore_native
from cgscore_native.compat.jjchy import calc_cg_score
from cgscore_native.compat.ml_metrics import complexity_gap_score
from reference import brute_force_binary, brute_force_subterms, ntk_gram

RTOL = 1e-12  # measured: ≤ 2e-13 relative against the long-double brute force on these sizes


def seed_free_reference(X: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Every class against all other rows (the case without a draw), from reference.py."""
    out = {key: np.full(len(labels), np.nan) for key in ("vi", "a2", "b2", "ab")}
    for c in np.unique(labels):
        P, others = np.flatnonzero(labels == c), np.flatnonzero(labels != c)
        rows = np.concatenate([P, others])
        y = np.concatenate([np.ones(P.size), -np.ones(others.size)])
        out["vi"][P] = brute_force_binary(X[rows], y)[: P.size]
        for key, value in brute_force_subterms(X[rows], y).items():
            out[key][P] = value[: P.size]
    return out


def downdate_reference(X: np.ndarray, y: np.ndarray, n_pos: int) -> np.ndarray:
    """The replaced codes' loop: invert H, then per positive k downdate the inverse without k."""
    Hinv = np.linalg.inv(ntk_gram(X))
    total = y @ Hinv @ y
    out = np.empty(n_pos)
    for k in range(n_pos):
        keep = np.arange(len(y)) != k
        A, B, D = Hinv[np.ix_(keep, keep)], Hinv[k, keep], Hinv[k, k]
        out[k] = total - y[keep] @ (A - np.outer(B, B) / D) @ y[keep]
    return out


class FakeTensor:
    """Enough of a torch tensor for the authors' dataset protocol (no torch needed)."""

    def __init__(self, value: Any) -> None:
        self.value = np.asarray(value)

    def detach(self) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.value

    def item(self) -> Any:
        return self.value.item()


class PairDataset:
    """A torch-style dataset: ``len()`` and ``dataset[j] == (image tensor, label tensor)``."""

    def __init__(self, X: np.ndarray, labels: np.ndarray) -> None:
        self.X, self.labels = X, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, j: int) -> tuple[FakeTensor, FakeTensor]:
        return FakeTensor(self.X[j]), FakeTensor(self.labels[j])


@pytest.fixture
def three_classes(rng):
    X = rng.normal(size=(24, 2, 3))  # instances of shape (2, 3): flattened like the authors' code
    labels = np.repeat([2, 0, 1], 8)
    return X, labels


# ml-metrics


def test_ml_metrics_binary_equals_brute_force(rng):
    X = rng.normal(size=(30, 6))
    labels = np.repeat(["cat", "dog"], 15)  # equal classes, ratio 1: every other row is a negative
    got = complexity_gap_score(labels, X, num_repetitions=2)
    want = seed_free_reference(X, labels)["vi"]
    np.testing.assert_allclose(got, want, rtol=RTOL)
    for c in ("cat", "dog"):  # the replaced loop gives the same
        P, others = np.flatnonzero(labels == c), np.flatnonzero(labels != c)
        y = np.concatenate([np.ones(P.size), -np.ones(others.size)])
        np.testing.assert_allclose(got[P], downdate_reference(X[np.concatenate([P, others])], y, P.size),
                                   rtol=5e-13)  # measured: ≤ 6e-14


def test_ml_metrics_is_multiclass(three_classes):
    X, labels = three_classes
    got = complexity_gap_score(labels, X.reshape(24, -1), class_balance_ratio=2.0)  # 8·2 ≥ 16: no draw
    np.testing.assert_allclose(got, seed_free_reference(X.reshape(24, -1), labels)["vi"], rtol=RTOL)


def test_ml_metrics_seed_zero_is_a_seed(rng):
    X = rng.normal(size=(40, 5))
    labels = np.array([0] * 10 + [1] * 30)  # class 0 draws 10 of 30 negatives; class 1 takes all 10
    a = complexity_gap_score(labels, X)
    b = complexity_gap_score(labels, X, random_seed=0)
    c = complexity_gap_score(labels, X, random_seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:10], c[:10])  # the draw changed
    np.testing.assert_array_equal(a[10:], c[10:])  # no draw for class 1
    np.testing.assert_array_equal(a, cgscore_native.score(X, labels, seed=0).scores)


def test_ml_metrics_none_follows_numpy_global_seed(rng):
    X = rng.normal(size=(40, 5))
    labels = np.array([0] * 10 + [1] * 30)
    np.random.seed(7)
    a = complexity_gap_score(labels, X, random_seed=None)
    np.random.seed(7)
    b = complexity_gap_score(labels, X, random_seed=None)
    np.random.seed(8)
    c = complexity_gap_score(labels, X, random_seed=None)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:10], c[:10])


def test_ml_metrics_single_label_gives_zeros_and_bad_input_is_named(rng):
    X = rng.normal(size=(5, 3))
    np.testing.assert_array_equal(complexity_gap_score(np.ones(5), X), np.zeros(5))
    X[3] = 0.0
    with pytest.raises(ValueError, match="3"):
        complexity_gap_score(np.array([0, 0, 1, 1, 1]), X)
    with pytest.raises(ValueError):
        complexity_gap_score(np.array([0, 0, 1, 1, 1]), rng.normal(size=(5, 3)), num_repetitions=0)


# the authors' calc_cg_score


def test_jjchy_shapes_and_subterms_equal_brute_force(three_classes):
    X, labels = three_classes
    ratio = 2  # 8·2 ≥ 16: every class takes all the others as negatives
    dataset = PairDataset(X, labels)
    vi = calc_cg_score(dataset, "cuda:0", unbalance_ratio=ratio)
    full = calc_cg_score(dataset, None, rep_num=3, unbalance_ratio=ratio, sub_term=True)
    assert isinstance(vi, np.ndarray) and vi.shape == (24,)
    assert set(full) == {"vi", "ab", "a2", "b2"} and all(v.shape == (24,) for v in full.values())
    want = seed_free_reference(X.reshape(24, -1), labels)
    np.testing.assert_allclose(vi, want["vi"], rtol=RTOL)
    for key in ("vi", "a2", "b2"):
        np.testing.assert_allclose(full[key], want[key], rtol=RTOL)
    np.testing.assert_allclose(full["ab"], want["ab"], rtol=RTOL, atol=1e-9 * np.abs(want["ab"]).max())


def test_jjchy_seed_and_global_state(rng):
    X = rng.normal(size=(40, 5))
    labels = np.array([0] * 10 + [1] * 30)
    pairs = list(zip(X, labels))  # plain (array, int) pairs work too
    np.testing.assert_array_equal(calc_cg_score(pairs, seed=3), calc_cg_score(pairs, seed=3))
    assert not np.allclose(calc_cg_score(pairs, seed=3)[:10], calc_cg_score(pairs, seed=4)[:10])
    np.random.seed(11)
    a = calc_cg_score(pairs)
    np.random.seed(11)
    np.testing.assert_array_equal(a, calc_cg_score(pairs))


def test_jjchy_errors_name_the_item(rng):
    with pytest.raises(TypeError, match=r"dataset\[1\]"):
        calc_cg_score([(np.ones(3), 0), np.ones(3)])
    with pytest.raises(ValueError, match=r"dataset\[2\] has 4"):
        calc_cg_score([(np.ones(3), 0), (np.ones(3), 1), (np.ones(4), 1)])
    with pytest.raises(TypeError, match="length"):
        calc_cg_score(iter([(np.ones(3), 0)]))


def test_core_and_compat_import_no_host_library():
    """The core, the compat modules and the integrations package itself load none of the hosts."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, cgscore_native, cgscore_native.integrations\n"
        "from cgscore_native.compat import jjchy, ml_metrics\n"
        "cgscore_native.score(np.eye(4) + 1, [0, 0, 1, 1], seed=0)\n"
        "hosts = ['cleanlab', 'pydvl', 'opendataval', 'torch', 'ml_metrics', 'datasets']\n"
        "print(','.join(h for h in hosts if h in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_missing_host_names_the_extra():
    from cgscore_native.integrations import require_host

    message = r"needs no_such_host_xyz, which is not installed: run pip install \".\[cleanlab\]\" in the cgscore_native source folder"
    with pytest.raises(ImportError, match=message):
        require_host("no_such_host_xyz.sub", "cleanlab", "the adapter")
