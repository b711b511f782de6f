"""Label diagnosis (``cgscore_native.diagnose``) against the label-noise detectors people use.

Data: scikit-learn's digits (pixels, one scale), wine and breast_cancer (standardized).
Noise: uniform (a flipped row gets a uniformly chosen other class) at 10/20/40 %, and pair
(class c → c+1 mod K) at 10/20/30 %, three flip seeds each. Methods: ``diagnose`` with its
defaults, k-NN disagreement (k = 10, cosine and Euclidean), KNN Data Shapley (cleanlab),
confident learning (cleanlab self-confidence of 5-fold logistic regression).

Per cell: AUROC, average precision, precision@k (k = number of flipped rows), and for the
methods that flag (diagnose: ``is_label_issue``; confident learning: cleanlab's
``find_label_issues``) the flags' precision and recall; for diagnose the share of flipped
rows whose suggested label is the true one; and every method's wall time.

    python bench/diagnosis/run.py                 # the full table → results.md, results.json
    python bench/diagnosis/run.py --quick         # one seed
    python bench/diagnosis/run.py --tune          # the defaults' measurements (variants of diagnose)
    python bench/diagnosis/run.py --speed         # diagnose vs confident learning on digits, median of 5
    python bench/diagnosis/run.py --rate          # the whole-data fit's flop rate vs dgemm, n = 5000 and 6000
    python bench/diagnosis/run.py --chunked       # chunk sizes vs the whole-data diagnosis on digits
    python bench/diagnosis/run.py --selection     # the kernel choice's cost beside its fits, n = 5000, d = 784
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

import cgscore_native as cg
from cgscore_native import diagnosis
from cgscore_native.experiments import baselines
from cgscore_native.experiments.label_noise import flip_labels
from cgscore_native.experiments.metrics import detection_metrics

HERE = Path(__file__).resolve().parent
RATES = {"uniform": (0.1, 0.2, 0.4), "pair": (0.1, 0.2, 0.3)}
SEEDS = (0, 1, 2)
BASELINES = ("knn_cosine", "knn_euclidean", "knn_shapley", "confident_learning")


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        return X.astype(np.float64), y
    loader = {"wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def noisy_labels(y, kind, rate, seed):
    return flip_labels(y, rate, seed, kind=kind)


def flag_metrics(flags: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    hits = int(np.sum(flags & truth))
    return {
        "flag_precision": hits / max(int(flags.sum()), 1),
        "flag_recall": hits / int(truth.sum()),
        "n_flagged": int(flags.sum()),
    }


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def run_methods(X, noisy, truth, y, seed) -> dict[str, dict]:
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d, t = timed(cg.diagnose, X, noisy)
        flipped = np.flatnonzero(truth)
        out["diagnose"] = {
            **detection_metrics(d.suspicion, truth),
            **flag_metrics(d.is_label_issue, truth),
            "suggested_correct": float(np.mean(d.suggested_label[flipped] == y[flipped])),
            "ridge": d.ridge,
            "estimated_noise_rate": d.estimated_noise_rate,
            "seconds": t,
        }
        s, t = timed(baselines.knn_disagreement, X, noisy, 10)
        out["knn_cosine"] = {**detection_metrics(s, truth), "seconds": t}
        s, t = timed(baselines.knn_disagreement_euclidean, X, noisy, 10)
        out["knn_euclidean"] = {**detection_metrics(s, truth), "seconds": t}
        (s, _), t = timed(baselines.knn_shapley, X, noisy, 10)
        out["knn_shapley"] = {**detection_metrics(s, truth), "seconds": t}
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores

        start = time.perf_counter()
        codes, probs = baselines.cross_validated_probabilities(X, noisy, seed)
        s = 1.0 - get_label_quality_scores(codes, probs, method="self_confidence")
        t = time.perf_counter() - start
        flags = find_label_issues(codes, probs)
        out["confident_learning"] = {**detection_metrics(s, truth), **flag_metrics(flags, truth), "seconds": t}
    return out


def full(seeds, path_md: Path, path_json: Path) -> None:
    rows = []
    for name in ("digits", "wine", "breast_cancer"):
        X, y = load(name)
        for kind, rates in RATES.items():
            for rate in rates:
                for seed in seeds:
                    noisy, truth = noisy_labels(y, kind, rate, 2718 + seed)
                    methods = run_methods(X, noisy, truth, y, seed)
                    rows.append({"data": name, "noise": kind, "rate": rate, "seed": seed, "methods": methods})
                    d = methods["diagnose"]
                    best = max(methods[m]["auroc"] for m in BASELINES)
                    print(f"{name:14s} {kind:7s} {rate:.1f} s{seed}  diagnose {d['auroc']:.4f} (λ {d['ridge']:g})"
                          f"  best baseline {best:.4f}  AP {d['average_precision']:.4f} vs CL "
                          f"{methods['confident_learning']['average_precision']:.4f}", flush=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
            "seeds": list(seeds), "flip_seed": "2718 + seed"}
    path_json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    path_md.write_text(markdown(rows, meta))


def markdown(rows, meta) -> str:
    lines = ["# Label diagnosis vs label-noise detectors", "",
             "Generated by `python bench/diagnosis/run.py`; every number is in `results.json`. "
             f"Flip seeds 2718 + {meta['seeds']}. Machine: {meta['machine']}, {meta['cpus']} cores (shared).", "",
             "AUROC (mean over seeds) of finding the flipped rows; `best baseline` is the best of k-NN disagreement "
             "(cosine, Euclidean; k = 10), KNN Data Shapley and confident learning; `AP` diagnose vs confident "
             "learning; flags: precision / recall of `is_label_issue` and of cleanlab's `find_label_issues`; "
             "`sugg` = share of flipped rows whose suggested label is the true one.", "",
             "| data | noise | rate | diagnose AUROC | best baseline (which) | Δ | diagnose AP | CL AP | "
             "flags P/R diagnose | flags P/R cleanlab | sugg | λ | est. noise | cells ≥ best | cells AP > CL |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    cells = {}
    for r in rows:
        cells.setdefault((r["data"], r["noise"], r["rate"]), []).append(r["methods"])
    auroc_short, ap_short = [], []
    for (name, kind, rate), ms in cells.items():
        mean = lambda m, key, ms=ms: float(np.mean([x[m][key] for x in ms]))  # noqa: E731
        best_name = max(BASELINES, key=lambda m: mean(m, "auroc"))
        wins = sum(x["diagnose"]["auroc"] >= max(x[m]["auroc"] for m in BASELINES) for x in ms)
        ap_wins = sum(x["diagnose"]["average_precision"] > x["confident_learning"]["average_precision"] for x in ms)
        for x in ms:
            gap = x["diagnose"]["auroc"] - max(x[m]["auroc"] for m in BASELINES)
            if gap < 0:
                auroc_short.append((name, kind, rate, gap))
            gap = x["diagnose"]["average_precision"] - x["confident_learning"]["average_precision"]
            if gap <= 0:
                ap_short.append((name, kind, rate, gap))
        lambdas = sorted({x["diagnose"]["ridge"] for x in ms})
        lines.append(
            f"| {name} | {kind} | {rate:.0%} | {mean('diagnose', 'auroc'):.4f} | {mean(best_name, 'auroc'):.4f} "
            f"({best_name}) | {mean('diagnose', 'auroc') - mean(best_name, 'auroc'):+.4f} | "
            f"{mean('diagnose', 'average_precision'):.3f} | {mean('confident_learning', 'average_precision'):.3f} | "
            f"{mean('diagnose', 'flag_precision'):.2f} / {mean('diagnose', 'flag_recall'):.2f} | "
            f"{mean('confident_learning', 'flag_precision'):.2f} / {mean('confident_learning', 'flag_recall'):.2f} | "
            f"{mean('diagnose', 'suggested_correct'):.2f} | {', '.join(f'{v:g}' for v in lambdas)} | "
            f"{mean('diagnose', 'estimated_noise_rate'):.2f} | {wins}/{len(ms)} | {ap_wins}/{len(ms)} |")
    n_runs = len(rows)
    lines += ["", f"Runs (data × noise × rate × seed): {n_runs}. diagnose's AUROC below the best baseline in "
              f"{len(auroc_short)} runs; AP not above confident learning in {len(ap_short)} runs.", ""]
    if auroc_short:
        lines += ["AUROC shortfalls (run: diagnose − best baseline):", ""]
        lines += [f"- {n} {k} {r:.0%}: {g:+.4f}" for n, k, r, g in auroc_short]
        lines.append("")
    if ap_short:
        lines += ["AP shortfalls (run: diagnose − confident learning):", ""]
        lines += [f"- {n} {k} {r:.0%}: {g:+.4f}" for n, k, r, g in ap_short]
        lines.append("")
    lines += ["Mean seconds per run:", "", "| data | " + " | ".join(("diagnose",) + BASELINES) + " |",
              "|---|" + "---|" * (1 + len(BASELINES))]
    for name in ("digits", "wine", "breast_cancer"):
        ms = [r["methods"] for r in rows if r["data"] == name]
        lines.append(f"| {name} | " + " | ".join(f"{np.mean([x[m]['seconds'] for x in ms]):.3f}"
                                                 for m in ("diagnose",) + BASELINES) + " |")
    return "\n".join(lines) + "\n"


VARIANTS = {
    "r0": dict(rounds=0),
    "r1 x1.0": dict(rounds=1, factor=1.0),
    "r1 x1.5": dict(rounds=1, factor=1.5),
    "r2 x1.0": dict(rounds=2, factor=1.0),
    "r1 x1.0 grid": dict(rounds=1, factor=1.0, ridge_search="grid"),
    "r1 0.3 coarse": dict(rounds=1, set_aside=0.3, ridge_grid=(0, 0.01, 0.1, 1, 10), ridge_search="grid"),
}


def tune(seeds, names) -> None:
    """The defaults' measurements: mean AUROC / AP / flag P,R of variants of diagnose per (data, noise)."""
    results = {}
    for name in names:
        X, y = load(name)
        for kind, rates in RATES.items():
            for rate in rates:
                for seed in seeds:
                    noisy, truth = noisy_labels(y, kind, rate, 2718 + seed)
                    for label, kw in VARIANTS.items():
                        kw = dict(kw)
                        factor = kw.pop("factor", 1.5)
                        old = diagnosis.SET_ASIDE_FACTOR
                        diagnosis.SET_ASIDE_FACTOR = factor
                        try:
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore")
                                d = cg.diagnose(X, noisy, **kw)
                        finally:
                            diagnosis.SET_ASIDE_FACTOR = old
                        m = detection_metrics(d.suspicion, truth)
                        f = flag_metrics(d.is_label_issue, truth)
                        results.setdefault((name, kind, rate, label), []).append(
                            (m["auroc"], m["average_precision"], f["flag_precision"], f["flag_recall"]))
                print(f"{name} {kind} {rate}: " + "  ".join(
                    f"{lab}={np.mean([v[0] for v in results[(name, kind, rate, lab)]]):.4f}" for lab in VARIANTS),
                    flush=True)
    print("\nmean over cells (AUROC, AP, flag precision, flag recall):")
    for label in VARIANTS:
        vals = np.array([v for (n, k, r, lab), vs in results.items() if lab == label for v in vs])
        print(f"  {label:14s} " + " ".join(f"{x:.4f}" for x in vals.mean(axis=0)) +
              f"   min AUROC {vals[:, 0].min():.4f}")


