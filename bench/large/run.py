"""Side-by-side runs of the large-data diagnosis (bench/large/README.md).

    python bench/large/run.py scale --n 1000000 --out bench/large/results_1m.json
        the mixture of make_data.py (generated into --data if absent), default diagnose() on the
        memory-mapped .npy; time, peak RSS, AUROC; k-NN disagreement on a subsample of ≤ 50 000 rows
    python bench/large/run.py compare --set multicluster --n 20000 [--ridge 0.3 --rounds 0]
        exact vs large on the same data and arguments: time and AUROC of each
    python bench/large/run.py versus --n 100000 --out bench/large/versus_100k.json
        on the scale mixture, in one process: default diagnose(), confident learning (5-fold
        logistic regression) and exact brute-force k-NN disagreement (Euclidean and cosine)
    python bench/large/run.py curve --sizes 1000,10000,100000 --out bench/large/curve.jsonl [--modes large,exact]
        default diagnose() per n and mode, each in a fresh process (its own peak RSS); resumes
        (a (n, mode) already measured in --out is not rerun); exact past 20 000 rows only with
        --force-exact. `one` is its per-run helper. Plot: bench/large/plot.py.
    python bench/large/run.py dask --n 100000 --out bench/large/dask_100k.json
        default diagnose() locally and on a LocalCluster of two workers: bit-identical?

Each record carries `uptime`'s load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import make_data  # noqa: E402

import cgscore_native as cg  # noqa: E402
from cgscore_native.experiments.baselines import knn_disagreement  # noqa: E402
from cgscore_native.experiments.label_noise import flip_labels  # noqa: E402
from cgscore_native.experiments.metrics import auroc  # noqa: E402

KNN_SUBSAMPLE = 50_000
KNN_K = 10  # neighbours besides the row itself
EXACT_CEILING = 20_000  # curve: the exact mode past this many rows is hours (O(n³)); --force-exact runs it
RSS_NOTE = ("peak_rss_gib is the process's peak RSS (VmHWM) after the method: a running maximum (as ru_maxrss "
            "is), so each figure covers that method and everything before it in the process; data generation "
            "runs in a separate process and is not counted")


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def peak_rss_gib() -> float:
    """This process's peak resident memory so far (GiB): VmHWM of /proc/self/status where there is one.

    Not ru_maxrss where avoidable: Linux carries the parent's peak into a child's ru_maxrss across
    fork and exec (a child of a 300 MiB parent reports ≥ 300 MiB), so it would charge a run with
    whatever its launcher held. Both are running maxima: a figure covers everything before it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def data_set(name: str, n: int):
    """(X, noisy labels, flipped) of a named set."""
    if name == "multicluster":
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=n, n_features=40, n_informative=12, n_redundant=4, n_classes=5,
                                   n_clusters_per_class=8, class_sep=1.5, random_state=1)
    elif name == "mixture":
        basis, centres = make_data.mixture(0)
        X, y = make_data.shard(0, 0, n, basis, centres)
    elif name == "blobs":  # smooth: one Gaussian per class, 64 features
        rng = np.random.default_rng(1)
        y = rng.integers(0, 10, size=n)
        X = (rng.standard_normal((10, 64)) * 0.6)[y] + rng.standard_normal((n, 64))
    else:
        raise SystemExit(f"unknown set {name!r}")
    noisy, flipped = flip_labels(np.asarray(y), 0.2, seed=0)
    return X, noisy, flipped


def compare(args) -> None:
    X, y, flipped = data_set(args.set, args.n)
    ridge = "auto" if args.ridge is None else args.ridge
    out = {"set": args.set, "n": args.n, "ridge": ridge, "rounds": args.rounds, "kernel": args.kernel}
    for mode in args.modes.split(","):
        load = load_average()
        t = time.perf_counter()
        d = cg.diagnose(X, y, mode=mode, ridge=ridge, rounds=args.rounds, kernel=args.kernel, seed=0)
        out[mode] = {"seconds": round(time.perf_counter() - t, 1), "auroc": round(auroc(d.suspicion, flipped), 4),
                     "ridge": d.ridge, "load_before": load, "load_after": load_average(),
                     **{k: d.params[k] for k in ("cells", "largest_fit") if k in d.params}}
        print(json.dumps(out), flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(out) + "\n")


