"""An HTML report of a scores table (or of a label diagnosis): one page plus PNG plots, opened from disk with no server.

The page shows the score distribution of every class, the top-k and bottom-k instances
(drawn as pictures when the data are images, listed as rows otherwise), a table of suspected
mislabels (the highest scores, with the label most of their nearest neighbours carry) and the
duplicate groups the scorer found. A diagnosis page is a relabel worksheet instead (``worksheet.py``):
every flagged row, most suspicious first, then the suspicion's distribution with the flag threshold;
no list ranked by another score. Plots are drawn with matplotlib's Agg canvas, so no display is
needed; images are drawn as stored (grey levels not inverted) and labels literally (no mathtext).
"""

from __future__ import annotations

import html
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..utils import atomic_directory, conflicting_groups, require
from .loaders import Dataset, with_image_size
from .worksheet import DEFAULT_PAGE_SIZE, write_worksheet

_NEIGHBOURS = 10
_MAX_FEATURES_SHOWN = 8
_MAX_GROUPS_SHOWN = 50
_MAX_CLASSES_PLOTTED = 40


def write_report(
    frame: Any,
    out_dir: str | os.PathLike,
    data: Dataset | None = None,
    *,
    top_k: int = 16,
    suspects: int = 25,
    page_size: int = DEFAULT_PAGE_SIZE,
    force: bool = False,
    title: str = "CG-score report",
    image_size: tuple[int, ...] | None = None,
) -> Path:
    """Write ``index.html`` and its PNG plots into ``out_dir`` (atomically); return the page's path.

    ``frame`` is a scores table (``CGResult.to_frame()`` or ``writers.read_scores``) or a
    diagnosis table (``Diagnosis.to_frame()`` or ``results.read_diagnosis``; told apart by its
    ``suspicion`` column), ``data`` the data set it was computed from, in the same row order, to
    draw or list the instances. A diagnosis adds the suggested relabels and the suspicion's
    distribution with the flag threshold, and its ``given_label`` serves as the label.

    A diagnosis page is a relabel worksheet (``worksheet.py``): every flagged row, most suspicious
    first, ``page_size`` rows a page, with its name (the table's ID column, e.g. the image's path),
    given → suggested label, suspicion and image, and ``flagged.csv`` to download; then the
    suspicion's distribution. A scores page shows the CG-score's distribution, both ends and the
    suspects ranked by it. ``suspects`` is the length of that list.
    ``image_size=(height, width[, channels])`` draws flat rows as images of that size (as
    ``--image-size`` does; ``loaders.with_image_size`` says which layouts are understood).
    """
    require("matplotlib", "report", "The report")
    if image_size is not None:
        if data is None:
            raise ValueError("image_size needs the data: pass the data set the scores came from.")
        data = with_image_size(data, image_size)
    if data is not None and len(data) != len(frame):
        raise ValueError(
            f"the data have {len(data)} instances but the scores file has {len(frame)} rows; "
            "pass the data the scores were computed from."
        )
    if isinstance(page_size, bool) or not isinstance(page_size, (int, np.integer)) or page_size < 1:
        raise ValueError(f"page_size must be a whole number >= 1; got {page_size!r}.")
    if "suspicion" in frame.columns:
        return _write_diagnosis_report(frame, Path(out_dir), data, page_size, force,
                                       "Label diagnosis report" if title == "CG-score report" else title)
    scores = frame["cg_score"].to_numpy(dtype=np.float64)
    labels = _given_labels(frame)
    top = np.argsort(-scores, kind="stable")[:top_k]
    bottom = np.argsort(scores, kind="stable")[:top_k]
    out_dir = Path(out_dir)
    with atomic_directory(out_dir, force) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # matplotlib font-cache notes on a fresh machine
        sections = [_summary(frame, data), _distribution(scores, labels, tmp)]
        ends = [("Highest scores (most irregular)", "top_k.png", top),
                ("Lowest scores (most redundant)", "bottom_k.png", bottom)]
        for heading, png, rows in ends:
            if data is not None and data.is_image:
                sections.append(_image_section(heading, png, data.X, rows, labels, scores, tmp))
            else:
                sections.append(_row_section(heading, data, rows, labels, scores))
        sections.append(_suspects(frame, data, suspects))
        sections.append(_duplicates(frame))
        (tmp / "index.html").write_text(_page(title, sections), encoding="utf-8")
    return out_dir / "index.html"


