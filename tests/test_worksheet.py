"""The diagnosis report as a relabel worksheet: every flagged row, most suspicious first, with its
path, given → suggested label, suspicion and its image as stored; paged; flagged.csv to download;
no list ranked by another score. The page is parsed (and, when chromium is installed, rendered
headless and screenshotted)."""

from __future__ import annotations

import html.parser
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from _cli_support import run_cli
from cgscore_native.app.loaders import load
from cgscore_native.app.report import write_report
from cgscore_native.app.results import read_diagnosis
from cgscore_native.datasets import load_digits

pd = pytest.importorskip("pandas")
Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

IMAGES, TRUTH = load_digits()
IMAGES, TRUTH = IMAGES[:300], TRUTH[:300]
GIVEN = TRUTH.copy()
MOVED = np.arange(1, 300, 10)  # 30 images in a wrong folder
GIVEN[MOVED] = (GIVEN[MOVED] + 4) % 10


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, Path, Path]:
    """An image folder (class names with '$' and spaces), its diagnosis and the report (8 rows a page)."""
    base = tmp_path_factory.mktemp("sheet")
    folder = base / "images"
    for row, (img, label) in enumerate(zip(IMAGES, GIVEN)):
        cls = folder / f"${label} note"
        cls.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img.astype(np.uint16) * 15).astype(np.uint8)).save(cls / f"img_{row:03d}.png")
    proc = run_cli("diagnose", folder, "-o", base / "d.csv", "--quiet")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("report", base / "d.csv", "--data", folder, "-o", base / "report", "--page-size", "8", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return folder, base / "d.csv", base / "report"


class _Page(html.parser.HTMLParser):
    """The worksheet's rows (cell texts, data-page, image sources), every link and heading."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.links: list[str] = []
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "flagged":
            self.rows.append({"page": int(a["data-page"]), "row": int(a["data-row"]), "cells": [], "img": None})
        elif tag == "td" and self.rows is not None:
            self._cell = []
        elif tag == "img":
            self.links.append(a["src"])
            if self.rows and a.get("class") == "thumb":
                self.rows[-1]["img"] = a["src"]
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "h2":
            self._in_heading = True
            self.headings.append("")

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            if self.rows:
                self.rows[-1]["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "h2":
            self._in_heading = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_heading:
            self.headings[-1] += data


def _parse(report: Path) -> _Page:
    page = _Page()
    page.feed((report / "index.html").read_text(encoding="utf-8"))
    return page


def test_the_worksheet_lists_every_flagged_row_most_suspicious_first(made):
    folder, table, report = made
    frame = read_diagnosis(table)
    flagged = frame[frame["is_label_issue"].astype(bool)].sort_values("suspicion", ascending=False, kind="stable")
    assert len(flagged) >= 25  # the moved files, nearly all found
    page = _parse(report)
    assert [r["row"] for r in page.rows] == list(flagged["index"])
    for r, (_, want) in zip(page.rows[:10], flagged.head(10).iterrows()):
        rank, path, given, arrow, suggested, suspicion = r["cells"][:6]
        assert path == want["path"] and arrow == "→"
        assert given == str(want["given_label"]) and suggested == str(want["suggested_label"])  # no Python quotes
        assert float(suspicion) == pytest.approx(want["suspicion"], rel=1e-3)
    assert [r["page"] for r in page.rows] == [i // 8 for i in range(len(page.rows))]
    # one list only: no CG-score ranking on a diagnosis page
    assert page.headings == ["Summary", "Relabel worksheet", "Suspicion distribution"]


def test_every_image_it_references_exists_decodes_and_is_drawn_as_stored(made):
    folder, table, report = made
    page = _parse(report)
    for src in page.links:
        assert (report / src).is_file(), src
    for r in page.rows:
        with Image.open(report / r["img"]) as shown:
            shown.load()
            path = r["cells"][1]
            with Image.open(folder / path) as original:
                np.testing.assert_array_equal(np.asarray(shown), np.asarray(original.convert("L")))  # not inverted


def test_the_download_holds_the_flagged_rows_in_worksheet_order(made):
    folder, table, report = made
    page = _parse(report)
    assert "flagged.csv" in page.links
    sheet = pd.read_csv(report / "flagged.csv")
    assert list(sheet["index"]) == [r["row"] for r in page.rows]
    assert list(sheet.columns)[:2] == ["path", "index"]
    assert sheet["is_label_issue"].all()


def test_labels_with_dollar_signs_are_drawn_literally_on_a_scores_page(tmp_path):
    labels = np.array(["$5", "$_$", "$\\bad$"])[TRUTH % 3]  # the last two are errors as mathtext
    frame = pd.DataFrame({"index": np.arange(300), "label": labels, "cg_score": np.linspace(1.0, 2.0, 300)})
    data = load("digits")
    data.X, data.labels = IMAGES, labels
    page = write_report(frame, tmp_path / "r", data)  # distribution ticks and image titles carry the labels
    text = page.read_text(encoding="utf-8")
    assert "'$5'" not in text and "distribution.png" in text and "top_k.png" in text


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_the_page_renders_in_a_headless_browser(made, tmp_path):
    folder, table, report = made
    shot = tmp_path / "page.png"
    proc = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
         "--window-size=1100,1400", (report / "index.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert shot.is_file(), proc.stderr
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("L"))
    assert pixels.shape == (1400, 1100)
    assert pixels.std() > 10  # text, tables and images drawn, not a blank page
