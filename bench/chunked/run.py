"""Chunked mode against the exact protocol: rank agreement, noise detection and time.

    python bench/chunked/run.py            # writes bench/chunked/results.md and results.json
    python bench/chunked/run.py --quick    # digits only, for a smoke test

For each data set a seeded fraction of labels is flipped. The exact protocol (ratio 1,
one problem per class) samples its negatives, so one exact run is itself noisy: the
reference is the exact score averaged over many repeats (seed 0). Exact runs with one and
three repeats and every chunked configuration (chunk_size k, repeats) use seed 1 and are
compared with the reference by Spearman rank correlation, and with the truth by the AUROC
of finding the flipped labels.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import cgscore_native as cg
from cgscore_native._memory import problem_peak_bytes
from cgscore_native.experiments.label_noise import flip_labels
from cgscore_native.experiments.metrics import auroc

HERE = Path(__file__).resolve().parent


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (the scores are continuous: ties do not occur in practice)."""
    ra = np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(b, kind="stable"), kind="stable").astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def digits(noise: float):
    X, y = cg.load_digits()
    noisy, flipped = flip_labels(y, noise, seed=0, n_classes=10)
    return X.reshape(len(X), -1).astype(np.float64), noisy, flipped


def synthetic(noise: float, n: int = 10_000, d: int = 64, n_classes: int = 10):
    """Gaussian classes that overlap (like embeddings of a real data set), flipped labels.

    The class separation is set so that noise detection is neither trivial nor hopeless
    (exact AUROC near 0.9 at 20 % noise); the shared offset mimics non-centred features.
    """
    rng = np.random.default_rng(2023)
    centers = rng.normal(size=(n_classes, d)) * 0.07
    y = rng.integers(0, n_classes, size=n)
    X = centers[y] + rng.normal(size=(n, d)) / np.sqrt(d) * 2.0 + 0.2
    noisy, flipped = flip_labels(y, noise, seed=1, n_classes=n_classes)
    return X, noisy, flipped


def timed(fn):
    """The result, wall seconds and CPU seconds (all threads: robust on a shared machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def bench(name: str, X, labels, flipped, configs, threads: int, reference_repeats: int) -> list[dict]:
    """Rows for one data set; every run but the reference uses seed 1, the reference seed 0."""
    rows = []

    def run(label, k=None, repeats=1, seed=1):
        result, seconds, cpu = timed(
            lambda: cg.score(X, labels, seed=seed, chunk_size=k, repeats=repeats, n_threads=threads)
        )
        rows.append(
            dict(
                data=name, config=label, chunk_size=k, repeats=repeats, features=int(X.reshape(len(X), -1).shape[1]),
                largest_problem=max(p.n_positives + p.n_negatives for p in result.problems),
                problems=len(result.problems), spearman=spearman(result.scores, reference.scores) if rows else 1.0,
                auroc=auroc(result.scores, flipped), seconds=seconds, cpu_seconds=cpu,
            )
        )
        r = rows[-1]
        print(f"{name:9s} {label:26s} rho={r['spearman']:.3f} auroc={r['auroc']:.3f} {seconds:7.2f}s {cpu:7.2f}s CPU", flush=True)
        return result

    reference = run(f"exact, {reference_repeats} repeats (reference)", repeats=reference_repeats, seed=0)
    largest = rows[0]["largest_problem"]
    run("exact, 1 repeat")
    run("exact, 3 repeats", repeats=3)
    for k, repeats in configs:
        if k < largest:
            run(f"k={k}, {repeats} repeat(s)", k=k, repeats=repeats)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = []
    for name in dict.fromkeys(r["data"] for r in rows):
        lines += [
            f"### {name}",
            "",
            "| configuration | largest problem | its peak memory | problems | Spearman vs reference "
            "| AUROC (flipped labels) | CPU s | wall s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        d = next(r["features"] for r in rows if r["data"] == name)
        for r in rows:
            if r["data"] == name:
                lines.append(
                    f"| {r['config']} | {r['largest_problem']} | {problem_peak_bytes(r['largest_problem'], d) / 2**20:.1f} MiB "
                    f"| {r['problems']} | {r['spearman']:.3f} | {r['auroc']:.3f} | {r['cpu_seconds']:.2f} | {r['seconds']:.2f} |"
                )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="digits only")
    parser.add_argument("--noise", type=float, default=0.2, help="fraction of labels flipped (default 0.2)")
    # One thread by default: on a shared machine, OpenMP barriers of small problems wait on
    # descheduled threads and the times would measure the neighbours, not the method.
    parser.add_argument("--threads", type=int, default=1, help="kernel threads (default 1)")
    parser.add_argument("--out", type=Path, default=HERE, help="directory for results.md / results.json")
    args = parser.parse_args()

    configs = [(k, r) for k in (40, 80, 160, 240) for r in (1, 3)]
    rows = bench("digits", *digits(args.noise), configs, args.threads, reference_repeats=20)
    if not args.quick:
        configs = [(k, r) for k in (250, 500, 1000, 1500) for r in (1, 3)]
        rows += bench("synthetic", *synthetic(args.noise), configs, args.threads, reference_repeats=5)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}"
    header = (
        f"# Chunked mode vs exact: results\n\nGenerated by `python bench/chunked/run.py` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine}; cgscore_native {cg.__version__}; "
        f"{args.noise:.0%} of labels flipped; ratio 1; {args.threads} kernel thread(s)).\n\n"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(header + markdown(rows))
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
