"""The detection bench's summary figure: mean AUROC of each method per data set (over the noises
and flip seeds of the complete cells in the results file), one row per data set.

    python bench/detection/figure.py                 # results.jsonl → summary.png
    python bench/detection/figure.py --jsonl /tmp/det_small.jsonl --out /tmp/det_small.png
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import DIAGNOSE, METHODS, NOISES, PEERS, complete_cells, read_rows  # noqa: E402

# diagnose: blue family (paper and auto large, the fixed depths small and pale); peers: other hues, open markers
STYLE = {
    "paper": dict(color="#1f4e9c", marker="o", s=70, label="diagnose, kernel=paper"),
    "auto": dict(color="#0b2a5b", marker="D", s=60, label="diagnose, kernel=auto"),
    "local": dict(color="#17becf", marker="*", s=90, label="diagnose, mode=large (local fits)"),
    "depth": dict(color="#8fb3e8", marker="o", s=22, label="diagnose, fixed depth 1/2/4/8"),
    "knn": dict(color="#e07b00", marker="^", s=55, label="k-NN disagreement, cosine"),
    "knn_euclidean": dict(color="#c23b22", marker="v", s=55, label="k-NN disagreement, Euclidean"),
    "knn_shapley": dict(color="#2e8b57", marker="s", s=50, label="KNN Data Shapley"),
    "simifeat": dict(color="#8e44ad", marker="P", s=65, label="SimiFeat (vote)"),
    "confident_learning": dict(color="#6d4c41", marker="X", s=60, label="confident learning"),
}


def mean_auroc(jsonl: Path) -> tuple[dict[str, dict[str, float]], list[tuple]]:
    """{data set: {method: mean AUROC}} over the complete cells, and those cells."""
    by = read_rows(jsonl)
    cells, _ = complete_cells(by)
    table: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(c[0] for c in cells):
        mine = [c for c in cells if c[0] == name]
        table[name] = {m: float(np.mean([by[(*c, m)]["auroc"] for c in mine])) for m in METHODS}
    return table, cells


def draw(jsonl: Path, out: Path) -> None:
    if not jsonl.exists():
        raise SystemExit(f"{jsonl} does not exist; run bench/detection/run.py (or pass --jsonl).")
    table, cells = mean_auroc(jsonl)
    if not table:
        raise SystemExit(f"{jsonl}: no cell has a row for every method; run bench/detection/run.py first.")
    names = list(table)[::-1]  # the first data set on top
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(names) + 1.9))
    values = np.array([v for row in table.values() for v in row.values()])
    # a few far-off points (confident learning on small series) would squeeze the rest: clip them
    lo = np.floor(20 * (np.quantile(values, 0.05) - 0.01)) / 20
    for i in range(len(names)):
        ax.axhline(i, color="#eeeeee", lw=0.8, zorder=0)
    shown = set()
    for m in (*PEERS, *DIAGNOSE):  # diagnose drawn last, on top
        key = m if m in ("paper", "auto", "local") or m in PEERS else "depth"
        style = dict(STYLE[key])
        label = style.pop("label") if key not in shown else None
        shown.add(key)
        open_marker = m in PEERS and style["marker"] not in ("P", "X")
        ax.scatter([max(table[n][m], lo) for n in names], range(len(names)), label=label, zorder=3 if key == "depth" else 4,
                   facecolors="none" if open_marker else style["color"], edgecolors=style["color"],
                   linewidths=1.4, marker=style["marker"], s=style["s"])
    for i, n in enumerate(names):
        far = [m for m in METHODS if table[n][m] < lo]
        if far:
            ax.annotate(", ".join(f"{table[n][m]:.2f}" for m in far), (lo, i), xytext=(6, 5),
                        textcoords="offset points", fontsize=7, color="#555555")
    ax.set_xlim(lo - 0.005, 1.005)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.set_xlabel("mean AUROC (higher = flipped rows ranked first)")
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    present = {c[1:3] for c in cells}
    noises = ", ".join(f"{kind} {rate:.0%}" for kind, rate in NOISES if (kind, rate) in present)
    seeds = ", ".join(map(str, sorted({c[3] for c in cells})))
    ax.set_title(f"Detection of flipped labels: mean AUROC over noises ({noises})\n"
                 f"and flip seeds {seeds}; {len(cells)} cells; points left of {lo:.2f} drawn at the edge",
                 fontsize=9.5)
    height = fig.get_figheight()
    fig.legend(loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.7 / height, 1, 1))  # the legend's three rows below the axes
    tmp = out.with_name(out.stem + ".tmp.png")
    fig.savefig(tmp, dpi=130, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, out)  # never a half-written figure


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jsonl", type=Path, default=HERE / "results.jsonl")
    ap.add_argument("--out", type=Path, default=HERE / "summary.png")
    args = ap.parse_args()
    draw(args.jsonl, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
