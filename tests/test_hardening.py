"""Counts, threads and inputs are checked before any work (the third hardening pass)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native.app.loaders import load, load_labels
from cgscore_native.errors import DataFileError, MemoryBudgetError

# Most cases here run on random features with arbitrary labels, which the diagnosis rightly
# calls unrelated to the features (LabelsWarning); the cases are about the refusals.
pytestmark = pytest.mark.filterwarnings("ignore::cgscore_native.errors.LabelsWarning")


def test_too_many_threads_is_a_thread_error_not_a_memory_error(rng):
    X, y = rng.normal(size=(40, 5)), np.repeat([0, 1], 20)
    for run in (cg.score, cg.diagnose):
        with pytest.raises(ValueError, match=r"n_threads=1000000 is more than the \d+ threads a call may use"):
            run(X, y, n_threads=10**6)


@pytest.mark.skipif(not cg.build_info()["openmp"], reason="OMP_NUM_THREADS is read by OpenMP")
def test_a_huge_omp_num_threads_is_capped():
    # Before the cap libgomp aborted the process: "Thread creation failed" (exit 1).
    code = ("import numpy as np, cgscore_native as cg; rng = np.random.default_rng(0); "
            "X = rng.random((600, 32)); y = np.arange(600) % 2; "
            "r = cg.score(X, y); d = cg.diagnose(X, y, ridge=0.1, rounds=0); "
            "print(np.isfinite(r.scores).all(), d.suspicion.size)")
    env = dict(os.environ, OMP_NUM_THREADS="20000")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "600"]


def test_a_truncated_csv_is_refused_naming_the_row(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,1")
    with pytest.raises(DataFileError, match=r"last row \(row 4, counting from 0\) has 2 of 3 fields"):
        load(tmp_path / "t.csv")
    (tmp_path / "u.csv").write_text("a,label,b\n1,x,2\n3,y,4\n5,")
    with pytest.raises(DataFileError, match=r"last row \(row 2, counting from 0\) has 2 of 3 fields"):
        load(tmp_path / "u.csv")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_is_refused_instead_of_blocking(tmp_path):
    os.mkfifo(tmp_path / "x.npy")
    os.mkfifo(tmp_path / "y.txt")
    with pytest.raises(DataFileError, match="not a regular file or folder"):
        load(tmp_path / "x.npy", labels=tmp_path / "y.txt")
    np.save(tmp_path / "real.npy", np.ones((4, 2)))
    with pytest.raises(DataFileError, match="not a regular file or folder"):
        load_labels(tmp_path / "y.txt")


def _image_folder(root, count=4, size=(6, 5)):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    for i in range(count):
        cls = root / f"c{i % 2}"
        cls.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, size=size[::-1], dtype=np.uint8)).save(cls / f"{i}.png")
    return root


def test_image_folders_are_checked_against_memory_before_decoding(tmp_path, monkeypatch):
    from cgscore_native import utils

    folder = _image_folder(tmp_path / "imgs")
    assert load(folder).X.shape == (4, 5, 6)  # (n, height, width)
    with pytest.raises(MemoryBudgetError, match=r"4 images of 100000x100000 pixels need .* pass a smaller --image-size"):
        load(folder, image_size=(100000, 100000))
    monkeypatch.setattr(utils, "available_memory_bytes", lambda: 100)  # the name the loaders read
    decoded = []
    import PIL.Image

    monkeypatch.setattr(PIL.Image.Image, "load", lambda self: decoded.append(1))
    with pytest.raises(MemoryBudgetError, match="available memory is 0.00 GiB"):
        load(folder)
    assert decoded == []  # only headers were read


def test_sparse_and_nullable_frames_get_clear_answers(rng):
    pd = pytest.importorskip("pandas")
    sparse = pytest.importorskip("scipy.sparse")
    X, y = rng.random((40, 3)), np.repeat([0, 1], 20)
    with pytest.raises(TypeError, match=r"X is a sparse csr_matrix of shape \(40, 3\).*Pass X.toarray\(\)"):
        cg.score(sparse.csr_matrix(X), y)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).astype("Float64")
    assert np.array_equal(cg.score(frame, y, seed=0).scores, cg.score(X, y, seed=0).scores)
    frame.iloc[3, 1] = pd.NA
    with pytest.raises(ValueError, match=r"NaN or infinite values in rows 3\."):
        cg.score(frame, y)
    with pytest.raises(TypeError, match="X's columns s are not numeric"):
        cg.score(pd.DataFrame({"a": X[:, 0], "s": ["x"] * 40}), y)


@pytest.mark.parametrize("a, b, shown", [("e\u0301", "\u00e9", r"'e\\u0301' and '\\xe9'"), ("cat", "cat ", "'cat' and 'cat '"),
                                         (0.1 + 0.2, 0.3, "0.3 and 0.30000000000000004")])
def test_labels_that_print_alike_are_reported(rng, a, b, shown):
    X = rng.random((40, 3))
    labels = np.array([a] * 20 + [b] * 20)
    with pytest.warns(cg.LookalikeLabelsWarning, match=shown.replace("(", r"\(").replace(".", r"\.")) as record:
        result = cg.score(X, labels)
    assert len(record) == 1 and result.classes.size == 2  # kept apart, as given


def test_diagnosis_fits_without_a_manifest_are_refused(tmp_path, rng):
    # Before: a lost manifest let a rerun on changed X silently reuse another run's fits.
    from cgscore_native.errors import CheckpointMismatchError

    X, y = rng.normal(size=(60, 5)), np.repeat([0, 1, 2], 20)
    cg.diagnose(X, y, ridge=0.1, checkpoint=tmp_path / "ck")
    (tmp_path / "ck" / "manifest.json").unlink()
    with pytest.raises(CheckpointMismatchError, match=r"holds stored work \(.*\.npz.*\) but no manifest\.json"):
        cg.diagnose(X + 1.0, y, ridge=0.1, checkpoint=tmp_path / "ck")


def test_an_empty_checkpoint_file_is_named(tmp_path, rng):
    from cgscore_native.errors import CheckpointMismatchError

    X, y = rng.normal(size=(60, 5)), np.repeat([0, 1, 2], 20)
    cg.diagnose(X, y, ridge=0.1, checkpoint=tmp_path / "ck")
    fit = sorted((tmp_path / "ck").glob("*.npz"))[0]
    fit.write_bytes(b"")
    with pytest.raises(CheckpointMismatchError, match=rf"checkpoint file .*{fit.name} cannot be read .*Delete that file"):
        cg.diagnose(X, y, ridge=0.1, checkpoint=tmp_path / "ck")


def test_a_closed_dask_client_is_refused_in_one_line(rng):
    distributed = pytest.importorskip("dask.distributed")
    X, y = rng.normal(size=(40, 5)), np.repeat([0, 1], 20)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        pass
    for run in (cg.score, cg.diagnose):
        with pytest.raises(ValueError, match="client is closed; connect a new dask.distributed.Client"):
            run(X, y, client=client)


def test_the_planner_never_asks_for_an_allocation_the_machine_refuses(rng, monkeypatch):
    # Before: at 200 000 × 256 the planner chose chunks of 77 517 rows whose 48 GB buffer (only
    # half of it ever resident) Linux refused at once: MemoryError std::bad_alloc from the kernel.
    from cgscore_native import _memory

    monkeypatch.setattr(_memory, "allocation_limit_bytes", lambda: 8 * 300**2)
    X, y = rng.normal(size=(900, 8)), np.arange(900) % 3
    result = cg.diagnose(X, y, ridge=0.1, rounds=0, seed=0, repeats=1)
    assert 150 <= result.params["chunk_size"] <= 300
    with pytest.raises(MemoryBudgetError, match=r"900×900 float64 Gram buffer is allocated whole .*chunk_size=300 or less"):
        cg.diagnose(X, y, ridge=0.1, chunk_size=900)
    with pytest.raises(MemoryBudgetError, match="allocated whole"):
        cg.cg_score_binary(X, np.where(y == 0, 1.0, -1.0))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(ridge_grid=None), TypeError, r"ridge_grid must be a sequence of numbers >= 0, e\.g\. \(0\.01, 0\.1, 1\); got None"),
    (dict(ridge_grid=["a"]), TypeError, r"ridge_grid must be a sequence of numbers >= 0"),
    (dict(ridge=1e300), ValueError, r"ridge=1e\+300 is so large that the predictions .* drown in rounding; use at most 1e\+06"),
    (dict(ridge_grid=[0.1, 1e300]), ValueError, r"ridge_grid must hold numbers in \[0, 1e\+06\]"),
    (dict(rounds=10**9), MemoryBudgetError, r"rounds=1000000000 and 1 partition\(s\) .* need .* for the predictions alone"),
    (dict(repeats=10**9, chunk_size=30), MemoryBudgetError, r"1000000000 partition\(s\) .* for the predictions alone"),
    (dict(chunk_size=4), ValueError, r"chunk_size=4: 15 chunks, so class 0 \(20 rows\) gets 1 row\(s\) per chunk, too few"),
])
def test_diagnosis_counts_are_checked_before_any_work(rng, monkeypatch, kwargs, error, message):
    from cgscore_native import _plan

    monkeypatch.setattr(_plan, "stratified_chunks", lambda *a: pytest.fail("partitions drawn before the checks"))
    X, y = rng.normal(size=(60, 6)), np.arange(60) % 3
    with pytest.raises(error, match=message):
        cg.diagnose(X, y, **kwargs)


def test_a_memory_budget_never_picks_chunks_too_small_for_the_classes(rng):
    # Before: memory_limit chose chunks with about one row per class, and most rows were flagged.
    X, y = rng.normal(size=(3000, 16)), np.arange(3000) % 300
    with pytest.raises(MemoryBudgetError, match="for the predictions alone|no chunk fits"):
        cg.diagnose(X, y, memory_limit="20MiB")
    y = np.arange(3000) % 10
    result = cg.diagnose(X, y, memory_limit="13MiB", seed=0)
    chunks = np.ceil(3000 / result.params["chunk_size"])
    assert 300 // chunks >= 2


def test_a_damaged_fit_file_is_named(tmp_path, rng):
    from cgscore_native.errors import CheckpointMismatchError

    X, y = rng.normal(size=(60, 5)), np.repeat([0, 1, 2], 20)
    cg.diagnose(X, y, ridge=0.1, rounds=0, checkpoint=tmp_path / "ck")
    fit = sorted((tmp_path / "ck").glob("*.npz"))[0]
    with np.load(fit) as stored:
        arrays = {k: stored[k] for k in stored.files}
    arrays["loo"] = arrays["loo"][:, :2]  # a hand-edited or foreign file: two classes, not three
    np.savez(fit, **arrays)
    with pytest.raises(CheckpointMismatchError, match=r"is damaged: loo \(60, 2\) \(expected \(60, 3\)\)"):
        cg.diagnose(X, y, ridge=0.1, rounds=0, checkpoint=tmp_path / "ck")


def test_the_diagnosis_does_not_depend_on_numpys_blas_threads():
    # The set-aside rows' predictions were A @ B.T in NumPy's BLAS, whose bits changed with its
    # thread count (a Dask worker runs with one): 7 of 717 suspicions differed in the last bits.
    threadpoolctl = pytest.importorskip("threadpoolctl")
    X, y = cg.load_digits()
    X, y = X[:717].reshape(717, -1), y[:717].copy()
    y[::9] = (y[::9] + 1) % 10
    default = cg.diagnose(X, y)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        single = cg.diagnose(X, y)
    np.testing.assert_array_equal(default.suspicion, single.suspicion)
    np.testing.assert_array_equal(default.margin_by_round, single.margin_by_round)


def test_ten_thousand_one_row_classes_are_refused_before_any_fit(rng):
    # Before: std::bad_alloc from inside the kernel after 112 s.
    X = rng.normal(size=(20000, 16)).astype(np.float32)
    y = np.r_[np.arange(10000), np.arange(10000) % 7]
    with pytest.warns(UserWarning, match="look like a regression target"):
        with pytest.raises(MemoryBudgetError, match="for the predictions alone|no chunk fits"):
            cg.diagnose(X, y)