def speed(repeats: int = 5) -> None:
    """diagnose vs confident learning on digits, side by side in one run, median of ``repeats``;
    "before" is the defaults with the kernel's condition estimate on, as it was before the
    diagnosis skipped it. The number of factorizations of each variant is counted."""
    from cgscore_native import _loo

    X, y = load("digits")
    noisy, _ = flip_labels(y, 0.2, 2718)
    variants = {
        "diagnose (before: with cond. estimate)": {"_condition": True},
        "diagnose": {},
        "diagnose n_threads=1": {"n_threads": 1},
        "diagnose ridge=0.1": {"ridge": 0.1},
        "diagnose ridge=0, rounds=0": {"ridge": 0.0, "rounds": 0},
        "diagnose kernel='auto'": {"kernel": "auto"},
    }
    times: dict[str, list[float]] = {k: [] for k in (*variants, "confident_learning")}
    fits: dict[str, int] = {}
    real_fit = _loo.fit_rows
    default_condition = _loo.CONDITION_ESTIMATE
    for _ in range(repeats):
        for name, kw in variants.items():
            kw = dict(kw)
            _loo.CONDITION_ESTIMATE = kw.pop("_condition", default_condition)
            count = [0]

            def counted(*a, count=count, **k):
                count[0] += 1
                return real_fit(*a, **k)

            _loo.fit_rows = counted
            try:
                times[name].append(timed(cg.diagnose, X, noisy, **kw)[1])
            finally:
                _loo.fit_rows = real_fit
                _loo.CONDITION_ESTIMATE = default_condition
            fits[name] = count[0]
        times["confident_learning"].append(timed(baselines.confident_learning, X, noisy, 0)[1])
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        ratio = med["confident_learning"] / v
        nfits = f"{fits[k]} fits" if k in fits else ""
        print(f"{k:40s} median {v:.3f} s  confident learning / this {ratio:5.2f}x  {nfits:8s}"
              f"  (runs: {', '.join(f'{t:.3f}' for t in times[k])})")


