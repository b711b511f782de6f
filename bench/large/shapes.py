"""Sweep the large mode's cell shape (core + halo rows) on one data set.

    python bench/large/shapes.py --set multicluster --n 20000 --kernel relu-ntk-4 --shapes 1000+2000,200+1800
    python bench/large/shapes.py --set scale --n 100000 --shapes 500+1000,200+1800 --ridge auto --rounds 1

Sets: those of ``run.py compare`` (multicluster, mixture, blobs) and ``scale`` (the memory-mapped
scale mixture of make_data.py). Each shape replaces ``_large.cell_shape`` for one default-seeded
``diagnose(mode="large")``; the halo's candidates come from 1 + halo/core nearest centroids, as
in the package. One JSON line per shape on stdout.
"""

from __future__ import annotations

import argparse
import json
import time

import make_data
import run

import cgscore_native as cg
from cgscore_native import _large


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--kernel", default="paper")
    ap.add_argument("--shapes", required=True, help="core+halo,core+halo,...")
    ap.add_argument("--ridge", default="0.3", help="a λ, or auto")
    ap.add_argument("--rounds", type=int, default=0)
    args = ap.parse_args()
    if args.set == "scale":
        X, y, flipped = make_data.load(run.mixture_folder(args.n))
    else:
        X, y, flipped = run.data_set(args.set, args.n)
    ridge = args.ridge if args.ridge == "auto" else float(args.ridge)
    for shape in args.shapes.split(","):
        core, halo = (int(v) for v in shape.split("+"))
        _large.cell_shape = lambda n, c=core, h=halo: (c, h)  # noqa: E731 (the swept parameter)
        t = time.perf_counter()
        d = cg.diagnose(X, y, mode="large", ridge=ridge, rounds=args.rounds, kernel=args.kernel, seed=0)
        print(json.dumps({"set": args.set, "n": args.n, "kernel": d.kernel, "core": core, "halo": halo,
                          "ridge": d.ridge, "rounds": args.rounds, "seconds": round(time.perf_counter() - t, 1),
                          "auroc": round(run.auroc(d.suspicion, flipped), 4), "largest_fit": d.params["largest_fit"],
                          "load": run.load_average()}), flush=True)


if __name__ == "__main__":
    main()
