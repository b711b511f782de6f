"""Detection bench: diagnose (paper kernel, auto, each fixed depth) against confident learning,
k-NN disagreement (cosine and Euclidean), KNN Data Shapley and SimiFeat on 15 data sets that
install offline (datasets.py).

Noise: uniform 10/20/40 %, pair 20/30 %; flip seeds ``--seeds``. Metrics: AUROC, AP, TNR at 95 %
TPR; FNR and F1 at a flag budget equal to the true number of flipped rows and at the number the
default diagnosis (kernel="paper") estimates, round(estimated_noise_rate · n), the same budget for
every method of a cell. Each finished (cell, method) is appended to the jsonl file (a rerun skips
the ones already there; when two rows share a key the later one wins); the .md file beside it is
the summary.

    python bench/detection/run.py --seeds 0,1,2               # results.jsonl, results.md
    python bench/detection/run.py --seeds 0 --datasets iris,wine --out /tmp/det_small.jsonl
    python bench/detection/run.py --summary                   # results.md from results.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import DATASETS, load  # noqa: E402

from cgscore_native import diagnose  # noqa: E402
from cgscore_native.experiments import baselines  # noqa: E402
from cgscore_native.experiments.label_noise import flip_labels  # noqa: E402
from cgscore_native.experiments.metrics import auroc, average_precision, budget_metrics, tnr_at_tpr  # noqa: E402
from cgscore_native.experiments.simifeat import simifeat  # noqa: E402

NOISES = (("uniform", 0.1), ("uniform", 0.2), ("uniform", 0.4), ("pair", 0.2), ("pair", 0.3))
DIAGNOSE = {"paper": "paper", "auto": "auto", "depth-1": 1, "depth-2": 2, "depth-4": 4, "depth-8": 8, "local": "paper"}
# "local": the paper's kernel in the large mode's cells (fits of 45 % of the rows, docs/large-data.md)
DIAGNOSE_MODE = {"local": "large"}
PEERS = ("knn", "knn_euclidean", "knn_shapley", "simifeat", "confident_learning")
METHODS = (*DIAGNOSE, *PEERS)
# the metrics of the means table; rows written before a metric existed lack its key
METRICS = ("auroc", "ap", "tnr95", "fnr_budget", "f1_budget", "fnr_est", "f1_est", "seconds")
Cell = tuple[str, str, float, int]  # (data, noise kind, rate, flip seed)


def suspicion(method: str, X: np.ndarray, noisy: np.ndarray) -> tuple[np.ndarray, str, float | None]:
    """The method's suspicion (higher = more likely mislabeled), a note, and the diagnosis's
    estimated noise rate (None for the peers)."""
    if method in DIAGNOSE:
        d = diagnose(X, noisy, kernel=DIAGNOSE[method], mode=DIAGNOSE_MODE.get(method, "auto"))
        return d.suspicion, f"{d.kernel}, λ {d.ridge:.3g}", d.estimated_noise_rate
    if method == "knn":
        return baselines.knn_disagreement(X, noisy, 10), "cosine k=10", None
    if method == "knn_euclidean":
        return baselines.knn_disagreement_euclidean(X, noisy, 10), "Euclidean k=10", None
    if method == "knn_shapley":
        # a low Shapley value marks a harmful (likely mislabeled) row: negate it into a suspicion
        return -baselines.knn_shapley_exact(X, noisy, 10), "exact, cosine k=10", None
    if method == "simifeat":
        return simifeat(X, noisy, rule="vote", k=10, seed=0).suspicion, "vote rule", None
    return baselines.confident_learning(X, noisy, seed=0), "5-fold LR", None


def read_rows(path: Path) -> dict[tuple, dict]:
    """The rows of a results file by (data, noise, rate, seed, method); a later row replaces an
    earlier one with the same key. A last line cut short by an interrupted run is dropped."""
    rows: dict[tuple, dict] = {}
    if not path.exists():
        return rows
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise ValueError(f"{path}: line {i + 1} is not JSON; remove it or rerun into a new --out file.") from None
        rows[(r["data"], r["noise"], r["rate"], r["seed"], r["method"])] = r
    return rows


def _drop_cut_last_line(path: Path) -> None:
    """Rewrite the file without a last line an interrupted run left unfinished, so appends stay valid."""
    if not path.exists() or path.stat().st_size == 0:
        return
    text = path.read_text()
    if text.endswith("\n"):
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text[: text.rfind("\n") + 1])
    os.replace(tmp, path)


def run(seeds: list[int], out: Path, datasets: list[str], redo_old: bool = False) -> None:
    """Compute every (cell, method) missing from ``out`` and append it. ``redo_old`` also
    recomputes rows written before the estimated-budget metrics existed."""
    _drop_cut_last_line(out)
    rows = read_rows(out)
    done = {k for k, r in rows.items() if not (redo_old and "fnr_est" not in r)}
    with out.open("a") as f:
        # the small sets first, the 1797- and 2500-row ones last
        for name in sorted(datasets, key=lambda d: d in ("digits", "multicluster-5c8", "multicluster-5c4")):
            X, y = load(name)
            K = int(y.max() + 1)
            for kind, rate in NOISES:
                for seed in seeds:
                    todo = [m for m in METHODS if (name, kind, rate, seed, m) not in done]
                    if not todo:
                        continue
                    paper = rows.get((name, kind, rate, seed, "paper"))
                    if paper is None or "estimated_noise" not in paper:
                        # the paper row carries the cell's estimated budget: (re)compute it first
                        todo = ["paper", *(m for m in todo if m != "paper")]
                    budget_est = None if "paper" in todo else int(paper["budget_est"])  # type: ignore[index]
                    noisy, flipped = flip_labels(y, rate, seed=seed, n_classes=K, kind=kind)
                    for method in todo:
                        start = time.perf_counter()
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")  # ridge-edge and noise warnings: measured, not shown
                            s, note, estimated = suspicion(method, X, noisy)
                        seconds = time.perf_counter() - start
                        if method == "paper":
                            budget_est = int(round(estimated * len(y)))  # type: ignore[operator]
                        assert budget_est is not None
                        at_true = budget_metrics(s, flipped, int(flipped.sum()))
                        at_est = budget_metrics(s, flipped, budget_est)
                        row = {"data": name, "noise": kind, "rate": rate, "seed": seed, "method": method,
                               "auroc": auroc(s, flipped), "ap": average_precision(s, flipped),
                               "tnr95": tnr_at_tpr(s, flipped, 0.95),
                               "fnr_budget": at_true["fnr"], "f1_budget": at_true["f1"],
                               "budget_est": budget_est, "fnr_est": at_est["fnr"], "f1_est": at_est["f1"],
                               "seconds": seconds, "note": note}
                        if method == "paper":
                            row["estimated_noise"] = estimated
                        rows[(name, kind, rate, seed, method)] = row
                        f.write(json.dumps(row) + "\n")
                        f.flush()
                    print(name, kind, rate, seed, flush=True)


def _order(c: tuple) -> tuple:
    return (list(DATASETS).index(c[0]), c[1] != "uniform", c[2], *c[3:])


def complete_cells(by: dict[tuple, dict]) -> tuple[list[Cell], int]:
    """The (data, noise, rate, seed) cells holding a row for every method, and how many lack one."""
    cells = {k[:4] for k in by}
    full = sorted((c for c in cells if all((*c, m) in by for m in METHODS)), key=_order)
    return full, len(cells) - len(full)


def _fmt_noise(kind: str, rate: float) -> str:
    return f"{rate:.0%} {kind}"


def _mean(values: Iterable[float]) -> float:
    return float(np.mean(list(values)))


def _best_peer(by: dict[tuple, dict], c: Cell, metric: str = "auroc") -> tuple[float, str]:
    return max((by[(*c, m)][metric], m) for m in PEERS)


def _cell_table(by: dict[tuple, dict], cells: list[Cell]) -> list[str]:
    """Mean AUROC over the seeds of each (data, noise) cell, and the seeds meeting the goal."""
    groups: dict[tuple, list[Cell]] = {}
    for c in cells:
        groups.setdefault(c[:3], []).append(c)
    head = ["| data | noise | seeds | " + " | ".join(METHODS)
            + " | paper ≥ peer − 0.002 | auto ≥ peer − 0.002 | local ≥ peer − 0.002 | auto chose |",
            "|" + "---|" * (len(METHODS) + 8)]
    lines = head
    for g, members in groups.items():
        means = {m: _mean(by[(*c, m)]["auroc"] for c in members) for m in METHODS}
        best = max(means.values())
        figs = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in means.values()]
        checks = [f"{sum(by[(*c, m)]['auroc'] >= _best_peer(by, c)[0] - 0.002 for c in members)}/{len(members)}"
                  for m in ("paper", "auto", "local") if all((*c, m) in by for c in members)]
        chose = "; ".join(by[(*c, "auto")]["note"] for c in members)
        lines.append(f"| {g[0]} | {_fmt_noise(g[1], g[2])} | {len(members)} | " + " | ".join(figs)
                     + " | " + " | ".join(checks) + f" | {chose} |")
    return lines


def _means_table(by: dict[tuple, dict], cells: list[Cell]) -> list[str]:
    lines = ["| metric | cells | " + " | ".join(METHODS) + " |", "|" + "---|" * (len(METHODS) + 2)]
    for metric in METRICS:
        have = [c for c in cells if all(metric in by[(*c, m)] for m in METHODS)]
        if not have:
            lines.append(f"| {metric} | 0 | " + " | ".join("–" for _ in METHODS) + " |")
            continue
        lines.append(f"| {metric} | {len(have)} | "
                     + " | ".join(f"{_mean(by[(*c, m)][metric] for c in have):.4f}" for m in METHODS) + " |")
    return lines


def _share(k: int, n: int) -> str:
    return f"{k} of {n} ({k / n:.0%})" if n else "0 of 0"


def goal_lines(by: dict[tuple, dict], cells: list[Cell]) -> list[str]:
    """The issue's goals, each over every (data, noise, seed) cell."""
    n = len(cells)
    peer_means = {m: _mean(by[(*c, m)]["auroc"] for c in cells) for m in PEERS}
    top_peer = max(peer_means, key=lambda m: peer_means[m])
    est_cells = [c for c in cells if all("fnr_est" in by[(*c, m)] for m in METHODS)]
    lines = []
    for m in ("paper", "auto", "local"):
        mine = [by[(*c, m)]["auroc"] for c in cells]
        best = [_best_peer(by, c)[0] for c in cells]
        near = sum(a >= b - 0.002 for a, b in zip(mine, best))
        above = sum(a >= b for a, b in zip(mine, best))
        ap_above = sum(by[(*c, m)]["ap"] > by[(*c, "confident_learning")]["ap"] for c in cells)
        fnr_below = sum(by[(*c, m)]["fnr_est"] < min(by[(*c, p)]["fnr_est"] for p in PEERS) for c in est_cells)
        fnr_at_most = sum(by[(*c, m)]["fnr_est"] <= min(by[(*c, p)]["fnr_est"] for p in PEERS) for c in est_cells)
        gap = np.mean(mine) - peer_means[top_peer]
        lines += [
            f"**{m}** over {n} cells:",
            "",
            f"- AUROC ≥ best peer − 0.002 in {_share(near, n)} (goal: every cell)",
            f"- AUROC ≥ best peer in {_share(above, n)} (goal ≥ 90 %)",
            f"- mean AUROC {np.mean(mine):.4f} − the best peer's mean ({top_peer}, {peer_means[top_peer]:.4f})"
            f" = {gap:+.4f} (goal ≥ +0.01)",
            f"- AP above confident learning's in {_share(ap_above, n)} (goal: every cell)",
            f"- FNR at the estimated budget below every peer's in {_share(fnr_below, len(est_cells))}"
            f" (goal ≥ 90 %); at or below in {fnr_at_most}"
            + (f"; over the {len(est_cells)} cells that have it (older rows lack it)" if len(est_cells) < n else ""),
            "",
        ]
    mc = [c for c in cells if c[:3] == ("multicluster-5c8", "uniform", 0.2)]
    if mc:
        figs = ", ".join(f"{m} {_mean(by[(*c, m)]['auroc'] for c in mc):.4f}" for m in ("paper", "auto", "local"))
        peer = max(PEERS, key=lambda p: _mean(by[(*c, p)]["auroc"] for c in mc))
        lines.append(f"Multi-cluster (multicluster-5c8, 20 % uniform, mean over {len(mc)} seeds): {figs} "
                     f"(goal ≥ 0.90; best peer {peer} {_mean(by[(*c, peer)]['auroc'] for c in mc):.4f}).")
    else:
        lines.append("Multi-cluster (multicluster-5c8, 20 % uniform): not in these results.")
    short = [(c, _best_peer(by, c)) for c in cells]
    short = [(c, b) for c, b in short if by[(*c, "auto")]["auroc"] < b[0] - 0.002]
    lines += ["", f"Cells where auto falls more than 0.002 short of the best peer ({len(short)}):", ""]
    if short:
        lines += ["| data | noise | seed | auto | best peer | its AUROC | shortfall | auto chose |", "|---" * 8 + "|"]
        for c, (b, p) in sorted(short, key=lambda cb: _order(cb[0])):
            a = by[(*c, "auto")]
            lines.append(f"| {c[0]} | {_fmt_noise(c[1], c[2])} | {c[3]} | {a['auroc']:.4f} | {p} | {b:.4f} "
                         f"| {b - a['auroc']:.4f} | {a['note']} |")
    oracle = [max(by[(*c, m)]["auroc"] for m in DIAGNOSE if m not in ("auto", "local")) for c in cells]
    lines.append(f"\nOracle depth (best of paper, 1, 2, 4, 8 per cell): mean AUROC {np.mean(oracle):.4f}.")
    est = [(by[(*c, "paper")]["estimated_noise"], c[2]) for c in cells if "estimated_noise" in by[(*c, "paper")]]
    if est:
        err = np.array([e - r for e, r in est])
        lines.append(f"\nThe paper diagnosis's estimated noise rate minus the true rate over {len(est)} cells: "
                     f"mean {err.mean():+.4f}, mean absolute {np.abs(err).mean():.4f}.")
    return lines