def selection(n: int = 5000, d: int = 784, repeats: int = 3) -> None:
    """What choosing (kernel, λ) costs beside the fits it chooses for, at n rows of d features
    (10 Gaussian classes of 4 clusters each, 20 % uniform flips): each variant's wall time
    against the time of its own whole-data fits (one round-0 fit plus the refit), median of
    ``repeats``, in one run. The paper's CG-score at λ = 0 is a third fit when the kernel is not
    the paper's (or λ is not 0)."""
    from cgscore_native import _loo

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, d)) * 0.35
    which = rng.integers(0, 40, size=n)
    X = (centres[which] + rng.normal(size=(n, d))).astype(np.float32)
    noisy, _ = flip_labels(which % 10, 0.2, 0)
    variants = {"kernel='paper' (default)": {}, "kernel='auto'": {"kernel": "auto"},
                "kernel='auto', rounds=0": {"kernel": "auto", "rounds": 0}}
    real_fit = _loo.fit_rows
    for name, kw in variants.items():
        walls, fit_times, counts = [], [], []
        for _ in range(repeats):
            calls: list[float] = []

            def timed_fit(*a, calls=calls, **k):
                start = time.perf_counter()
                out = real_fit(*a, **k)
                calls.append(time.perf_counter() - start)
                return out

            _loo.fit_rows = timed_fit
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result, wall = timed(cg.diagnose, X, noisy, seed=0, **kw)
            finally:
                _loo.fit_rows = real_fit
            walls.append(wall)
            fit_times.append(statistics.median(calls))
            counts.append(len(calls))
        one_fit = statistics.median(fit_times)
        reference = one_fit * (2 if kw.get("rounds", 1) else 1)  # round 0 (+ the refit)
        wall = statistics.median(walls)
        print(f"n={n} d={d} {name:28s} wall {wall:6.2f} s, {counts[-1]} fits of {one_fit:.2f} s; "
              f"wall / (fit{' + refit' if kw.get('rounds', 1) else ''}) = {wall / reference:.2f}; "
              f"chose {result.kernel}, λ {result.ridge:.3g}  (walls: {', '.join(f'{w:.2f}' for w in walls)})",
              flush=True)


