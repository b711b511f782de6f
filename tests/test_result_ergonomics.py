"""The result object and the progress bar as a user meets them: a short repr, a staged bar with a total."""

from __future__ import annotations

import re

import numpy as np
import pytest

import cgscore_native as cg
from cgscore_native import _progress, diagnosis


@pytest.fixture(scope="module")
def digits_diagnosis(noisy_digits):
    X, noisy, _ = noisy_digits
    return cg.diagnose(X, np.array([f"digit_{v}" for v in noisy]))


def test_repr_is_short_and_names_what_matters(digits_diagnosis):
    d = digits_diagnosis
    text = repr(d)
    assert len(text) < 600  # was 17 430 characters of raw arrays; measured 419
    assert len(text.splitlines()) == 8  # the head, "top suspects:", five suspects, ")"
    flagged = int(d.is_label_issue.sum())
    assert text.startswith(f"Diagnosis(n={len(d)}, classes=10 ['digit_0', 'digit_1'")
    assert f"flagged={flagged} ({flagged / len(d):.1%})" in text
    assert f"kernel={d.kernel}" in text and f"ridge={d.ridge:g}" in text
    assert f"estimated_noise_rate={d.estimated_noise_rate:.1%}" in text
    # The top suspects, most suspicious first, with given -> suggested labels.
    top = d.ranking()[:5]
    shown = re.findall(r"^\s+(\d+): (\S+) -> (\S+) \(suspicion", text, flags=re.M)
    assert [int(i) for i, _, _ in shown] == list(top)
    assert [(g, s) for _, g, s in shown] == [(d.labels[i], d.suggested_label[i]) for i in top]


def test_repr_of_a_clean_run_has_no_suspects_list():
    X = np.vstack([np.eye(4)[[0]] + 0.01 * np.arange(5)[:, None], np.eye(4)[[1]] + 0.01 * np.arange(5)[:, None]])
    d = cg.diagnose(X, np.repeat(["a", "b"], 5), ridge=0.1, rounds=0)
    assert not d.is_label_issue.any()
    assert repr(d).endswith("estimated_noise_rate=0.0%)") and "\n" not in repr(d)


class RecordingBar:
    """Stands in for tqdm: what the staged bar was told."""

    def __init__(self, total):
        self.total, self.n, self.descriptions, self.closed = total, 0, [], False

    def update(self, n=1):
        self.n += n

    def set_description_str(self, desc=None, refresh=True):
        self.descriptions.append(desc)

    def refresh(self):
        pass

    def close(self):
        self.closed = True


def record_bars(monkeypatch) -> list[RecordingBar]:
    bars: list[RecordingBar] = []

    def fake(total, enabled, description="", unit=""):
        bars.append(RecordingBar(total))
        return bars[-1]

    monkeypatch.setattr(diagnosis, "progress_bar", fake)
    return bars


@pytest.mark.parametrize("args", [dict(), dict(ridge=0.1), dict(rounds=0), dict(chunk_size=300, repeats=2, seed=1),
                                  dict(ridge_search="grid", ridge_grid=[0.0, 0.01, 0.1])])
def test_the_bar_counts_every_fit_out_of_its_total(noisy_digits, monkeypatch, args):
    X, noisy, _ = noisy_digits
    bars = record_bars(monkeypatch)
    cg.diagnose(X[:600], noisy[:600], **args)
    (bar,) = bars
    assert bar.closed and bar.n > 0
    assert bar.n == bar.total  # a full bar at the end, never past it
    stages = " | ".join(bar.descriptions)
    assert stages.startswith("diagnose: ")
    if not isinstance(args.get("ridge"), float):
        assert "λ search" in stages
    if args.get("rounds", 1):
        assert "cleaning round" in stages


def test_the_bar_on_stderr_names_its_stages_and_total(noisy_digits, capsys):
    pytest.importorskip("tqdm")
    X, noisy, _ = noisy_digits
    capsys.readouterr()
    cg.diagnose(X[:400], noisy[:400], progress=True)
    err = capsys.readouterr().err
    assert "diagnose: λ search, round 0 at λ = " in err
    assert "diagnose: cleaning round" in err
    counts = re.findall(r"(\d+)/(\d+) \[", err)
    assert counts, err[-500:]
    assert {int(t) for _, t in counts} >= {int(counts[-1][1])} and int(counts[-1][0]) <= int(counts[-1][1])
    assert "fit" in err


def test_the_silent_bar_accepts_the_staged_calls():
    bar = _progress.StagedBar(_progress.progress_bar(5, False), 5)
    bar.stage("round 0", 3, 2)
    bar.update(3)
    bar.close()
    assert bar.done == 3 and bar.total == 5