def _write_diagnosis_report(frame, out_dir: Path, data: Dataset | None, page_size: int, force: bool, title: str) -> Path:
    """The diagnosis page: summary, the relabel worksheet, the suspicion's distribution."""
    with atomic_directory(out_dir, force) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # matplotlib font-cache notes on a fresh machine
        sections = [_summary(frame, data), write_worksheet(frame, data, tmp, page_size),
                    _suspicion_distribution(frame, tmp)]
        (tmp / "index.html").write_text(_page(title, sections), encoding="utf-8")
    return out_dir / "index.html"


def _given_labels(frame) -> np.ndarray:
    """The labels the user gave: ``given_label`` (a diagnosis, ``cgscore score``'s table) or ``label`` (``CGResult.to_frame()``)."""
    return frame["given_label" if "given_label" in frame.columns else "label"].to_numpy()


# -- sections -----------------------------------------------------------------------------------


def _summary(frame, data: Dataset | None) -> str:
    diagnosis = "suspicion" in frame.columns
    scores = None if diagnosis else frame["cg_score"].to_numpy(dtype=np.float64)
    classes, counts = np.unique(_given_labels(frame), return_counts=True)
    facts = [
        ("instances", f"{len(frame)}"),
        ("classes", f"{classes.size} ({', '.join(f'{_esc(c)}: {m}' for c, m in zip(classes[:20], counts[:20]))}"
                    f"{', ...' if classes.size > 20 else ''})"),
    ]
    if scores is not None:
        facts.append(("CG-score", f"min {scores.min():.4g}, median {np.median(scores):.4g}, max {scores.max():.4g}"))
    if "count" in frame.columns:
        facts.append(("repeats per instance", f"{int(frame['count'].max())}"))
    if "kernel" in frame.columns and len(frame):  # a diagnosis file: what the predictions were made with
        ridge = f", λ = {float(frame['ridge'].iloc[0]):g}" if "ridge" in frame.columns else ""
        facts.append(("kernel", f"{_esc(str(frame['kernel'].iloc[0]))}{ridge}"))
    if "mode" in frame.columns and len(frame):
        facts.append(("mode", _esc(str(frame["mode"].iloc[0]))))
    if "is_label_issue" in frame.columns:
        flagged = int(np.sum(frame["is_label_issue"].to_numpy().astype(bool)))
        facts.append(("flagged as label issues", f"{flagged} ({flagged / len(frame):.1%})"))
    if data is not None:
        facts.append(("data", _esc(data.source) + f" (instance shape {data.X.shape[1:]})"))
    items = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    hint = image_size_hint(data.X) if data is not None and not data.is_image else None
    about = ("<p>Every instance's label is predicted from all the others (leave-one-out kernel regression); "
             "the flagged ones are predicted to be another class, and the worksheet lists them.</p>" if diagnosis
             else "<p>High CG-scores mark irregular, hard or mislabeled instances; low ones regular, "
             "redundant instances, the first to prune.</p>")
    return (f"<h2>Summary</h2><table class='facts'>{items}</table>"
            + (f"<p class='hint'><b>Images?</b> {_esc(hint)}</p>" if hint else "") + about)