def rate(sizes=(5000, 6000), d: int = 256, K: int = 10, repeats: int = 5) -> None:
    """The whole-data factorization with K right-hand sides against the dgemm rate, in one run.

    Flops of one diagnosis fit (no condition estimate): the Gram matrix n²d, the Cholesky
    factorization n³/3, the inverse of L n³/3, the two triangular solves 2n²K (the column norms
    and the Gram's arccos are not counted). The dgemm rate is NumPy's (the same OpenBLAS the
    kernel calls) on a 3000×3000 product, measured just before each of the kernel's runs.
    Medians, and the best of each (on a shared machine the best is the cleaner reading).
    """
    from cgscore_native._kernel import KernelOptions, run_kernel
    from cgscore_native._loo import signed_targets
    from cgscore_native._prepare import prepare_features

    rng = np.random.default_rng(0)
    m = 3000
    A, B = rng.normal(size=(m, m)), rng.normal(size=(m, m))
    for n in sizes:
        X = rng.normal(size=(n, d))
        data, _ = prepare_features(X)
        Y = signed_targets(rng.integers(0, K, n), K)
        kernel, gemm, steps = [], [], []
        for _ in range(repeats):
            start = time.perf_counter()
            A @ B
            gemm.append(2 * m**3 / (time.perf_counter() - start))
            start = time.perf_counter()
            out = run_kernel(data, Y, KernelOptions(ridge=0.1, condition_estimate=False))
            kernel.append(time.perf_counter() - start)
            steps.append(out["seconds"])
        flops = n * n * d + 2 * n**3 / 3 + 2 * n * n * K
        t, g = statistics.median(kernel), statistics.median(gemm)
        print(f"n={n} d={d} K={K}: fit {t:.2f} s = {flops / t / 1e9:.1f} GFLOP/s; dgemm {g / 1e9:.1f} GFLOP/s; "
              f"ratio {flops / t / g:.2f}; best of each: {flops / min(kernel) / max(gemm):.2f}  "
              f"(fits: {', '.join(f'{x:.2f}' for x in kernel)}; dgemm: {', '.join(f'{x / 1e9:.1f}' for x in gemm)})")
        last = steps[int(np.argsort(kernel)[len(kernel) // 2])]
        print("   steps (s): " + ", ".join(f"{k} {v:.2f}" for k, v in last.items()))


def chunked(sizes=(1200, 900, 600, 300)) -> None:
    """AUROC and time of chunked mode against the whole-data diagnosis on digits (uniform flips, seed 2718)."""
    X, y = load("digits")
    print("rate  chunk_size  AUROC   AP      seconds")
    for rate in (0.1, 0.2, 0.4):
        noisy, truth = flip_labels(y, rate, 2718)
        for size in (None, *sizes):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d, t = timed(cg.diagnose, X, noisy, chunk_size=size, seed=0)
            m = detection_metrics(d.suspicion, truth)
            print(f"{rate:.1f}   {str(size or 'whole'):10s}  {m['auroc']:.4f}  {m['average_precision']:.4f}  {t:.2f}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one flip seed")
    parser.add_argument("--tune", action="store_true", help="compare variants of diagnose (the defaults' evidence)")
    parser.add_argument("--speed", action="store_true", help="diagnose vs confident learning on digits")
    parser.add_argument("--rate", action="store_true", help="the whole-data fit's flop rate vs dgemm at n >= 5000")
    parser.add_argument("--chunked", action="store_true", help="chunk sizes vs whole data on digits")
    parser.add_argument("--selection", action="store_true", help="the kernel choice's cost beside the fits, n=5000 d=784")
    parser.add_argument("--data", nargs="*", default=["digits", "wine", "breast_cancer"])
    args = parser.parse_args()
    seeds = SEEDS[:1] if args.quick else SEEDS
    if args.tune:
        tune(seeds, args.data)
    elif args.speed:
        speed()
    elif args.rate:
        rate()
    elif args.chunked:
        chunked()
    elif args.selection:
        selection()
    else:
        full(seeds, HERE / "results.md", HERE / "results.json")


if __name__ == "__main__":
    main()
