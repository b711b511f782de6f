"""Time and peak memory of the default diagnose() as a curve in n (bench/large/README.md).

    python bench/large/plot.py --curve bench/large/curve.jsonl [--million bench/large/results_1m.json] --out bench/large/curve.png

--curve: the records of `run.py curve` (one JSON line per n and mode; skipped and failed runs are
left out). --million: the record of `run.py scale` at 10⁶ rows, drawn as its own marker (and
joined to its mode's line when the curve has no run at that n). Two log-log panels: seconds vs n
and peak RSS (GiB) vs n, one line per mode; the memory panel has the input's size as a dashed
line; both carry the goal at 10⁶ rows (10 minutes; the input + 4 GiB).
"""

from __future__ import annotations

import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

GOAL_N = 1_000_000
GOAL_SECONDS = 600.0
GOAL_EXTRA_GIB = 4.0
FEATURES = 256  # of the scale mixture (make_data.py), float32
COLOURS = {"large": "tab:blue", "exact": "tab:orange", "auto": "tab:green"}


def input_gib(n: float, features: int = FEATURES) -> float:
    return n * features * 4 / 2**30


def read_curve(path: str) -> list[dict]:
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r for r in records if "seconds" in r and "peak_rss_gib" in r]


def plot(records: list[dict], million: dict | None, out: str) -> None:
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax in (ax_t, ax_m):
        ax.set_xscale("log")
        ax.set_yscale("log")
    modes = sorted({r["mode"] for r in records} | ({million["mode"]} if million else set()))
    for mode in modes:
        rows = sorted((r for r in records if r["mode"] == mode), key=lambda r: r["n"])
        if million and million["mode"] == mode and all(r["n"] != million["n"] for r in rows):
            rows.append(million)
        if not rows:
            continue
        ns = [r["n"] for r in rows]
        style = {"color": COLOURS.get(mode), "marker": "o", "label": f"mode={mode}"}
        ax_t.plot(ns, [r["seconds"] for r in rows], **style)
        ax_m.plot(ns, [r["peak_rss_gib"] for r in rows], **style)
    if million:
        style = {"color": COLOURS.get(million["mode"]), "marker": "*", "markersize": 14, "linestyle": "none",
                 "label": f"n = 10⁶ (run.py scale, mode={million['mode']})"}
        ax_t.plot([million["n"]], [million["seconds"]], **style)
        ax_m.plot([million["n"]], [million["peak_rss_gib"]], **style)

    ns_all = [r["n"] for r in records] + ([million["n"]] if million else []) + [GOAL_N]
    span = [min(ns_all), max(ns_all)]
    features = int(million.get("features", FEATURES)) if million else FEATURES
    ax_m.plot(span, [input_gib(n, features) for n in span], "k--", lw=1, label=f"input ({features} float32 features)")
    limit = input_gib(GOAL_N, features) + GOAL_EXTRA_GIB
    for ax, goal, text in ((ax_t, GOAL_SECONDS, "goal: 10 min at 10⁶ rows"),
                           (ax_m, limit, f"goal: input + 4 GiB = {limit:.2f} GiB at 10⁶ rows")):
        ax.plot([GOAL_N], [goal], marker="v", color="tab:red", markersize=10, linestyle="none")
        ax.axhline(goal, color="tab:red", lw=0.8, ls=":")
        ax.annotate(text, (GOAL_N, goal), textcoords="offset points", xytext=(-16, 4), ha="right", va="bottom",
                    fontsize=8, color="tab:red")
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, max(top, goal * 2))  # room above the goal
    ax_t.set_ylabel("seconds (default diagnose, seed=0)")
    ax_m.set_ylabel("peak RSS of the run's process (GiB)")
    for ax in (ax_t, ax_m):
        ax.set_xlabel("rows n (scale mixture: 10 classes, 20 % flips, memory-mapped .npy)")
        ax.grid(True, which="both", lw=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Large-data diagnosis: time and memory against n (2-core machine, shared)", fontsize=10)
    fig.tight_layout()
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, out)  # no half-written image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--curve", required=True, help="the jsonl of run.py curve")
    ap.add_argument("--million", help="the JSON record of run.py scale at 10⁶ rows (results_1m.json)")
    ap.add_argument("--out", default="bench/large/curve.png")
    args = ap.parse_args()
    records = read_curve(args.curve)
    million = None
    if args.million:
        with open(args.million) as f:
            million = json.load(f)
    if not records and million is None:
        raise SystemExit(f"{args.curve}: no measured runs (only skipped or failed ones); run `run.py curve` first.")
    plot(records, million, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
