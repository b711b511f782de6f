"""`cgscore score` end to end in a subprocess: every input and output format gives the API's scores."""

from __future__ import annotations

import numpy as np
import pytest

from _cli_support import assert_one_line_error, run_cli, small_digits
from cgscore_native import score
from cgscore_native.app.results import read_scores

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
Image = pytest.importorskip("PIL.Image")

SEED = 3
IMAGES, LABELS = small_digits(200)
FLAT = IMAGES.reshape(len(IMAGES), -1).astype(np.float64)


def _expected(X=IMAGES, labels=LABELS, **kw):
    return score(X, labels, seed=SEED, ratio=0.5, repeats=2, **kw)


def _score(tmp_path, *inputs, out="scores.csv", extra=()):
    proc = run_cli("score", *inputs, "-o", tmp_path / out, "--seed", SEED, "--ratio", 0.5, "--repeats", 2,
                   "--quiet", *extra)
    assert proc.returncode == 0, proc.stderr
    return read_scores(tmp_path / out)


def _check(frame, expected, labels=LABELS):
    np.testing.assert_array_equal(frame["cg_score"].to_numpy(), expected.scores)  # bit-exact
    np.testing.assert_array_equal(frame["std"].to_numpy(), expected.std)
    np.testing.assert_array_equal(frame["index"].to_numpy(), np.arange(len(labels)))
    assert [str(v) for v in frame["given_label"]] == [str(v) for v in labels]
    ranks = frame["rank"].to_numpy()
    assert ranks[np.argmax(expected.scores)] == 1 and sorted(ranks) == list(range(1, len(labels) + 1))


@pytest.mark.parametrize("out", ["scores.csv", "scores.parquet", "scores.npz"])
def test_npz_input_each_output_format(tmp_path, out):
    np.savez(tmp_path / "d.npz", X=IMAGES, y=LABELS)
    frame = _score(tmp_path, tmp_path / "d.npz", out=out)
    _check(frame, _expected())
    expected_columns = ["index", "given_label", "cg_score", "rank", "percentile_in_class", "std", "count",
                        "duplicate_group", "conflicting_duplicate"]
    assert list(frame.columns) == expected_columns


def test_npy_with_labels_file(tmp_path):
    np.save(tmp_path / "X.npy", FLAT)
    (tmp_path / "y.txt").write_text("\n".join(map(str, LABELS)))
    _check(_score(tmp_path, tmp_path / "X.npy", extra=("--labels", tmp_path / "y.txt")), _expected(FLAT))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_input(tmp_path, suffix):
    table = pd.DataFrame(FLAT, columns=[f"p{i}" for i in range(64)])
    table["digit"] = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[LABELS]
    path = tmp_path / f"t{suffix}"
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    frame = _score(tmp_path, path, extra=("--label-column", "digit"))
    _check(frame, _expected(FLAT, table["digit"].to_numpy()), table["digit"].to_numpy())


def test_image_folder_input(tmp_path):
    files = []
    for i, (img, y) in enumerate(zip(IMAGES, LABELS)):
        (tmp_path / "imgs" / str(y)).mkdir(parents=True, exist_ok=True)
        # Zero-padded names keep each class folder's order equal to the rows' order.
        files.append(tmp_path / "imgs" / str(y) / f"{i:04d}.png")
        Image.fromarray((img * 15).astype(np.uint8)).save(files[-1])
    order = sorted(range(len(files)), key=lambda i: (str(LABELS[i]), files[i].name))
    frame = _score(tmp_path, tmp_path / "imgs")
    expected = _expected((IMAGES * 15)[order], LABELS[order].astype(str))
    _check(frame, expected, LABELS[order])


def test_digits_keyword_and_subterms(tmp_path):
    images, target = small_digits(1797)
    proc = run_cli("score", "digits", "-o", tmp_path / "s.npz", "--seed", SEED, "--subterms", "--threads", 1)
    assert proc.returncode == 0, proc.stderr
    frame = read_scores(tmp_path / "s.npz")
    expected = score(images, target, seed=SEED, subterms=True)
    np.testing.assert_array_equal(frame["cg_score"].to_numpy(), expected.scores)
    for name in ("a2", "b2", "ab"):  # the sub-terms of the API, every digit
        np.testing.assert_array_equal(frame[name].to_numpy(), expected.subterms[name])
    assert f"seed {SEED}" in proc.stdout and "CG-score" in proc.stderr  # summary and progress bar


