"""The `cgscore` command line."""

from __future__ import annotations

import argparse
import sys

import numpy as np


def _demo(args: argparse.Namespace) -> int:
    from .api import score
    from .datasets import flip_labels, load_digits
    from .metrics import auroc, precision_at_k

    images, target = load_digits()
    noisy, flipped = flip_labels(target, args.noise, seed=args.seed)
    result = score(images, noisy, repeats=args.repeats, seed=args.seed, n_threads=args.threads)
    print(
        f"digits: {len(noisy)} images, {flipped.sum()} labels flipped ({args.noise:.0%}), "
        f"repeats={args.repeats}, seed={args.seed}"
    )
    print(f"AUROC of the CG-score for finding flipped labels: {auroc(result.scores, flipped):.4f}")
    print(f"precision at k={flipped.sum()}: {precision_at_k(result.scores, flipped):.4f}")
    print(f"top {args.top} suspects (row, given label, true label, CG-score):")
    for row in result.ranking()[: args.top]:
        mark = "flipped" if flipped[row] else ""
        print(f"  {row:5d}  {noisy[row]:2d}  {target[row]:2d}  {result.scores[row]:10.4f}  {mark}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cgscore", description="Complexity-gap scores (CG-score) for data valuation.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="score the embedded digits data with 10%% flipped labels",
        description="Flip a seeded fraction of the embedded digits' labels, score, and report how well "
        "the CG-score finds the flipped ones.\n\nexample: cgscore demo --noise 0.2 --repeats 3",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--noise", type=float, default=0.1, help="fraction of labels to flip (default 0.1)")
    demo.add_argument("--repeats", type=int, default=1, help="repeats of the protocol (default 1)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the flips and negatives (default 0)")
    demo.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    demo.add_argument("--top", type=int, default=10, help="how many suspects to list (default 10)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, OSError, MemoryError) as exc:
        print(f"cgscore: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
