"""Features from disk: the peak memory of opening them and of the diagnosis's input stage.

Writes n × d float32 features (standard normal, seeded) as one ``.npy``, as ``--shards``
``.npy`` shards and as a Parquet fixed-size-list column (row groups of 100 000), then, in a
fresh process per form, opens each through ``cgscore_native._sources.open_features`` and runs
the input stage every diagnosis runs (``feature_array`` → ``to_kernel_rows`` →
``prepare_features``: row checks, norms, duplicate hashes). It prints the growth of the peak
resident memory (VmHWM, from /proc/self/status; not ``ru_maxrss``, which Linux carries over
from the parent at exec) after opening and after the stage, and the seconds each took.

    python bench/streaming_input.py                       # n = 1 000 000, d = 256 (1.02 GB)
    python bench/streaming_input.py --n 200000 --d 64 --dir /tmp/streaming
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

MEASURE = """
import json, sys, time
from cgscore_native._sources import open_features
from cgscore_native._validate import conversion_bytes, feature_array, to_kernel_rows
from cgscore_native._prepare import prepare_features

def peak():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

base = peak(); start = time.perf_counter()
X = open_features(sys.argv[1]); opened = peak(); t_open = time.perf_counter() - start
Xa = feature_array(X); copy = conversion_bytes(Xa)
prepare_features(to_kernel_rows(Xa), 1)
print(json.dumps({"open_MB": (opened - base) / 1e6, "stage_MB": (peak() - base) / 1e6, "copy_bytes": copy,
                  "open_s": t_open, "stage_s": time.perf_counter() - start - t_open}))
"""


def write_inputs(folder: Path, n: int, d: int, shards: int) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    X = np.lib.format.open_memmap(folder / "x.npy", mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(0)
    step = 100_000
    for s in range(0, n, step):
        X[s:s + step] = rng.standard_normal((min(step, n - s), d), dtype=np.float32)
    X.flush()
    (folder / "shards").mkdir(exist_ok=True)
    bounds = np.linspace(0, n, shards + 1).astype(int)
    for k in range(shards):
        np.save(folder / "shards" / f"part{k}.npy", X[bounds[k]:bounds[k + 1]])
    schema = pa.schema([("emb", pa.list_(pa.float32(), d)), ("label", pa.int64())])
    with pq.ParquetWriter(folder / "x.parquet", schema) as writer:
        for s in range(0, n, step):
            block = np.ascontiguousarray(X[s:s + step])
            column = pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), d)
            writer.write_table(pa.table({"emb": column, "label": np.arange(s, s + len(block)) % 10}, schema=schema))
    del X
    return {".npy (memory-mapped)": folder / "x.npy", f"{shards} shards": folder / "shards",
            "Parquet list column": folder / "x.parquet"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the inputs (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        inputs = write_inputs(folder, args.n, args.d, args.shards)
        print(f"{args.n} x {args.d} float32: {4 * args.n * args.d / 1e6:.0f} MB; a float64 copy: "
              f"{8 * args.n * args.d / 1e6:.0f} MB")
        env = dict(os.environ, OMP_NUM_THREADS="1")
        for name, path in inputs.items():
            out = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                                 env=env, check=True).stdout
            r = json.loads(out)
            print(f"{name:<22} open +{r['open_MB']:.0f} MB in {r['open_s']:.2f} s; with the input stage "
                  f"+{r['stage_MB']:.0f} MB ({r['stage_s']:.1f} s); copy counted {r['copy_bytes']} B")


if __name__ == "__main__":
    main()