def image_size_hint(X: np.ndarray) -> str | None:
    """For flat rows whose length is a square (784 = 28·28) or three squares (3072 = 32·32·3):
    a note that they may be images, with the ``--image-size`` to draw them; else None."""
    if X.ndim != 2:
        return None
    d = int(X.shape[1])
    for channels in (1, 3):
        side = math.isqrt(d // channels)
        if d % channels == 0 and side >= 8 and side * side * channels == d:
            size = f"{side}x{side}" + ("x3" if channels == 3 else "")
            shape = f"{side}·{side}" + ("·3" if channels == 3 else "")
            layout = (f" (or 3x{side}x{side} if each row holds the red, then the green, then the blue plane, as CIFAR's do)"
                      if channels == 3 else "")
            return (f"each row has {d} = {shape} values: if they are images, pass --image-size {size}{layout} "
                    f"(in Python: write_report(..., image_size={tuple(int(v) for v in size.split('x'))})) "
                    "to see them as pictures.")
    return None


def _distribution(scores: np.ndarray, labels: np.ndarray, out: Path) -> str:
    classes = np.unique(labels)
    shown_classes = classes[:_MAX_CLASSES_PLOTTED]  # more boxes than this are unreadable
    fig = _figure((max(10.0, 0.44 * shown_classes.size), 4.5))
    # CG-scores are heavy-tailed (a few irregular rows score 100× the median): use log axes,
    # with zeros lifted to the smallest positive score so that they stay visible.
    positive = scores[scores > 0]
    floor = positive.min() if positive.size else 1e-12
    shown = np.maximum(scores, floor)
    ax1 = fig.add_subplot(1, 2, 1)
    groups = [shown[labels == c] for c in shown_classes]
    ax1.boxplot(groups, showfliers=True, flierprops={"markersize": 2})  # upright boxes: every matplotlib
    ax1.set_xticks(range(1, shown_classes.size + 1), [plain_text(c) for c in shown_classes], rotation=90)
    ax1.set_yscale("log")
    ax1.set_ylabel("CG-score (log scale)")
    ax1.set_xlabel("class")
    ax1.set_title("per class" if shown_classes.size == classes.size
                  else f"first {shown_classes.size} of {classes.size} classes")
    ax2 = fig.add_subplot(1, 2, 2)
    bins = np.geomspace(shown.min(), shown.max() * (1 + 1e-9) + 1e-300, min(60, max(10, scores.size // 20)))
    ax2.hist(shown, bins=bins, color="#4c72b0")
    ax2.set_xscale("log")
    ax2.set_xlabel("CG-score (log scale)")
    ax2.set_ylabel("instances")
    ax2.set_title("all instances")
    fig.savefig(out / "distribution.png", dpi=100)
    return "<h2>Score distribution</h2><img src='distribution.png' alt='CG-score distribution per class'>"


def _image_section(heading: str, name: str, X: np.ndarray, rows: np.ndarray, labels, scores, out: Path) -> str:
    _image_grid(X, rows, [f"#{r} {plain_text(labels[r])}\n{scores[r]:.3g}" for r in rows], out / name)
    return (f"<h2>{heading}</h2><p>Each image: row, given label, CG-score.</p>"
            f"<img src='{name}' alt='{_esc(heading)}'>")


def _image_grid(X: np.ndarray, rows: np.ndarray, titles: list[str], path: Path) -> None:
    """The instances of ``rows`` as pictures, eight a line, each with its title."""
    vmin, vmax = (0, 255) if X.dtype == np.uint8 else (min(float(np.min(X)), 0.0), float(np.max(X)))
    cols = min(8, max(1, rows.size))
    lines = int(np.ceil(rows.size / cols))
    fig = _figure((1.5 * cols, 1.75 * lines))
    for j, r in enumerate(rows):
        ax = fig.add_subplot(lines, cols, j + 1)
        img = X[r]
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.ndim == 2:
            ax.imshow(img, cmap="gray", vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1, interpolation="nearest")
        else:
            ax.imshow(_as_rgb(img), interpolation="nearest")
        ax.set_title(titles[j], fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.savefig(path, dpi=100)


def _row_section(heading: str, data: Dataset | None, rows: np.ndarray, labels, scores) -> str:
    head = ["row", "label", "CG-score"]
    feats: list[str] = []
    if data is not None:
        d = int(np.prod(data.X.shape[1:]))
        names = data.feature_names or [f"x{j}" for j in range(d)]
        feats = names[:_MAX_FEATURES_SHOWN] + (["..."] if d > _MAX_FEATURES_SHOWN else [])
    body = []
    for r in rows:
        cells = [str(r), _esc(labels[r]), f"{scores[r]:.4g}"]
        if data is not None:
            x = data.X[r].reshape(-1)
            cells += [f"{v:.3g}" for v in x[:_MAX_FEATURES_SHOWN]] + (["…"] if x.size > _MAX_FEATURES_SHOWN else [])
        body.append(cells)
    return f"<h2>{heading}</h2>" + _table(head + [_esc(f) for f in feats], body)


def _suspects(frame, data: Dataset | None, count: int) -> str:
    """The highest scores, with the label most of their nearest neighbours carry when data are given."""
    scores = frame["cg_score"].to_numpy(dtype=np.float64)
    labels = _given_labels(frame)
    rows = np.argsort(-scores, kind="stable")[:count]
    head = ["rank", "row", "given label", "CG-score", "percentile in class"]
    majority = share = None
    if data is not None and len(frame) > _NEIGHBOURS:
        from ..experiments.baselines import nearest_neighbors

        majority, share = _neighbour_vote(nearest_neighbors(data.X, _NEIGHBOURS, rows), labels)
        head += ["neighbours' label", "share of neighbours"]
    body = []
    for i, r in enumerate(rows):
        pct = frame["percentile_in_class"].iloc[r] if "percentile_in_class" in frame.columns else float("nan")
        cells = [str(i + 1), str(r), _esc(labels[r]), f"{scores[r]:.4g}", f"{pct:.1f}"]
        if majority is not None and share is not None:
            differs = majority[i] != labels[r]
            cells += [("<b>" if differs else "") + _esc(majority[i]) + ("</b>" if differs else ""), f"{share[i]:.0%}"]
        body.append(cells)
    note = ("<p>The highest CG-scores. Where most of a row's "
            f"{_NEIGHBOURS} nearest neighbours (cosine) carry another label, it is in bold: "
            "the likeliest mislabels.</p>" if majority is not None else "<p>The highest CG-scores.</p>")
    return "<h2>Suspected mislabels</h2>" + note + _table(head, body)


def _suspicion_distribution(frame, out: Path) -> str:
    """The suspicion of every row, with the flag threshold (suspicion > 0) drawn."""
    suspicion = frame["suspicion"].to_numpy(dtype=np.float64)
    fig = _figure((9.0, 3.8))
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(suspicion, bins=min(80, max(10, suspicion.size // 20)), color="#4c72b0")
    ax.axvline(0.0, color="#c44e52", linestyle="--", label="flag threshold: suspicion > 0")
    ax.set_yscale("log")
    ax.set_xlabel("suspicion (best other class's prediction − the given class's)")
    ax.set_ylabel("instances (log scale)")
    ax.legend(loc="upper right")
    fig.savefig(out / "suspicion.png", dpi=100)
    return ("<h2>Suspicion distribution</h2><p>Rows right of the dashed line are flagged. Correct labels "
            "cluster well below 0; a second mode above it is the mislabeled rows.</p>"
            "<img src='suspicion.png' alt='suspicion distribution with the flag threshold'>")


def _duplicates(frame) -> str:
    if "duplicate_group" not in frame.columns:
        return "<h2>Duplicate groups</h2><p>The scores file has no duplicate_group column.</p>"
    ids = frame["duplicate_group"].to_numpy()
    labels = _given_labels(frame)
    groups = [np.flatnonzero(ids == g) for g in np.unique(ids[ids >= 0])]
    if not groups:
        return "<h2>Duplicate groups</h2><p>No rows are equal after normalization.</p>"
    conflicting = len(conflicting_groups(groups, labels))
    body = []
    for g, rows in enumerate(groups[:_MAX_GROUPS_SHOWN]):
        labs = np.unique(labels[rows])
        body.append([str(g), ", ".join(map(str, rows)), ", ".join(_esc(v) for v in labs),
                     "<b>yes</b>" if labs.size > 1 else "no"])
    more = f"<p>... and {len(groups) - _MAX_GROUPS_SHOWN} more.</p>" if len(groups) > _MAX_GROUPS_SHOWN else ""
    return (f"<h2>Duplicate groups</h2><p>{len(groups)} group(s) of rows equal after normalization, "
            f"{conflicting} with conflicting labels.</p>"
            + _table(["group", "rows", "labels", "conflicting"], body) + more)


# -- helpers ------------------------------------------------------------------------------------


def _neighbour_vote(nbrs: np.ndarray, labels: np.ndarray) -> tuple[list, np.ndarray]:
    """The most common label among each row's neighbours, and the share that carries it."""
    majority, share = [], []
    for row in nbrs:
        values, counts = np.unique(labels[row], return_counts=True)
        majority.append(values[np.argmax(counts)])
        share.append(counts.max() / row.size)
    return majority, np.asarray(share)


def _figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure with its own Agg canvas: no pyplot state, no display needed.
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    return fig


def _as_rgb(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype.kind == "f" and img.max() > 1:
        img = img / img.max()
    return img


def _table(head: list[str], body: list[list[str]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    tr = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{tr}</tbody></table>"


def _esc(value: Any) -> str:
    return html.escape(str(value))


def plain_text(value: Any) -> str:
    """A label as matplotlib draws it literally: ``$`` escaped, so that '$5' is not mathtext."""
    return str(value).replace("$", r"\$")


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f4f4f4; } table.facts th { text-align: left; } table.facts td { text-align: left; }
img { max-width: 100%; } img.thumb { image-rendering: pixelated; max-width: 192px; height: auto; }
.pager button { font-size: 0.9em; } #worksheet-table td:nth-child(2) { text-align: left; }
"""


def _page(title: str, sections: list[str]) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_esc(title)}</h1>" + "\n".join(sections) + "</body></html>\n"
    )
