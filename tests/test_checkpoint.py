"""Resumable runs: atomic per-problem files, resume gives exactly the uninterrupted result,
other runs' checkpoints are refused, and Ctrl-C leaves the checkpoint consistent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import _execute
from cgscore_native.checkpoint import CheckpointMismatchError


@pytest.fixture
def data(rng):
    labels = np.repeat(np.array(["x", "y", "z"]), [30, 22, 26])
    X = rng.normal(size=(labels.size, 5)) + np.repeat(rng.normal(size=(3, 5)), [30, 22, 26], axis=0)
    return X, labels


ARGS = dict(ratio=0.8, repeats=2, seed=11, chunk_size=20, subterms=True)


def count_solves(monkeypatch) -> list:
    calls = []
    real = _execute.score_problem

    def counted(*args, **kwargs):
        calls.append(args[1].key)
        return real(*args, **kwargs)

    monkeypatch.setattr(_execute, "score_problem", counted)
    return calls


def assert_same_result(a, b):
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.scores_by_repeat, b.scores_by_repeat)
    for name in ("a2", "b2", "ab"):
        np.testing.assert_array_equal(a.subterms[name], b.subterms[name])
    assert a.problems == b.problems and a.seed == b.seed


def test_resume_gives_the_uninterrupted_result_without_recomputing(tmp_path, data, monkeypatch):
    uninterrupted = cg.score(*data, **ARGS)
    first = cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    assert_same_result(first, uninterrupted)
    files = sorted(p.name for p in (tmp_path / "ck").glob("*.npz"))
    assert len(files) == len(first.problems) and "r1-c2-k1.npz" in files
    for name in files[::2]:  # as if the run had stopped before these
        os.remove(tmp_path / "ck" / name)
    calls = count_solves(monkeypatch)
    resumed = cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    assert_same_result(resumed, uninterrupted)
    assert len(calls) == len(files[::2])
    calls.clear()
    assert_same_result(cg.score(*data, **ARGS, checkpoint=tmp_path / "ck"), uninterrupted)
    assert calls == []  # complete: nothing left to compute


def test_files_are_plain_npz_and_json(tmp_path, data):
    cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    manifest = json.loads((tmp_path / "ck" / "manifest.json").read_text())
    assert manifest["format"] == 2
    assert manifest["fields"]["seed_entropy"] == 11 and manifest["fields"]["chunk_size"] == 20
    with np.load(tmp_path / "ck" / "r0-c0-k0.npz", allow_pickle=False) as f:
        assert {"positives", "scores", "diagnostics", "min_pivot_row", "ridge", "near_duplicate", "a2", "b2", "ab"} <= set(f.files)
        assert f["scores"].dtype == np.float64 and f["positives"].dtype == np.int64


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(seed=12), "seed_entropy"),
        (dict(ratio=0.9), "ratio"),
        (dict(repeats=3), "repeats"),
        (dict(chunk_size=25), "chunk_size"),
        (dict(subterms=False), "subterms"),
        (dict(ridge=1e-3), "ridge"),
        (dict(duplicates="raise"), "duplicates"),
    ],
)
def test_checkpoint_of_other_arguments_is_refused(tmp_path, data, change, field):
    cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    with pytest.raises(CheckpointMismatchError, match=rf"different run \({field}: checkpoint"):
        cg.score(*data, **{**ARGS, **change}, checkpoint=tmp_path / "ck")


def test_checkpoint_of_other_data_or_labels_is_refused(tmp_path, data):
    X, labels = data
    cg.score(X, labels, **ARGS, checkpoint=tmp_path / "ck")
    X2 = X.copy()
    X2[7, 3] += 1e-9
    with pytest.raises(CheckpointMismatchError, match=r"\(data: checkpoint '[0-9a-f]+', now '[0-9a-f]+'\)"):
        cg.score(X2, labels, **ARGS, checkpoint=tmp_path / "ck")
    labels2 = labels.copy()
    labels2[[0, 40]] = labels2[[40, 0]]
    with pytest.raises(CheckpointMismatchError, match=r"\(labels: checkpoint"):
        cg.score(X, labels2, **ARGS, checkpoint=tmp_path / "ck")
    # Scaling a row does not change the normalized data, so it resumes.
    X3 = X.copy()
    X3[4] *= 8.0
    np.testing.assert_array_equal(
        cg.score(X3, labels, **ARGS, checkpoint=tmp_path / "ck").scores, cg.score(X, labels, **ARGS).scores
    )


def test_seed_none_records_the_entropy_and_reuses_it(tmp_path, data):
    args = {**ARGS, "seed": None}
    first = cg.score(*data, **args, checkpoint=tmp_path / "ck")
    for f in list((tmp_path / "ck").glob("r1-*.npz")):
        f.unlink()
    resumed = cg.score(*data, **args, checkpoint=tmp_path / "ck")
    assert_same_result(resumed, first)
    assert_same_result(cg.score(*data, **{**ARGS, "seed": first.seed}), first)


def test_not_a_checkpoint_is_refused(tmp_path, data):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "manifest.json").write_text("{not json")
    with pytest.raises(CheckpointMismatchError, match="not a cgscore_native checkpoint manifest"):
        cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is not a directory"):
        cg.score(*data, **ARGS, checkpoint=tmp_path / "file")


def test_leftover_temporary_files_are_ignored_and_removed(tmp_path, data):
    expected = cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    (tmp_path / "ck" / "r0-c0-k0.npz").unlink()
    stray = tmp_path / "ck" / ".r0-c0-k0.npz.999.tmp"
    stray.write_bytes(b"half a file")
    assert_same_result(cg.score(*data, **ARGS, checkpoint=tmp_path / "ck"), expected)
    assert not stray.exists()


def test_a_damaged_file_is_named(tmp_path, data):
    cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    (tmp_path / "ck" / "r0-c1-k0.npz").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointMismatchError, match=r"r0-c1-k0.npz cannot be read .* Delete that file"):
        cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    (tmp_path / "ck" / "r0-c1-k0.npz").unlink()
    np.testing.assert_array_equal(cg.score(*data, **ARGS, checkpoint=tmp_path / "ck").scores, cg.score(*data, **ARGS).scores)


INTERRUPTED_RUN = textwrap.dedent(
    """
    import sys
    import numpy as np
    import cgscore_native as cg
    from cgscore_native.checkpoint import Checkpoint

    save = Checkpoint.save

    def save_and_tell(self, outcome):  # lets the test signal once a problem is stored
        save(self, outcome)
        print("saved", flush=True)

    Checkpoint.save = save_and_tell
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6000, 24))
    labels = np.repeat([0, 1], 3000)
    cg.score(X, labels, seed=2, repeats=2, chunk_size=600, checkpoint=sys.argv[1], n_threads=1)
    print("finished", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_the_run_and_leaves_the_checkpoint_consistent(tmp_path):
    ck = tmp_path / "ck"
    script = tmp_path / "run.py"
    script.write_text(INTERRUPTED_RUN)
    proc = subprocess.Popen([sys.executable, str(script), str(ck)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "saved"  # the first of 40 problems is stored
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "finished" not in out, "the run ended before the signal arrived"
    assert "KeyboardInterrupt" in err
    done = sorted(ck.glob("r*.npz"))
    assert 1 <= len(done) < 40  # 2 repeats × 2 classes × 10 chunks
    for f in done:
        with np.load(f, allow_pickle=False) as stored:
            assert np.all(np.isfinite(stored["scores"]))

    rng = np.random.default_rng(5)
    X = rng.normal(size=(6000, 24))
    labels = np.repeat([0, 1], 3000)
    args = dict(seed=2, repeats=2, chunk_size=600, n_threads=1)
    np.testing.assert_array_equal(cg.score(X, labels, **args, checkpoint=ck).scores, cg.score(X, labels, **args).scores)


def test_problem_files_without_a_manifest_are_refused(tmp_path, data):
    # Another run's problem files, its manifest lost: reusing them would mislabel them.
    X, labels = data
    cg.score(X[::-1], labels[::-1], **ARGS, checkpoint=tmp_path / "other")
    (tmp_path / "other" / "manifest.json").unlink()
    with pytest.raises(CheckpointMismatchError, match=r"stored work .*no manifest\.json"):
        cg.score(*data, **ARGS, checkpoint=tmp_path / "other")
    assert not (tmp_path / "other" / "manifest.json").exists()


def _fields(data):
    from cgscore_native._prepare import prepare_features
    from cgscore_native.checkpoint import fingerprint

    X, labels = data
    classes, codes = np.unique(labels, return_inverse=True)
    return fingerprint(prepare_features(np.asarray(X, dtype=np.float64))[0], codes, classes, {}, 1, False)


def test_a_second_live_run_on_one_folder_is_refused(tmp_path, data):
    from cgscore_native.checkpoint import Checkpoint
    from cgscore_native.errors import CheckpointInUseError

    fields = _fields(data)
    first = Checkpoint(tmp_path / "ck", fields)
    try:
        mine = tmp_path / "ck" / ".r0-c0-k0.npz.abc.tmp.npz"  # a write of the first run in flight
        mine.write_bytes(b"partial")
        with pytest.raises(CheckpointInUseError, match=r"in use by another run .*pid"):
            Checkpoint(tmp_path / "ck", fields)
        import threading

        errors = []
        thread = threading.Thread(target=lambda: errors.append(_try_open(tmp_path / "ck", fields)))
        thread.start()
        thread.join()
        assert isinstance(errors[0], CheckpointInUseError)
        assert mine.exists(), "a refused run deleted a live run's temporary file"
    finally:
        first.close()
    Checkpoint(tmp_path / "ck", fields).close()  # released: the folder can be reopened


def _try_open(path, fields):
    from cgscore_native.checkpoint import Checkpoint

    try:
        Checkpoint(path, fields).close()
    except Exception as exc:  # returned to the test's thread
        return exc
    return None


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from cgscore_native.checkpoint import Checkpoint
    held = Checkpoint(sys.argv[1], {"seed_entropy": 1})
    print("locked", flush=True)
    time.sleep(60)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks")
def test_the_lock_of_a_killed_process_does_not_block(tmp_path):
    from cgscore_native.checkpoint import Checkpoint
    from cgscore_native.errors import CheckpointInUseError

    script = tmp_path / "hold.py"
    script.write_text(HOLD_LOCK)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "ck")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(CheckpointInUseError, match=f"pid {proc.pid}"):
            Checkpoint(tmp_path / "ck", {"seed_entropy": 1})
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    Checkpoint(tmp_path / "ck", {"seed_entropy": 1}).close()


def test_the_lock_is_released_after_a_run_and_after_an_error(tmp_path, data, monkeypatch):
    cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    (tmp_path / "ck" / "r1-c2-k0.npz").unlink()

    def fail(*args, **kwargs):
        raise RuntimeError("stopped")

    with monkeypatch.context() as m:
        m.setattr(_execute, "score_problem", fail)
        with pytest.raises(RuntimeError, match="stopped"):
            cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")  # not refused as in use


def test_the_numerical_path_is_recorded_and_checked(tmp_path, data):
    result = cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
    numerics = result.params["numerics"]
    assert numerics["backend"] in ("blas", "eigen")
    if numerics["backend"] == "blas":
        assert numerics["blas"]["library"] and "/" not in numerics["blas"]["library"]
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = set(next(line for line in f if line.startswith(("flags", "Features"))).split(":")[1].split())
        assert set(numerics["cpu_flags"]) == flags & {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq",
                                                      "avx512vl", "neon", "asimd", "sve"}
    manifest = json.loads((tmp_path / "ck" / "manifest.json").read_text())
    assert manifest["fields"]["numerics"] == numerics
    manifest["fields"]["numerics"]["cpu_flags"] = ["sse4_2"]  # written on another CPU type
    (tmp_path / "ck" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointMismatchError, match="numerics: checkpoint"):
        cg.score(*data, **ARGS, checkpoint=tmp_path / "ck")