def mixture_folder(n: int, folder: str | None = None) -> str:
    """The folder of the scale mixture at n rows (default /tmp/cgscore-mixture-N), written if absent."""
    folder = folder or f"/tmp/cgscore-mixture-{n}"
    if not os.path.exists(os.path.join(folder, "flipped.npy")):
        # In its own process: generating holds several float64 copies of X (≈ 4.5 GiB at 10⁶ rows),
        # which would otherwise be this process's peak RSS, not the measured method's.
        t = time.perf_counter()
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_data.py")
        subprocess.run([sys.executable, script, folder, "--n", str(n), "--shard-rows", str(n)],  # one shard: memory-mapped as it is
                       check=True)
        print(f"generated {folder} in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    return folder


def scale(args) -> None:
    X, y, flipped = make_data.load(mixture_folder(args.n, args.data))
    record = {"n": args.n, "features": int(X.shape[1]), "input_gib": round(X.nbytes / 2**30, 3),
              "load_before": load_average(), "command": " ".join(sys.argv)}
    t = time.perf_counter()
    d = cg.diagnose(X, y, seed=0, progress=args.progress)
    record.update(seconds=round(time.perf_counter() - t, 1), peak_rss_gib=round(peak_rss_gib(), 3),
                  auroc=round(auroc(d.suspicion, flipped), 4), mode=d.mode, ridge=d.ridge,
                  params={k: v for k, v in d.params.items() if k != "ridge_grid"}, load_after=load_average())
    print(json.dumps(record), flush=True)
    rng = np.random.default_rng(0)
    sub = np.sort(rng.choice(args.n, size=min(args.n, KNN_SUBSAMPLE), replace=False))
    t = time.perf_counter()
    knn = knn_disagreement(np.asarray(X[sub]), y[sub])
    record.update(knn_subsample=int(sub.size), knn_auroc=round(auroc(knn, flipped[sub]), 4),
                  knn_seconds=round(time.perf_counter() - t, 1),
                  large_auroc_on_subsample=round(auroc(d.suspicion[sub], flipped[sub]), 4))
    print(json.dumps(record), flush=True)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)


def blas_threads() -> int:
    """The BLAS threads NumPy's matrix products use now (threadpoolctl's view of the process)."""
    from threadpoolctl import threadpool_info

    return max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"), default=1)


def knn_sklearn(X: Any, labels: np.ndarray, metric: str) -> np.ndarray:
    """Share of the k nearest other rows (scikit-learn, brute force) whose label differs from the row's."""
    from sklearn.neighbors import NearestNeighbors

    _, nbrs = NearestNeighbors(n_neighbors=KNN_K + 1, algorithm="brute", metric=metric).fit(X).kneighbors(X)
    rows = np.arange(nbrs.shape[0])[:, None]
    # Drop the row itself; with an exact duplicate it need not come first, and then the farthest goes.
    own = nbrs == rows
    keep = ~own
    keep[~own.any(axis=1), -1] = False
    others = nbrs[keep].reshape(nbrs.shape[0], KNN_K)
    return (labels[others] != labels[:, None]).mean(axis=1)


def timed(name: str, record: dict, run: Callable[[], dict], flipped: np.ndarray) -> None:
    """Run one method, time it, score its suspicion against the flipped rows, and put its entry in
    record["methods"][name]; a MemoryError is recorded there instead of ending the run."""
    entry: dict[str, Any] = {"load_before": load_average()}
    t = time.perf_counter()
    try:
        out = run()
        entry["seconds"] = round(time.perf_counter() - t, 1)
        entry["auroc"] = round(auroc(out.pop("suspicion"), flipped), 4)
        entry.update(out)
    except MemoryError as exc:
        entry.update(seconds=round(time.perf_counter() - t, 1), failed=f"MemoryError: {exc}")
    entry.update(peak_rss_gib=round(peak_rss_gib(), 3), load_after=load_average())
    record["methods"][name] = entry
    print(name, json.dumps(entry), file=sys.stderr, flush=True)


