"""Features from disk (``_sources``): every form gives the in-memory array's diagnosis bit for
bit, memory stays bounded (measured in a fresh process), and bad files are refused in one line
that names the file."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from _cli_support import assert_one_line_error, run_cli
from cgscore_native import _sources, diagnose, score
from cgscore_native._sources import natural_key, open_features, open_input
from cgscore_native._validate import conversion_bytes, feature_array
from cgscore_native.errors import DataFileError, MemoryBudgetError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# Three classes in 16 dimensions, 150 rows, some labels flipped: a diagnosis with flagged rows.
_RNG = np.random.default_rng(7)
_CENTRES = _RNG.normal(scale=2.0, size=(3, 16))
LABELS = np.repeat(np.arange(3), 50)
BASE = _CENTRES[LABELS] + _RNG.normal(size=(150, 16))
NOISY = LABELS.copy()
NOISY[::11] = (NOISY[::11] + 1) % 3
# Shards of uneven sizes whose names sort differently as text (part10 < part2) and naturally.
SHARD_ROWS = {"part2.npy": (0, 7), "part10.npy": (7, 64), "part11.npy": (64, 150)}


def stored(dtype: str) -> np.ndarray:
    """BASE as stored in ``dtype`` (uint8: pixel-like values 0..255)."""
    if dtype == "uint8":
        return np.clip(np.round((BASE - BASE.min()) * 20), 0, 255).astype(np.uint8)
    return BASE.astype(dtype)


def write_shards(folder: Path, X: np.ndarray, rows=SHARD_ROWS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (a, b) in rows.items():
        np.save(folder / name, X[a:b])
    return folder


def write_parquet(path: Path, X: np.ndarray, kind: str = "list", labels=NOISY, row_group_size: int = 40) -> Path:
    flat = pa.array(X.reshape(-1))
    if kind == "list":
        column = pa.ListArray.from_arrays(pa.array(np.arange(0, X.size + 1, X.shape[1], dtype=np.int32)), flat)
    elif kind == "fixed":
        column = pa.FixedSizeListArray.from_arrays(flat, X.shape[1])
    else:  # a fixed-shape tensor column (an extension type over a fixed-size list)
        column = pa.ExtensionArray.from_storage(pa.fixed_shape_tensor(flat.type, [X.shape[1]]),
                                                pa.FixedSizeListArray.from_arrays(flat, X.shape[1]))
    table = pa.table({"row_id": np.arange(len(X)), "emb": column, "label": labels})
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def same_diagnosis(a, b) -> None:
    for field in ("suspicion", "suggested_label", "cg_score", "margin_by_round", "is_label_issue"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.ridge == b.ridge and a.params == b.params


def test_natural_order():
    names = ["part10.npy", "part2.npy", "Part1.npy", "part11.npy", "a.npy"]
    assert sorted(names, key=natural_key) == ["a.npy", "Part1.npy", "part2.npy", "part10.npy", "part11.npy"]


FORMS = ["memmap", "npy str", "npy PathLike", "shards", "one shard", "parquet list", "parquet fixed",
         "parquet tensor"]


@pytest.mark.parametrize("dtype", ["float32", "float16", "uint8"])
@pytest.mark.parametrize("form", FORMS)
def test_each_form_gives_the_in_memory_diagnosis(tmp_path, dtype, form):
    X = stored(dtype)
    expected = diagnose(X, NOISY, seed=0)
    labels = NOISY
    if form == "memmap":
        np.save(tmp_path / "x.npy", X)
        source = np.load(tmp_path / "x.npy", mmap_mode="r")
    elif form.startswith("npy"):
        np.save(tmp_path / "x.npy", X)
        source = str(tmp_path / "x.npy") if form == "npy str" else tmp_path / "x.npy"
    elif form == "shards":
        source = write_shards(tmp_path / "shards", X)
    elif form == "one shard":
        source = write_shards(tmp_path / "shards", X, {"only.npy": (0, 150)})
    else:
        if dtype == "float16" and form == "parquet tensor":
            pytest.skip("Arrow's fixed-shape tensor has no float16 to NumPy conversion")
        source, labels = write_parquet(tmp_path / "x.parquet", X, form.split()[1]), "label"
    same_diagnosis(diagnose(source, labels, seed=0), expected)


@pytest.mark.parametrize("dtype, in_place", [("float32", True), ("uint8", True), ("float64", True), ("float16", False)])
def test_stored_types_are_read_as_stored(tmp_path, dtype, in_place):
    """float32, uint8 and float64 memory-mapped and read in place (no copy counted); float16
    widened to float32 once, the copy counted; shards read into one array of that type."""
    X = stored(dtype)
    np.save(tmp_path / "x.npy", X)
    mapped = open_features(tmp_path / "x.npy")
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable and mapped.dtype == X.dtype
    assert conversion_bytes(feature_array(mapped)) == (0 if in_place else 4 * X.size)
    joined = open_features(write_shards(tmp_path / "s", X))
    assert joined.dtype == (np.float32 if dtype == "float16" else X.dtype)
    np.testing.assert_array_equal(joined, X)
    assert conversion_bytes(feature_array(joined)) == 0


def test_score_takes_paths_too(tmp_path):
    X = stored("float32")
    expected = score(X, NOISY, seed=3)
    got = score(write_shards(tmp_path / "s", X), NOISY, seed=3)
    np.testing.assert_array_equal(got.scores, expected.scores)


def test_arrays_and_frames_pass_through():
    X = stored("float32")
    assert open_features(X) is X
    opened = open_input(X, NOISY, "1GiB")
    assert opened.X is X and opened.labels is NOISY and opened.memory_limit == "1GiB"


# -- the memory budget -----------------------------------------------------------------------


def test_the_array_read_from_shards_is_taken_out_of_the_budget(tmp_path):
    X = stored("float32")
    folder = write_shards(tmp_path / "s", X)
    assert open_input(folder, NOISY, 10**6).memory_limit == 10**6 - X.nbytes
    assert open_input(tmp_path / "s" / "part2.npy", NOISY, 10**6).memory_limit == 10**6  # memory-mapped: no copy
    # The least budget the in-memory run takes (whole data) is not enough once the shards are read into it.
    limit = 1
    for _ in range(5):
        try:
            diagnose(X, NOISY, chunk_size=150, memory_limit=limit)
            break
        except MemoryBudgetError as exc:
            limit = exc.required_bytes
    with pytest.raises(MemoryBudgetError):
        diagnose(folder, NOISY, chunk_size=150, memory_limit=limit)
    same_diagnosis(diagnose(folder, NOISY, chunk_size=150, memory_limit=limit + X.nbytes), diagnose(X, NOISY))


@pytest.mark.parametrize("kind", ["shards", "parquet"])
def test_an_array_too_large_for_the_budget_is_refused_before_allocation(tmp_path, kind):
    X = stored("float32")
    path = write_shards(tmp_path / "s", X) if kind == "shards" else write_parquet(tmp_path / "x.parquet", X)
    with pytest.raises(MemoryBudgetError) as info:
        open_input(path, "label", memory_limit=X.nbytes - 1)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "open_memmap" in message
    assert info.value.required_bytes == X.nbytes


_MEASURE = textwrap.dedent("""
    import json, sys
    import numpy as np
    from cgscore_native._sources import open_features
    from cgscore_native._validate import conversion_bytes, feature_array, to_kernel_rows
    from cgscore_native._prepare import prepare_features
    if len(sys.argv) > 2:  # a small file of the same kind first: Arrow's libraries, pools and threads
        open_features(sys.argv[2])

    def peak():
        # This process's peak RSS. Not ru_maxrss: Linux carries the parent's peak into it at exec
        # (the test process's, hundreds of MB), so it would hide any growth below that.
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

    base = peak()
    X = open_features(sys.argv[1])
    opened = peak()
    Xa = feature_array(X)
    copy = conversion_bytes(Xa)
    data, groups = prepare_features(to_kernel_rows(Xa), 1)  # every row read: checks, norms, duplicate hashes
    print(json.dumps({"open": opened - base, "read": peak() - base, "copy": copy, "groups": len(groups)}))