def summary(out: Path) -> str:
    by = read_rows(out)
    cells, partial = complete_cells(by)
    seeds = sorted({c[3] for c in cells})
    lines = [f"Detection bench: {len(cells)} cells (flip seeds {', '.join(map(str, seeds)) or 'none'})"
             + (f"; {partial} cells lacking a method are left out" if partial else "") + ".", ""]
    if not cells:
        return "\n".join(lines) + "\n"
    lines += ["AUROC, mean over the seeds of each cell (bold: the best); the goal columns count the seeds "
              "within 0.002 of the best peer.", ""]
    lines += _cell_table(by, cells)
    lines += ["", "Mean over the cells (a metric over the cells whose rows all have it):", ""]
    lines += _means_table(by, cells)
    lines += ["", "## Goals", ""]
    lines += goal_lines(by, cells)
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")], default=[0])
    ap.add_argument("--datasets", type=lambda s: s.split(","), default=list(DATASETS),
                    help="comma-separated names (default: all): " + ", ".join(DATASETS))
    ap.add_argument("--out", type=Path, default=HERE / "results.jsonl",
                    help="the results file; the summary goes beside it with the suffix .md")
    ap.add_argument("--redo-old", action="store_true",
                    help="also recompute rows written before the estimated-budget metrics existed")
    ap.add_argument("--summary", action="store_true", help="only write the summary of --out")
    args = ap.parse_args()
    unknown = [d for d in args.datasets if d not in DATASETS]
    if unknown:
        ap.error(f"unknown data set(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}")
    if not args.summary:
        run(args.seeds, args.out, args.datasets, args.redo_old)
    text = summary(args.out)
    md = args.out.with_suffix(".md")
    tmp = md.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, md)  # never a half-written summary
    print(text)


if __name__ == "__main__":
    main()
