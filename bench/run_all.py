"""Regenerate every benchmark: python bench/run_all.py [--quick] [--no-cifar].

Side by side in one run, as ratios (median over rounds; each round times every method
once, so slow phases of a shared machine hit all of them):
  1. one binary problem, d = 3072: ours vs the SciPy closed form (and the authors' algorithm
     at small n), with GFLOP/s over numpy's dgemm rate measured in the same round;
  2. the class-wise protocol: ours vs the authors' algorithm;
  3. peak memory above the inputs, in n×n float64 buffers (RSS of a fresh process);
  4. a CIFAR-10-shaped run: 10 classes × 5000, d = 3072, one repeat.
Writes bench/results.md, bench/results.json and bench/time_vs_n.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cgscore_native  # noqa: E402
from baselines import authors_binary, authors_protocol, scipy_closed_form  # noqa: E402
from cgscore_native import _core  # noqa: E402
from cgscore_native._blas import ensure_blas  # noqa: E402
from measure import HERE, binary_flops, dgemm_rate, gaussian_problem, median, peak_memory, seconds  # noqa: E402

THREADS = 2
D = 3072


def machine() -> dict:
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name") and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "simd": " ".join(f for f in ("avx2", "fma", "avx512f") if f in flags),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "build": dict(cgscore_native.build_info()),
        "blas": dict(_core.blas_info()),
    }


def binary_rows(sizes, rounds, authors_max, eigen_max) -> list[dict]:
    rows = []
    for n in sizes:
        X, y = gaussian_problem(n, D)
        Y = np.asfortranarray(y[:, None])
        times = {"ours": [], "kernel": [], "scipy": [], "dgemm": [], "eigen": [], "authors": []}
        ratios, errors, steps = [], [], []
        for _ in range(rounds if n <= 5000 else min(rounds, 2)):  # the largest sizes take minutes a round
            times["dgemm"].append(dgemm_rate())
            ref = {}
            times["scipy"].append(seconds(lambda: ref.setdefault("s", scipy_closed_form(X, y))))
            got = {}
            times["ours"].append(seconds(lambda: got.setdefault("s", cgscore_native.cg_score_binary(X, y, n_threads=THREADS))))
            kernel_out = {}
            times["kernel"].append(seconds(lambda: kernel_out.setdefault(
                "out", _core.score_binary(X, Y, 0.0, -1.0, False, THREADS, backend="blas"))))
            steps.append(kernel_out["out"]["seconds"])
            if n <= eigen_max:
                times["eigen"].append(seconds(lambda: _core.score_binary(X, Y, 0.0, -1.0, False, THREADS, backend="eigen")))
            ratios.append(times["scipy"][-1] / times["ours"][-1])
            errors.append(float(np.max(np.abs(got["s"] - ref["s"]) / np.abs(ref["s"]))))
        if n <= authors_max:
            times["authors"].append(seconds(lambda: authors_binary(X, y)))
        flops = binary_flops(n, D)
        row = {"n": n, "d": D, "rounds": rounds, "ratio_vs_scipy": median(ratios), "max_rel_err": max(errors)}
        for key, values in times.items():
            row[key] = median(values) if values else None
        row["gflops"] = flops / row["ours"] / 1e9
        row["kernel_gflops"] = flops / row["kernel"] / 1e9
        row["efficiency"] = median([flops / t / 1e9 / g for t, g in zip(times["ours"], times["dgemm"])])
        row["kernel_efficiency"] = median([flops / t / 1e9 / g for t, g in zip(times["kernel"], times["dgemm"])])
        row["kernel_steps"] = {step: median([s[step] for s in steps]) for step in steps[0]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def protocol_rows(cases, rounds) -> list[dict]:
    rows = []
    for per_class, d in cases:
        rng = np.random.default_rng(1)
        X = rng.standard_normal((2 * per_class, d))
        labels = np.repeat([0, 1], per_class)
        ours_t, authors_t = [], []
        for _ in range(rounds):
            got = {}
            ours_t.append(seconds(lambda: got.setdefault("s", cgscore_native.cg_score(X, labels, seed=0, n_threads=THREADS))))
        ref = {}
        authors_t.append(seconds(lambda: ref.setdefault("s", authors_protocol(X, labels))))
        err = float(np.max(np.abs(got["s"] - ref["s"]) / np.abs(ref["s"])))
        row = {"classes": 2, "per_class": per_class, "d": d, "ours": median(ours_t), "authors": authors_t[0],
               "ratio": authors_t[0] / median(ours_t), "max_rel_err": err}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def memory_rows(n) -> list[dict]:
    rows = [{"method": m, "n": n, "d": D, "buffers": peak_memory(m, n, D)} for m in ("kernel", "ours", "scipy")]
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def cifar_run() -> dict:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50_000, D))
    labels = np.repeat(np.arange(10), 5000)
    rate = dgemm_rate()
    start = time.perf_counter()
    scores = cgscore_native.cg_score(X, labels, seed=0, n_threads=THREADS)
    elapsed = time.perf_counter() - start
    row = {"shape": [50_000, D], "classes": 10, "problem_n": 10_000, "seconds": elapsed, "dgemm_gflops": rate,
           "finite": bool(np.isfinite(scores).all())}
    print(json.dumps(row), flush=True)
    return row


def plot(binary: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, label, style in (("ours", "cgscore_native (BLAS backend)", "o-"), ("eigen", "cgscore_native (Eigen backend)", "^--"),
                              ("scipy", "SciPy closed form", "s-"), ("authors", "authors' algorithm (NumPy)", "x-")):
        pts = [(r["n"], r[key]) for r in binary if r.get(key)]
        if pts:
            ax.plot(*zip(*pts), style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (one binary problem, d = 3072)")
    ax.set_ylabel("seconds (median)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def markdown(info, binary, protocol, memory, cifar) -> str:
    out = ["# Benchmark results", "", f"Generated by `python bench/run_all.py{' --quick' if info['quick'] else ''}` "
           f"on {info['date']}.", "",
           f"Machine: {info['cpu']}, {info['cores']} cores ({info['simd']}), {info['memory_gib']} GiB; "
           f"Python {info['python']}, NumPy {info['numpy']}; core: {info['build']}; BLAS: {info['blas']['path'] or 'none'}.",
           "", f"Threads: {THREADS}. Times are medians over rounds; ratios are medians of per-round ratios.", "",
           "## One binary problem (d = 3072)", "",
           "| n | ours (s) | kernel (s) | SciPy (s) | Eigen backend (s) | authors (s) | SciPy/ours | GFLOP/s | dgemm GFLOP/s | efficiency | kernel efficiency | max rel. diff |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda v, f="{:.3f}": "–" if v is None else f.format(v)  # noqa: E731
    for r in binary:
        out.append(f"| {r['n']} | {fmt(r['ours'])} | {fmt(r['kernel'])} | {fmt(r['scipy'])} | {fmt(r['eigen'])} | "
                   f"{fmt(r['authors'], '{:.1f}')} | **{r['ratio_vs_scipy']:.2f}×** | {r['gflops']:.1f} | {r['dgemm']:.1f} | "
                   f"**{r['efficiency']:.2f}** | {r['kernel_efficiency']:.2f} | {r['max_rel_err']:.1e} |")
    out += ["", "ours = `cgscore_native.cg_score_binary` (validation, the native row pass, duplicate check, kernel); "
            "kernel = `_core.score_binary` alone. Efficiency = (n²d + 2n³/3) / time / (numpy dgemm rate of the same round).",
            "", "Kernel steps (median seconds; the kernel's own clock): " + "; ".join(
                f"n = {r['n']}: " + ", ".join(f"{k} {v:.3f}" for k, v in r["kernel_steps"].items())
                for r in binary if r.get("kernel_steps")) + ".",
            "", "## Class-wise protocol: ours vs the authors' algorithm", "",
            "| classes × per class | d | ours (s) | authors (s) | authors/ours | max rel. diff |", "|---|---|---|---|---|---|"]
    for r in protocol:
        out.append(f"| {r['classes']} × {r['per_class']} | {r['d']} | {r['ours']:.3f} | {r['authors']:.2f} | "
                   f"**{r['ratio']:.0f}×** | {r['max_rel_err']:.1e} |")
    out += ["", "## Peak memory above the inputs (n×n float64 buffers)", "", "| method | n | buffers |", "|---|---|---|"]
    for r in memory:
        out.append(f"| {r['method']} | {r['n']} | **{r['buffers']:.2f}** |")
    out += ["", "kernel = `_core.score_binary` on normalized rows; ours = `cg_score_binary` on the raw rows (no "
            "normalized copy: the kernel scales x_i·x_j itself); scipy = the closed form in bench/baselines.py."]
    if cifar:
        out += ["", "## CIFAR-10-shaped run", "", f"`cg_score(X, labels, seed=0)` on synthetic 50000 × 3072, "
                f"10 classes × 5000, ratio 1, one repeat (10 problems of n = 10000): **{cifar['seconds']:.0f} s** "
                f"(numpy dgemm at {cifar['dgemm_gflops']:.0f} GFLOP/s when it started)."]
    out += ["", "![time vs n](time_vs_n.png)", ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (a few minutes)")
    parser.add_argument("--no-cifar", action="store_true", help="skip the CIFAR-10-shaped run")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--sizes", type=lambda text: [int(v) for v in text.split(",")],
                        help="comma-separated n for the binary section, e.g. 5000 (rows of other n are kept)")
    parser.add_argument("--only", choices=["binary", "protocol", "memory", "cifar"], action="append",
                        help="re-measure only these sections, keeping the others from results.json")
    args = parser.parse_args()
    if not ensure_blas():
        print("warning: NumPy's OpenBLAS was not found; measuring the Eigen backend", file=sys.stderr)
    if args.quick:
        sizes, rounds, authors_max, eigen_max = [1000, 2000, 5000], args.rounds or 2, 1000, 2000
        cases, mem_n = [(600, 256), (600, 3072)], 2000
    else:
        sizes, rounds, authors_max, eigen_max = [1000, 2000, 4000, 5000, 8000, 12000], args.rounds or 3, 1000, 4000
        cases, mem_n = [(600, 256), (600, 3072), (1000, 3072)], 5000
    info = machine()
    info.update(quick=args.quick, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print(json.dumps(info), flush=True)
    results_path = os.path.join(HERE, "results.json")
    previous = {}
    if args.only and os.path.exists(results_path):
        with open(results_path) as f:
            previous = json.load(f)
    if previous:
        info["date"] = f"{previous['machine']['date']} ({', '.join(args.only)} re-measured {info['date']})"
    wanted = lambda section: not args.only or section in args.only  # noqa: E731
    sizes = args.sizes or sizes
    binary = previous.get("binary", [])
    if wanted("binary"):
        fresh = binary_rows(sizes, rounds, authors_max, eigen_max)
        kept = [r for r in binary if r["n"] not in sizes] if args.sizes else []
        binary = sorted(kept + fresh, key=lambda r: r["n"])
    protocol = protocol_rows(cases, rounds) if wanted("protocol") else previous.get("protocol", [])
    memory = memory_rows(mem_n) if wanted("memory") else previous.get("memory", [])
    if wanted("cifar") and not (args.quick or args.no_cifar):
        cifar = cifar_run()
    else:
        cifar = previous.get("cifar")
    with open(results_path, "w") as f:
        json.dump({"machine": info, "binary": binary, "protocol": protocol, "memory": memory, "cifar": cifar}, f, indent=1)
    plot(binary, os.path.join(HERE, "time_vs_n.png"))
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write(markdown(info, binary, protocol, memory, cifar))
    print("wrote bench/results.md, bench/results.json, bench/time_vs_n.png")


if __name__ == "__main__":
    main()