def versus(args) -> None:
    from cgscore_native.experiments.baselines import confident_learning, knn_disagreement_euclidean

    X, y, flipped = make_data.load(mixture_folder(args.n, args.data))
    record: dict[str, Any] = {"n": args.n, "features": int(X.shape[1]), "input_gib": round(X.nbytes / 2**30, 3),
                              "command": " ".join([sys.executable, *sys.argv]), "load_before": load_average(),
                              "rss_before_gib": round(peak_rss_gib(), 3), "notes": RSS_NOTE, "methods": {}}

    def diagnosis() -> dict:
        d = cg.diagnose(X, y, seed=0)
        return {"suspicion": d.suspicion, "mode": d.mode, "ridge": d.ridge, "kernel": d.kernel,
                "threads": int(cg.build_info()["default_threads"]),
                "params": {k: v for k, v in d.params.items() if k != "ridge_grid"},
                "method": "cgscore_native.diagnose(X, y, seed=0): defaults, X memory-mapped float32 as stored"}

    def confident() -> dict:
        return {"suspicion": confident_learning(X, y, seed=0), "blas_threads": 1, "cv_jobs": 1,
                "method": ("cgscore_native.experiments.baselines.confident_learning(X, y, seed=0): 1 - cleanlab "
                           "self-confidence of 5-fold stratified out-of-fold predict_proba of StandardScaler + "
                           "LogisticRegression(max_iter=1000); the function makes its own float64 copy of X and "
                           "limits BLAS to 1 thread inside the call (its default blas_threads=1); folds run one "
                           "after another (cross_val_predict n_jobs=None)")}

    def knn(metric: str) -> Callable[[], dict]:
        def run() -> dict:
            threads = blas_threads()
            if args.knn == "sklearn":
                return {"suspicion": knn_sklearn(X, y, metric), "blas_threads": threads,
                        "method": (f"sklearn.neighbors.NearestNeighbors(n_neighbors={KNN_K + 1}, algorithm='brute', "
                                   f"metric='{metric}') on X as stored (float32); self dropped, k = {KNN_K}")}
            own = knn_disagreement_euclidean if metric == "euclidean" else knn_disagreement
            measure = "squared distance" if metric == "euclidean" else "cosine similarity of the unit rows"
            return {"suspicion": own(X, y, k=KNN_K), "blas_threads": threads,
                    "method": (f"cgscore_native.experiments.baselines.{own.__name__}(X, y, k={KNN_K}): exact brute "
                               f"force (every pair's {measure} by blocked float64 matrix products, 256 query rows "
                               "against all n, then the k nearest by argpartition, self excluded): the same "
                               f"neighbours as sklearn NearestNeighbors(algorithm='brute', metric='{metric}') up to "
                               "ties (identical suspicion at n = 2000, checked); float64 copy of X made inside; "
                               "--knn sklearn runs scikit-learn's instead")}
        return run

    timed("diagnose", record, diagnosis, flipped)
    timed("confident_learning", record, confident, flipped)
    timed("knn_euclidean", record, knn("euclidean"), flipped)
    timed("knn_cosine", record, knn("cosine"), flipped)
    record["load_after"] = load_average()
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, args.out)  # no half-written record
    print(json.dumps(record), flush=True)


def one(args) -> None:
    """One default diagnose() on the memory-mapped mixture; prints one JSON line (the curve's helper)."""
    X, y, flipped = make_data.load(mixture_folder(args.n, args.data))
    rss_before, load = round(peak_rss_gib(), 3), load_average()
    t = time.perf_counter()
    d = cg.diagnose(X, y, seed=0, mode=args.mode)
    seconds = round(time.perf_counter() - t, 1)
    print(json.dumps({"n": args.n, "mode": args.mode, "ran": d.mode, "seconds": seconds,
                      "peak_rss_gib": round(peak_rss_gib(), 3), "rss_before_gib": rss_before,
                      "input_gib": round(X.nbytes / 2**30, 3), "auroc": round(auroc(d.suspicion, flipped), 4),
                      "ridge": d.ridge, "kernel": d.kernel, "threads": int(cg.build_info()["default_threads"]),
                      **{k: d.params[k] for k in ("cells", "largest_fit") if k in d.params},
                      "load_before": load, "load_after": load_average()}), flush=True)