def test_quiet_is_silent_and_refuses_to_overwrite(tmp_path):
    np.savez(tmp_path / "d.npz", X=IMAGES, y=LABELS)
    first = run_cli("score", tmp_path / "d.npz", "-o", tmp_path / "s.csv", "--seed", 1, "--quiet")
    assert first.returncode == 0 and first.stdout == "" and first.stderr == ""
    before = (tmp_path / "s.csv").read_bytes()
    again = run_cli("score", tmp_path / "d.npz", "-o", tmp_path / "s.csv", "--seed", 2, "--quiet")
    assert_one_line_error(again, "exists", "--force")
    assert (tmp_path / "s.csv").read_bytes() == before
    forced = run_cli("score", tmp_path / "d.npz", "-o", tmp_path / "s.csv", "--seed", 2, "--quiet", "--force")
    assert forced.returncode == 0 and (tmp_path / "s.csv").read_bytes() != before


def test_duplicates_are_flagged_and_warned_in_one_line(tmp_path):
    X, y = FLAT[:40].copy(), LABELS[:40].copy()
    X[5], y[5] = 2 * X[4], y[4]  # equal after normalization, same label
    X[9], y[9] = X[8], (y[8] + 1) % 10  # a conflicting duplicate
    np.savez(tmp_path / "d.npz", X=X, y=y)
    proc = run_cli("score", tmp_path / "d.npz", "-o", tmp_path / "s.csv", "--seed", 0, "--quiet")
    assert proc.returncode == 0
    assert [line for line in proc.stderr.splitlines() if line.startswith("cgscore: warning:")]
    assert "Traceback" not in proc.stderr
    frame = read_scores(tmp_path / "s.csv")
    assert frame["duplicate_group"][4] == frame["duplicate_group"][5] >= 0
    assert frame["conflicting_duplicate"][9] and not frame["conflicting_duplicate"][4]


BAD = {
    "missing": (lambda p: p / "none.npz", "no such file"),
    "corrupt": (lambda p: (p / "c.npz").write_bytes(b"PK\x03\x04garbage") and p / "c.npz", "corrupt .npz"),
    "pickled": (lambda p: (p / "p.npz").write_bytes(b"\x80\x04\x95pickle") and p / "p.npz", "pickled"),
    "wrong shape": (lambda p: np.savez(p / "w.npz", X=FLAT, y=LABELS[:10]) or p / "w.npz", "200 instances but 10"),
    "NaN": (lambda p: np.savez(p / "n.npz", X=np.where(np.arange(64) == 3, np.nan, FLAT), y=LABELS) or p / "n.npz",
            "NaN or infinite"),
    "one class": (lambda p: np.savez(p / "o.npz", X=FLAT, y=np.zeros(200)) or p / "o.npz", "at least 2"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_inputs_fail_in_one_line_and_write_nothing(tmp_path, case):
    make, fragment = BAD[case]
    proc = run_cli("score", make(tmp_path), "-o", tmp_path / "out.csv")
    assert_one_line_error(proc, "cgscore: error:", fragment)
    assert not (tmp_path / "out.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.csv")]  # no temporary left behind


def test_usage_errors_are_one_line(tmp_path):
    assert_one_line_error(run_cli("score", "digits"), "required", "--help")
    assert_one_line_error(run_cli("score", "digits", "-o", tmp_path / "s.xlsx"), ".csv, .parquet, .npz")
    assert_one_line_error(run_cli("score", "digits", "-o", tmp_path / "s.csv", "--memory-limit", "lots"), "size")
    assert_one_line_error(run_cli("score", "digits", "-o", tmp_path / "s.csv", "--memory-limit", "1KiB"),
                          "memory")
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("command", ["score", "report", "prune", "noise-bench", "demo"])
def test_help_has_an_example(command):
    proc = run_cli(command, "--help")
    assert proc.returncode == 0 and "example:" in proc.stdout and "cgscore " in proc.stdout


def test_output_equal_to_the_input_is_refused_even_with_force(tmp_path):
    np.savez(tmp_path / "d.npz", X=IMAGES.reshape(len(IMAGES), -1), y=LABELS)
    pd.DataFrame({"f0": np.arange(6.0), "label": [0, 1] * 3}).to_csv(tmp_path / "t.csv", index=False)
    before = (tmp_path / "t.csv").read_bytes()
    proc = run_cli("score", tmp_path / "t.csv", "-o", tmp_path / "t.csv", "--force", "--quiet")
    assert_one_line_error(proc, "destroy the input")
    assert (tmp_path / "t.csv").read_bytes() == before
    proc = run_cli("noise-bench", tmp_path / "d.npz", "-o", tmp_path, "--force", "--quiet", "--methods", "random")
    assert_one_line_error(proc, "destroy the input")
    assert (tmp_path / "d.npz").exists()


def test_an_unwritable_destination_is_refused_before_scoring(tmp_path, monkeypatch):
    from cgscore_native import api
    from cgscore_native.app import cli

    np.savez(tmp_path / "d.npz", X=IMAGES.reshape(len(IMAGES), -1), y=LABELS)
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(api, "score", lambda *a, **k: pytest.fail("scored before checking the destination"))
    assert cli.main(["score", str(tmp_path / "d.npz"), "-o", str(tmp_path / "file" / "s.csv"), "--quiet"]) == 2