""")


def _measure(path: Path, warm_up: Path | None = None) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    args = [str(path)] + ([str(warm_up)] if warm_up is not None else [])
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# The input stage's memory besides X, measured at n = 2000 … 400 000 (64 features): about 30 MiB
# whatever n (the duplicate check's blocks of 2^20 entries: a float64 block, its int64 keys;
# allocator slack), plus about 40 bytes a row (status, 1/‖x‖, two hashes, their sort).
def _stage_bytes(n: int) -> int:
    return 40 * (1 << 20) + 64 * n


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_memory_of_a_mapped_npy_is_bounded_in_a_fresh_process(tmp_path):
    """200 000 × 64 float32 (51 MB): opening maps it (no growth), and the input stage reads
    every row in place: the peak grows by the mapped file's pages and fixed-size blocks, far
    below a float64 copy (102 MB, on top of the pages)."""
    n, d = 200_000, 64
    X = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(0)
    for start in range(0, n, 50_000):
        X[start:start + 50_000] = rng.normal(size=(50_000, d))
    X.flush()
    del X
    file_bytes, float64_copy = 4 * n * d, 8 * n * d
    grew = _measure(tmp_path / "big.npy")
    assert grew["copy"] == 0 and grew["groups"] == 0
    assert grew["open"] < 0.05 * file_bytes, grew  # mapped, not read
    bound = file_bytes + _stage_bytes(n)  # the file's pages (they count in RSS once touched) and the stage's
    assert bound < file_bytes + 0.7 * float64_copy  # a float64 copy on top would exceed it by far
    assert grew["read"] < bound, grew


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_memory_of_shards_is_one_array_in_the_stored_type(tmp_path):
    """Four shards of 25 000 × 64 float32: one array of their size (and the pages of the shard
    being copied), then the input stage reads it in place."""
    n, d, parts = 100_000, 64, 4
    rng = np.random.default_rng(1)
    for k in range(parts):
        np.save(tmp_path / f"part{k}.npy", rng.normal(size=(n // parts, d)).astype(np.float32))
    array_bytes = 4 * n * d
    grew = _measure(tmp_path)
    assert grew["copy"] == 0
    assert array_bytes < grew["open"] < array_bytes + array_bytes / parts + 8 * (1 << 20), grew
    assert grew["read"] < grew["open"] + _stage_bytes(n), grew


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_memory_of_a_parquet_column_is_one_array_in_the_stored_type(tmp_path):
    """200 000 × 64 float32 in row groups of 20 000: one array of its size and a few batches,
    not the column held by Arrow besides it (measured after reading a small file, so that
    Arrow's libraries, memory pool and threads are not counted)."""
    n, d = 200_000, 64
    X = np.random.default_rng(2).normal(size=(n, d)).astype(np.float32)
    write_parquet(tmp_path / "x.parquet", X, "fixed", labels=np.arange(n) % 3, row_group_size=20_000)
    write_parquet(tmp_path / "small.parquet", X[:30_000], "fixed", labels=np.arange(30_000) % 3,
                  row_group_size=20_000)
    array_bytes = 4 * n * d
    grew = _measure(tmp_path / "x.parquet", warm_up=tmp_path / "small.parquet")
    # (the warm-up's freed memory is reused, so the growth may fall short of the array)
    assert array_bytes / 2 < grew["open"] < array_bytes * 1.25 + 8 * (1 << 20), grew


# -- refusals, one line naming the file ------------------------------------------------------


def _refusal(tmp_path: Path, case: str) -> tuple[Path, Path, str]:
    """(what to open, the file the message names, a fragment of the message)."""
    good = stored("float32")
    folder = tmp_path / "shards"
    if case == "corrupt npy":
        bad = tmp_path / "x.npy"
        bad.write_bytes(b"not numpy at all, just text")
        return bad, bad, "not an .npy file"
    if case == "truncated npy":
        np.save(tmp_path / "x.npy", good)
        bad = tmp_path / "x.npy"
        bad.write_bytes(bad.read_bytes()[:-100])
        return bad, bad, "corrupt or truncated"
    if case == "pickled objects":
        bad = tmp_path / "x.npy"
        np.save(bad, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
        return bad, bad, "pickled"
    if case == "a pickle":
        bad = tmp_path / "x.npy"
        bad.write_bytes(pickle.dumps(good))
        return bad, bad, "pickled"
    if case == "int64 npy":
        bad = tmp_path / "x.npy"
        np.save(bad, np.arange(40).reshape(20, 2))
        return bad, bad, "stored as int64; cgscore reads float32, float16, uint8 or float64"
    if case == "big-endian":
        bad = tmp_path / "x.npy"
        np.save(bad, good.astype(">f4"))
        return bad, bad, "big-endian"
    if case == "shard of another dtype":
        write_shards(folder, good)
        np.save(folder / "part10.npy", good[7:64].astype(np.float16))
        return folder, folder / "part10.npy", "stored as float16 but part2.npy as float32"
    if case == "ragged shard":
        write_shards(folder, good)
        np.save(folder / "part11.npy", good[64:, :15])
        return folder, folder / "part11.npy", "rows of shape (16,)"
    if case == "corrupt shard":
        write_shards(folder, good)
        (folder / "part10.npy").write_bytes(b"\x93NUMPY garbage")
        return folder, folder / "part10.npy", "corrupt or truncated"
    if case == "pickled shard":
        write_shards(folder, good)
        np.save(folder / "part11.npy", np.array([[None]] * 3, dtype=object), allow_pickle=True)
        return folder, folder / "part11.npy", "pickled"
    if case == "empty folder":
        folder.mkdir()
        (folder / "notes.txt").write_text("no shards here")
        return folder, folder, "no .npy shards"
    if case == "unreadable shard":
        write_shards(folder, good)
        (folder / "part10.npy").chmod(0)
        return folder, folder / "part10.npy", "cannot read (Permission denied"
    if case == "missing path":
        return tmp_path / "nope.npy", tmp_path / "nope.npy", "no such file"
    if case == "unknown suffix":
        (tmp_path / "x.h5").write_bytes(b"")
        return tmp_path / "x.h5", tmp_path / "x.h5", "must be an .npy file"
    pa_table = {"a": np.arange(150.0), "label": NOISY}
    path = tmp_path / "x.parquet"
    if case == "parquet without list column":
        pq.write_table(pa.table(pa_table), path)
        return path, path, "no list column"
    if case == "parquet of two list columns":
        pq.write_table(pa.table({"u": list(good), "v": list(good), "label": NOISY}), path)
        return path, path, "keep one of them"
    if case == "parquet ragged lists":
        rows = [list(r) for r in good]
        rows[90] = rows[90][:5]
        pq.write_table(pa.table({"emb": pa.array(rows, type=pa.list_(pa.float32())), "label": NOISY}), path,
                       row_group_size=40)
        return path, path, "(row 90)"
    if case == "parquet null row":
        rows = [list(r) for r in good]
        rows[33] = None
        pq.write_table(pa.table({"emb": pa.array(rows, type=pa.list_(pa.float32())), "label": NOISY}), path)
        return path, path, "null) in rows 33"
    if case == "parquet int64 lists":
        pq.write_table(pa.table({"emb": [[1, 2]] * 150, "label": NOISY}), path)
        return path, path, "stored as int64"
    if case == "parquet without label column":
        write_parquet(path, good)
        return path, path, "no label column 'cls'"
    raise AssertionError(case)


def _denied_for(path: Path):
    """``open`` as for a user without read permission on ``path`` (root has it whatever the mode)."""
    import builtins

    def fake_open(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return builtins.open(file, *args, **kwargs)

    return fake_open


REFUSALS = ["corrupt npy", "truncated npy", "pickled objects", "a pickle", "int64 npy", "big-endian",
            "shard of another dtype", "ragged shard", "corrupt shard", "pickled shard", "empty folder",
            "unreadable shard", "missing path", "unknown suffix", "parquet without list column",
            "parquet of two list columns", "parquet ragged lists", "parquet null row", "parquet int64 lists",
            "parquet without label column"]


@pytest.mark.parametrize("case", REFUSALS)
def test_bad_inputs_are_refused_in_one_line_naming_the_file(tmp_path, monkeypatch, case):
    source, named, fragment = _refusal(tmp_path, case)
    if case == "unreadable shard" and os.geteuid() == 0:  # root reads files whatever their mode
        monkeypatch.setattr(_sources, "open", _denied_for(named), raising=False)
    with pytest.raises(DataFileError) as info:
        diagnose(source, "cls" if case == "parquet without label column" else NOISY)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{named}: "), message
    assert fragment in message, message


def test_float64_on_disk_is_accepted_in_place(tmp_path):
    X = BASE  # float64
    np.save(tmp_path / "x.npy", X)
    same_diagnosis(diagnose(tmp_path / "x.npy", NOISY), diagnose(X, NOISY))


# -- the command line --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory):
    """The float32 data as an .npy, shards and a Parquet list column, the labels as .npy and .txt,
    and the API's diagnosis of the array."""
    folder = tmp_path_factory.mktemp("disk")
    X = stored("float32")
    np.save(folder / "x.npy", X)
    write_shards(folder / "shards", X)
    write_parquet(folder / "x.parquet", X)
    np.save(folder / "y.npy", NOISY)
    (folder / "y.txt").write_text("\n".join(map(str, NOISY)) + "\n")
    return folder, diagnose(X, NOISY, seed=0)


@pytest.mark.parametrize("source, extra", [
    ("x.npy", ("--labels", "y.npy")),
    ("shards", ("--labels", "y.txt")),
    ("x.parquet", ()),  # the label column "label"
    ("x.parquet", ("--labels", "y.npy")),
])
def test_cli_reads_each_form(tmp_path, on_disk, source, extra):
    from cgscore_native.app.results import read_diagnosis

    folder, expected = on_disk
    extra = tuple(str(folder / e) if e.startswith("y.") else e for e in extra)
    proc = run_cli("diagnose", folder / source, "-o", tmp_path / "d.npz", "--quiet", "--seed", "0", *extra)
    assert proc.returncode == 0, proc.stderr
    frame = read_diagnosis(tmp_path / "d.npz")
    np.testing.assert_array_equal(frame["suspicion"].to_numpy(), expected.suspicion)
    np.testing.assert_array_equal(frame["suggested_label"].to_numpy(), expected.suggested_label)


def test_cli_refusals_are_one_line(tmp_path, on_disk):
    folder, _ = on_disk
    bad = write_shards(tmp_path / "bad", stored("float32"))
    np.save(bad / "part11.npy", stored("float32")[64:, :3])
    proc = run_cli("diagnose", bad, "--labels", folder / "y.npy", "-o", tmp_path / "d.csv")
    assert_one_line_error(proc, str(bad / "part11.npy"), "every shard needs rows of one shape")
    assert not (tmp_path / "d.csv").exists()
    proc = run_cli("diagnose", folder / "shards", "-o", tmp_path / "d.csv")
    assert_one_line_error(proc, "shards", "--labels FILE")
    proc = run_cli("diagnose", folder / "shards", "--labels", folder / "y.npy", "-o", tmp_path / "d.csv",
                   "--memory-limit", "5KiB")
    assert_one_line_error(proc, "shards", "open_memmap")
    proc = run_cli("diagnose", folder / "x.parquet", "--label-column", "cls", "-o", tmp_path / "d.csv")
    assert_one_line_error(proc, "x.parquet", "no label column 'cls'")