def curve(args) -> None:
    records = []
    if os.path.exists(args.out):
        with open(args.out) as f:
            records = [json.loads(line) for line in f if line.strip()]
    measured = {(r["n"], r["mode"]) for r in records if "seconds" in r}
    seen = {(r["n"], r["mode"]) for r in records}
    for n in (int(v) for v in args.sizes.split(",")):
        for mode in args.modes.split(","):
            if (n, mode) in measured:
                print(f"n={n} mode={mode}: already in {args.out}", file=sys.stderr, flush=True)
                continue
            if mode == "exact" and n > EXACT_CEILING and not args.force_exact:
                if (n, mode) not in seen:
                    append(args.out, {"n": n, "mode": mode, "skipped": f"exact past {EXACT_CEILING} rows is hours "
                                      "(O(n^3)); --force-exact runs it"})
                continue
            folder = mixture_folder(n, None)  # generated here, so the run's process only reads it
            command = [sys.executable, os.path.abspath(__file__), "one", "--n", str(n), "--mode", mode, "--data", folder]
            proc = subprocess.run(command, capture_output=True, text=True)
            if proc.returncode == 0:
                record = json.loads(proc.stdout.strip().splitlines()[-1])
            else:  # a crash or MemoryError: recorded, the next run goes on (and a rerun retries it)
                tail = (proc.stderr.strip().splitlines() or [""])[-1]
                record = {"n": n, "mode": mode, "failed": tail, "returncode": proc.returncode}
            record["command"] = " ".join(command)
            append(args.out, record)


def append(path: str, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
    print(json.dumps(record), flush=True)


def dask(args) -> None:
    """Default diagnose() locally and on a LocalCluster of two one-thread worker processes: the
    same bits expected (the cells are tasks; their outcomes are combined in cell order)."""
    from distributed import Client, LocalCluster

    X, y, flipped = make_data.load(mixture_folder(args.n, args.data))
    record: dict = {"n": args.n, "command": " ".join(sys.argv), "load_before": load_average()}
    t = time.perf_counter()
    local = cg.diagnose(X, y, seed=0)
    record["local_seconds"] = round(time.perf_counter() - t, 1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        t = time.perf_counter()
        remote = cg.diagnose(X, y, seed=0, client=client)
        record["dask_seconds"] = round(time.perf_counter() - t, 1)
    record.update(mode=local.mode, auroc=round(auroc(local.suspicion, flipped), 4),
                  identical={name: bool(np.array_equal(getattr(local, name), getattr(remote, name)))
                             for name in ("suspicion", "suggested_label", "cg_score", "margin_by_round")},
                  load_after=load_average())
    print(json.dumps(record), flush=True)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("scale")
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--data")
    s.add_argument("--out", required=True)
    s.add_argument("--progress", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("--set", required=True)
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--ridge", type=float)
    c.add_argument("--rounds", type=int, default=1)
    c.add_argument("--kernel", default="paper")
    c.add_argument("--modes", default="exact,large")
    c.add_argument("--out")
    v = sub.add_parser("versus")
    v.add_argument("--n", type=int, required=True)
    v.add_argument("--data")
    v.add_argument("--out", required=True)
    v.add_argument("--knn", choices=("baselines", "sklearn"), default="baselines",
                   help="exact brute-force k-NN: the package's baselines (default) or scikit-learn's")
    r = sub.add_parser("curve")
    r.add_argument("--sizes", default="1000,10000,100000")
    r.add_argument("--modes", default="large,exact")
    r.add_argument("--out", required=True)
    r.add_argument("--force-exact", action="store_true")
    k = sub.add_parser("dask")
    k.add_argument("--n", type=int, required=True)
    k.add_argument("--data")
    k.add_argument("--out", required=True)
    o = sub.add_parser("one")  # the curve's per-run process
    o.add_argument("--n", type=int, required=True)
    o.add_argument("--mode", required=True)
    o.add_argument("--data")
    args = ap.parse_args()
    {"scale": scale, "compare": compare, "versus": versus, "curve": curve, "dask": dask, "one": one}[args.command](args)


if __name__ == "__main__":
    main()
