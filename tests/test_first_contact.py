"""A new user's first ten minutes: the README's commands, the install, the licences, the docs."""

from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native._optional import INSTALL_ALL, missing, require
from cgscore_native.errors import MissingDependencyError

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _quickstart() -> list[str]:
    """The lines between the README's quickstart markers, without the code fence."""
    block = README.split("<!-- quickstart-begin", 1)[1].split("<!-- quickstart-end -->", 1)[0]
    return [line for line in block.splitlines()[1:] if line.strip() and not line.startswith("```")]


# -- item 1: the two commands -----------------------------------------------------------------------


def test_readme_quickstart_is_two_commands_a_new_user_can_run():
    first, second = _quickstart()
    steps = [s.strip() for s in first.split("&&")]
    assert steps[0] == "python3 -m venv .venv" and steps[1] == ". .venv/bin/activate"  # python3: Debian has no `python`
    assert "pip install ." in steps and steps[-1] == "cgscore demo"
    assert second == 'pip install ".[test]" && python -m pytest'
    # What to install first: one apt-get line and one macOS line, before the commands.
    before = README.split("<!-- quickstart-begin", 1)[0]
    assert re.search(r"apt-get install -y .*python3-venv.*g\+\+", before)
    assert "xcode-select --install" in before


def test_ci_runs_the_readme_commands_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for line in _quickstart():
        assert line in ci, f".ci/run does not run the README's {line!r}"
    assert any(line.startswith("ruff check") for line in ci) and any(line.startswith("mypy") for line in ci)


def test_check_quickstart_script_extracts_the_same_commands():
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "check_quickstart.sh"), "--print"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == _quickstart()


# -- item 2: the first install is complete for the main jobs ------------------------------------------


def _requirements(extra: str | None = None) -> set[str]:
    """Names of the distribution's requirements (the core, or one extra)."""
    names = set()
    for req in metadata.requires("cgscore-native") or []:
        marker = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", req)
        if (marker.group(1) if marker else None) == extra:
            names.add(re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0].lower())
    return names


def test_core_dependencies_cover_the_main_jobs_and_leave_the_rest_to_extras():
    core = _requirements()
    assert {"numpy", "pandas", "matplotlib", "pillow", "tqdm"} <= core
    assert not core & {"pyarrow", "dask", "scikit-learn", "cleanlab", "scipy"}
    assert "pyarrow" in _requirements("io") and "cleanlab" in _requirements("baselines")


_BLOCK = "import sys\nfor m in ('pyarrow', 'sklearn', 'cleanlab', 'dask', 'distributed', 'scipy'): sys.modules[m] = None\n"


