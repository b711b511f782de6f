"""The relabel worksheet of a diagnosis report: every flagged row, most suspicious first.

One table row per flagged instance: rank, its name (file path, ID or row), given → suggested
label, suspicion and, for images, the image itself as a PNG of its own, drawn as stored (no
colour map, no inversion) and loaded lazily by the browser. The table is paged by a few lines
of script (``page_size`` rows a page; without script every row shows), and ``flagged.csv``
beside the page holds the same rows for a spreadsheet.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from .loaders import Dataset
from .results import RUN_COLUMNS

FLAGGED_CSV = "flagged.csv"
IMAGE_FOLDER = "flagged"
DEFAULT_PAGE_SIZE = 100
# The columns a result table may hold besides a row ID (whose name is the user's: "path", an
# --id-column's name): the first other column is the ID.
KNOWN_COLUMNS = frozenset({
    "index", "label", "given_label", "suggested_label", "suspicion", "is_label_issue", "rank", "cg_score",
    "multiclass_cg_score", "percentile_in_class", "std", "count", "duplicate_group", "conflicting_duplicate",
    "a2", "b2", "ab", *RUN_COLUMNS,
})
_THUMBNAIL_PX = 96  # the shortest side drawn on the page (pixels are enlarged without smoothing)


def id_column(frame: Any) -> str | None:
    """The name of a result table's row-ID column, or None."""
    return next((str(c) for c in frame.columns if str(c) not in KNOWN_COLUMNS), None)


def row_names(frame: Any, data: Dataset | None) -> tuple[str, list[str]]:
    """(heading, one name per row): the table's ID column, else the data's IDs, else the row number."""
    name = id_column(frame)
    if name is not None:
        return name, [str(v) for v in frame[name].to_numpy()]
    if data is not None and data.ids is not None:
        return data.id_name or "id", [str(v) for v in data.ids]
    return "row", [str(i) for i in range(len(frame))]


def flagged_rows(frame: Any) -> np.ndarray:
    """The flagged rows' positions, most suspicious first (ties by row order)."""
    suspicion = frame["suspicion"].to_numpy(dtype=np.float64)
    flagged = np.flatnonzero(frame["is_label_issue"].to_numpy().astype(bool))
    return flagged[np.argsort(-suspicion[flagged], kind="stable")]


def write_worksheet(frame: Any, data: Dataset | None, out: Path, page_size: int = DEFAULT_PAGE_SIZE) -> str:
    """The worksheet section's HTML; writes ``flagged.csv`` and the flagged images into ``out``."""
    rows = flagged_rows(frame)
    heading, names = row_names(frame, data)
    suspicion = frame["suspicion"].to_numpy(dtype=np.float64)
    given, suggested = frame["given_label"].to_numpy(), frame["suggested_label"].to_numpy()
    worksheet = frame.iloc[rows]
    if heading not in worksheet.columns and data is not None and data.ids is not None:  # the data's IDs, first
        worksheet = worksheet.assign(**{heading: [names[r] for r in rows]})
        worksheet = worksheet[[heading] + [c for c in worksheet.columns if c != heading]]
    worksheet.to_csv(out / FLAGGED_CSV, index=False)
    note = (f"<p>{rows.size} of {len(frame)} instances are flagged: their leave-one-out prediction favours another "
            "class than the given one (suspicion &gt; 0). Most suspicious first; relabel them, or check them, "
            f"from the top. <a href='{FLAGGED_CSV}' download>Download the {rows.size} flagged rows as CSV</a>.</p>")
    if not rows.size:
        return "<h2 id='worksheet'>Relabel worksheet</h2><p>No instance is flagged: every given label is the one " \
               "the rest of the data predicts.</p>"
    images = data is not None and data.is_image
    if images:
        assert data is not None
        (out / IMAGE_FOLDER).mkdir()
        scale = _display_range(data.X)
    head = ["rank", heading, "given label", "", "suggested label", "suspicion"] + (["image"] if images else [])
    body = []
    for i, r in enumerate(rows):
        cells = [str(i + 1), _esc(names[r]), _esc(given[r]), "→", f"<b>{_esc(suggested[r])}</b>", f"{suspicion[r]:.4g}"]
        if images:
            assert data is not None
            src = f"{IMAGE_FOLDER}/{int(r)}.png"
            width = _save_image(data.X[r], scale, out / src)
            cells.append(f"<img class='thumb' src='{src}' loading='lazy' width='{width[0]}' height='{width[1]}' "
                         f"alt='{_esc(names[r])}'>")
        body.append((i // page_size, cells))
    th = "".join(f"<th>{h}</th>" for h in head)
    tr = "".join(f"<tr class='flagged' data-page='{page}' data-row='{int(rows[i])}'>"
                 + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" for i, (page, cells) in enumerate(body))
    pages = (rows.size + page_size - 1) // page_size
    nav = (f"<p class='pager' data-pages='{pages}'>page <span id='page-number'>1</span> of {pages} "
           "<button type='button' id='page-prev'>previous</button> <button type='button' id='page-next'>next</button></p>"
           if pages > 1 else "")
    return (f"<h2 id='worksheet'>Relabel worksheet</h2>{note}{nav}"
            f"<table id='worksheet-table'><thead><tr>{th}</tr></thead><tbody>{tr}</tbody></table>{nav and _PAGER}")


# Shows one page of the worksheet at a time; without script every row stays visible.
_PAGER = """<script>
(function () {
  var rows = document.querySelectorAll("#worksheet-table tr.flagged");
  var pager = document.querySelector(".pager"), pages = +pager.dataset.pages, page = 0;
  function show(p) {
    page = Math.max(0, Math.min(pages - 1, p));
    rows.forEach(function (tr) { tr.style.display = +tr.dataset.page === page ? "" : "none"; });
    document.getElementById("page-number").textContent = page + 1;
  }
  document.getElementById("page-prev").onclick = function () { show(page - 1); };
  document.getElementById("page-next").onclick = function () { show(page + 1); };
  show(0);
})();
</script>"""


def _display_range(X: np.ndarray) -> tuple[float, float] | None:
    """None for uint8 pixels (drawn as they are); else the data's range, mapped onto 0–255."""
    if X.dtype == np.uint8:
        return None
    lo, hi = float(np.min(X)), float(np.max(X))
    if lo >= 0 and hi <= 1 and X.dtype.kind == "f":
        return 0.0, 1.0  # pixels stored in [0, 1]
    return (min(lo, 0.0), hi if hi > min(lo, 0.0) else min(lo, 0.0) + 1.0)


def _save_image(img: np.ndarray, scale: tuple[float, float] | None, path: Path) -> tuple[int, int]:
    """One instance as a PNG of its own pixels (grey, RGB or RGBA); returns its display size."""
    from PIL import Image

    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if scale is not None:
        lo, hi = scale
        img = np.clip(np.round((img.astype(np.float64) - lo) / (hi - lo) * 255), 0, 255)
    pixels = np.ascontiguousarray(img.astype(np.uint8))
    Image.fromarray(pixels).save(path)  # mode from the shape: L, RGB or RGBA
    h, w = pixels.shape[:2]
    zoom = max(1, _THUMBNAIL_PX // max(1, min(h, w)))
    return w * zoom, h * zoom


def _esc(value: Any) -> str:
    return html.escape(str(value))