def _bare(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter in which no optional package imports."""
    return subprocess.run([sys.executable, "-c", _BLOCK + code], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})


def test_main_jobs_run_without_any_extra(tmp_path):
    cli = "from cgscore_native.app.cli import main\n"
    jobs = [
        "sys.exit(main(['score', 'digits', '-o', 'scores.csv', '--seed', '0', '--quiet']))",
        "sys.exit(main(['score', 'digits', '-o', 'scores.npz', '--seed', '0', '--quiet']))",
        "sys.exit(main(['report', 'scores.csv', '--data', 'digits', '-o', 'report', '--quiet']))",
        "sys.exit(main(['prune', 'scores.npz', '--keep', '0.7', '-o', 'keep.txt', '--quiet']))",
        "sys.exit(main(['demo', '--report', 'demo-report', '--top', '1']))",
    ]
    for job in jobs:
        proc = _bare(cli + job, tmp_path)
        assert proc.returncode == 0, (job, proc.stderr)
    assert (tmp_path / "report" / "index.html").is_file() and (tmp_path / "demo-report" / "index.html").is_file()
    assert len((tmp_path / "keep.txt").read_text().split()) == sum(
        max(1, round(0.7 * m)) for m in np.unique(cg.load_digits()[1], return_counts=True)[1])
    proc = _bare("import cgscore_native as cg\nX, y = cg.load_digits()\n"
                 "df = cg.score(X[:300], y[:300], seed=0).to_frame()\nprint(len(df), list(df.columns)[:3])", tmp_path)
    assert proc.returncode == 0 and proc.stdout.split() == ["300", "['index',", "'label',", "'cg_score']"], proc.stderr


def test_every_missing_dependency_message_names_the_one_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependencyError) as info:
        require("pyarrow", "io", "Writing Parquet files")
    assert str(info.value).endswith(f"run {INSTALL_ALL} in the cgscore_native source folder")
    assert "pyarrow" in str(info.value) and "\n" not in str(info.value)
    assert INSTALL_ALL == 'pip install ".[all]"' and INSTALL_ALL in str(missing("dask.distributed", "--scheduler"))
    assert INSTALL_ALL in README and "cgscore-native[" not in README  # the package is not on an index


# -- item 3: docs, licences, version -----------------------------------------------------------------


def test_license_file_is_mit_and_matches_pyproject():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 cgscore_native developers" in text
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_digits_attribution_ships_inside_the_package():
    data = resources.files("cgscore_native").joinpath("data")
    text = data.joinpath("LICENSE-digits.txt").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "Alpaydin" in text and "Kaynak" in text and "digits.npz" in text
    assert data.joinpath("digits.npz").is_file()  # the attribution sits next to the data it covers


def test_readme_cites_the_docs_in_the_repository_not_the_spec():
    assert "SPEC" not in README
    for target in re.findall(r"\]\(((?:docs|python|bench)/[^)#]+)", README):
        if target != "docs/integrations.md":  # the adapters' page arrives with the adapters
            assert (ROOT / target).exists(), target
    assert "docs/math.md" in README and "docs/integrations.md" in README
    math = (ROOT / "docs" / "math.md").read_text(encoding="utf-8")
    for anchor in re.findall(r"docs/math\.md#([\w-]+)", README) + re.findall(r"\]\(#([\w-]+)\)", math):
        headings = [re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", math, re.M)]
        assert anchor in headings, anchor


# The worked example of docs/math.md: four unit vectors at 0°, 60°, 120°, 180°.
_THETA = np.deg2rad([0, 60, 120, 180])
_X = np.c_[np.cos(_THETA), np.sin(_THETA)]


def _exact_scores(y: list[int]) -> list[Fraction]:
    """CG_i = C(y) − C(y₋ᵢ) in exact rational arithmetic from 12·H (the hand computation)."""
    M = [[6, 2, -1, 0], [2, 6, 2, -1], [-1, 2, 6, 2], [0, -1, 2, 6]]

    def complexity(rows: list[int]) -> Fraction:  # yᵀH⁻¹y by Gauss–Jordan on H = M/12
        A = [[Fraction(M[r][c], 12) for c in rows] + [Fraction(y[r])] for r in rows]
        for c in range(len(rows)):
            A[c] = [v / A[c][c] for v in A[c]]
            for r in range(len(rows)):
                if r != c:
                    A[r] = [a - A[r][c] * b for a, b in zip(A[r], A[c])]
        return sum((Fraction(y[r]) * A[i][-1] for i, r in enumerate(rows)), Fraction(0))

    full = complexity([0, 1, 2, 3])
    return [full - complexity([j for j in range(4) if j != i]) for i in range(4)]


def test_worked_example_of_the_docs_by_hand_and_by_the_package():
    math = (ROOT / "docs" / "math.md").read_text(encoding="utf-8")
    exact = _exact_scores([1, 1, -1, -1])
    assert exact == [Fraction(94, 385), Fraction(282, 155), Fraction(282, 155), Fraction(94, 385)]
    assert "94/385" in math and "282/155" in math
    np.testing.assert_allclose(cg.cg_score_binary(_X, [1, 1, -1, -1]), [float(f) for f in exact], rtol=1e-10)
    # The protocol with two classes of two rows: every problem holds all four rows.
    np.testing.assert_allclose(cg.score(_X, ["a", "a", "b", "b"], seed=0).scores, [float(f) for f in exact], rtol=1e-10)
    flipped = [float(f) for f in _exact_scores([1, -1, -1, -1])]
    np.testing.assert_allclose(cg.cg_score_binary(_X, [1, -1, -1, -1]), flipped, rtol=1e-10)
    assert "(" + ", ".join(f"{v:.3f}" for v in flipped) + ")" in math
    assert int(np.argmax(flipped)) == 1  # the flipped row scores highest


def test_sub_terms_of_the_worked_example():
    res = cg.score(_X, ["a", "a", "b", "b"], seed=0, subterms=True)
    a2, ab, b2 = (res.subterms[k][0] for k in ("a2", "ab", "b2"))
    assert (round(a2, 4), round(ab, 4), round(b2, 4)) == (1.2654, -1.8213, 2.6213)


def test_version_is_one_string():
    assert cg.__version__ == metadata.version("cgscore-native")
