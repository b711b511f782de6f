"""The `cgscore` command line: score, diagnose, report, prune, noise-bench and demo.

Each command loads, checks every input and the destination first, computes, then writes
atomically. Errors are one line on stderr with exit code 2 and no traceback (set
CGSCORE_DEBUG=1 to see it); nothing is written when a command fails.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
import time
import warnings
from typing import Any, Callable, NoReturn

from .. import __version__
from ..errors import one_line

EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors, pointing at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- argument types -----------------------------------------------------------------------------

def parse_bytes(text: str) -> int:
    """'8GiB', '512MiB', '2GB', '1e9' or '1000000' as a number of bytes (the grammar of ``memory_limit``)."""
    from ..utils import parse_memory_limit

    try:
        value = parse_memory_limit(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive size; write e.g. 8GiB, 512MiB or 2000000000") from None
    assert value is not None  # only None parses to None
    return value


def parse_rates(text: str) -> list[float]:
    """'0.1,0.2,0.4' as a list of fractions strictly between 0 and 1."""
    try:
        rates = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write rates as fractions separated by commas, e.g. 0.1,0.2,0.4"
        ) from None
    if not rates or not all(0 < r < 1 for r in rates):
        raise argparse.ArgumentTypeError(f"{text!r}: every rate must lie strictly between 0 and 1")
    return rates


def parse_size(text: str) -> tuple[int, ...]:
    """'28x28', '32x32x3' or '3x32x32' as a tuple of whole numbers: (height, width[, channels]),
    or channels first when the first number is 1, 3 or 4 and the last is not (CIFAR's flat rows)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*)?", text)
    values = tuple(int(v) for v in m.groups() if v is not None) if m else ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: write the image size as HEIGHTxWIDTH or HEIGHTxWIDTHxCHANNELS, "
                                         "e.g. 28x28 or 32x32x3")
    return values


def _number(cast: Callable[[str], Any], ok: Callable[[Any], bool], expected: str, *, auto: bool = False):
    """An argparse type: ``cast(text)`` when ``ok`` accepts it, else one line saying what was
    expected; with ``auto``, the word 'auto' too."""

    def parse(text: str) -> Any:
        if auto and text.strip().lower() == "auto":
            return "auto"
        try:
            value = cast(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r}: expected {expected}")
        return value

    return parse


_positive_int = _number(int, lambda v: v >= 1, "a whole number >= 1")
_whole_number = _number(int, lambda v: v >= 0, "a whole number >= 0")
_fraction = _number(float, lambda v: 0 < v <= 1, "a fraction in (0, 1]")
_ridge = _number(float, lambda v: 0 <= v < float("inf"), "a number >= 0, e.g. 1e-4")


def _kernel_name(text: str) -> str:
    """--kernel: checked here so a bad name is a usage error listing the valid ones."""
    from ..utils import parse_kernel

    try:
        parse_kernel(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
_ridge_or_auto = _number(float, lambda v: 0 <= v < float("inf"), "'auto' or a number >= 0, e.g. 0.1", auto=True)
_share_or_auto = _number(float, lambda v: 0 <= v < 1, "'auto' or a share in [0, 1), e.g. 0.2", auto=True)


# -- commands -----------------------------------------------------------------------------------


def _load_input(args: argparse.Namespace, need_labels: bool = True):
    from .loaders import load

    return load(args.input if hasattr(args, "input") else args.data, label_column=args.label_column,
                labels=args.labels, image_size=args.image_size, need_labels=need_labels,
                progress=not getattr(args, "quiet", False), id_column=args.id_column, drop=args.drop,
                memory_limit=getattr(args, "memory_limit", None))


def _with_row_ids(result: Any, data: Any) -> Any:
    """The result with the data's row names (image paths, --id-column) for its table."""
    from dataclasses import replace

    return result if data.ids is None else replace(result, ids=data.ids, id_name=data.id_name)


def _output_frame(result: Any, args: argparse.Namespace) -> Any:
    """The table to write: every row in input order, or with --sort most suspicious first, or with
    --flagged-only the flagged rows only (most suspicious first)."""
    if getattr(args, "flagged_only", False):
        frame = result.label_issues()
    else:
        # One word for the labels the user gave, in `score`'s table as in `diagnose`'s.
        frame = result.to_frame().rename(columns={"label": "given_label"})
        if getattr(args, "sort", "input") != "input":
            frame = frame.iloc[result.ranking()]
    return with_run_columns(frame)


def with_run_columns(frame: Any) -> Any:
    """A diagnosis table with what its predictions were made with (``to_frame().attrs``: the
    kernel, λ, ...) as constant columns, so that every format (CSV too) carries them to
    ``cgscore report``; other tables unchanged."""
    from .results import RUN_COLUMNS

    extra = {k: frame.attrs[k] for k in RUN_COLUMNS if k in frame.attrs and k not in frame.columns}
    return frame.assign(**extra) if extra else frame


def _engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for score() from the engine flags, only those the user gave (the
    cluster's client is made separately, by _connect, after the input is checked)."""
    wanted = {"chunk_size": args.chunk_size, "checkpoint": args.checkpoint, "memory_limit": args.memory_limit,
              "ridge": getattr(args, "ridge", None)}
    return {k: v for k, v in wanted.items() if v is not None}


def _connect(address: str) -> Any:
    """A dask.distributed Client for --scheduler, created only when asked for."""
    try:
        from dask.distributed import Client
    except ImportError:
        from ..utils import missing

        raise missing("dask.distributed", "--scheduler") from None
    return Client(address)


def _compute_and_write(args: argparse.Namespace, what: str, compute: Callable[..., Any]) -> tuple[Any, float]:
    """The frame `score` and `diagnose` share: refuse a bad destination before any work, load the
    input, run ``compute(data, **engine_options)`` (on a cluster with --scheduler), write the
    result's table atomically; returns the result and the seconds the computation took."""
    from ..utils import require
    from .writers import check_destination, check_not_input, write_table

    check_destination(args.output, args.force)
    check_not_input(args.output, args.input, args.labels)
    require("pandas", "io", f"Writing the {what} table")  # before the work, not after it
    if str(args.output).lower().endswith(".parquet"):
        require("pyarrow", "io", "Writing Parquet files")
    options = _engine_options(args)
    data = _load_input(args)
    if data.budget_left is not None:  # memory_limit less the array read from .npy shards or Parquet
        options["memory_limit"] = data.budget_left
    client = _connect(args.scheduler) if args.scheduler is not None else None
    if client is not None:
        options["client"] = client
    start = time.perf_counter()
    try:
        result = compute(data, **options)
    finally:
        if client is not None:
            client.close()
    seconds = time.perf_counter() - start
    result = _with_row_ids(result, data)
    write_table(_output_frame(result, args), args.output, force=args.force)
    return result, seconds


def cmd_score(args: argparse.Namespace) -> int:
    from ..api import score

    def compute(data: Any, **options: Any) -> Any:
        return score(data.X, data.labels, ratio=args.ratio, repeats=args.repeats, seed=args.seed,
                     n_threads=args.threads, subterms=args.subterms, progress=not args.quiet, **options)

    result, seconds = _compute_and_write(args, "scores", compute)
    if not args.quiet:
        print(f"scored {len(result)} instances of {result.classes.size} classes in {seconds:.2f} s "
              f"(seed {result.seed}); wrote {args.output}")
        if result.duplicate_groups:
            print(f"{len(result.duplicate_groups)} duplicate group(s), {len(result.conflicting_groups)} with "
                  "conflicting labels: see the duplicate_group and conflicting_duplicate columns")
    return 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    from ..diagnosis import diagnose

    def compute(data: Any, **options: Any) -> Any:
        options.pop("ridge", None)  # diagnose's --ridge (auto|λ) is passed on by name
        if args.repeats is not None:
            options["repeats"] = args.repeats
        return diagnose(data.X, data.labels, ridge=args.ridge, rounds=args.rounds, set_aside=args.set_aside,
                        seed=args.seed, n_threads=args.threads, progress=not args.quiet, kernel=args.kernel,
                        standardize=args.standardize, mode=args.mode, **options)

    result, seconds = _compute_and_write(args, "diagnosis", compute)
    if not args.quiet:
        flagged = int(result.is_label_issue.sum())
        chunks = result.params["chunk_size"]
        mode = "whole data" if chunks is None else f"chunks of {chunks}, {result.params['repeats']} partitions, " \
            f"seed {result.params['seed']}"
        if result.mode == "large":
            mode = f"large mode, {result.params['cells']} cells, seed {result.params['seed']}"
        print(f"diagnosed {len(result)} instances of {result.classes.size} classes in {seconds:.2f} s ({mode}): "
              f"{flagged} flagged as label issues; estimated noise rate {result.estimated_noise_rate:.1%}, "
              f"kernel {result.kernel}, ridge {result.ridge:g}; wrote {args.output}")
        if args.top:
            print(_top_suspects(result, args.top))
    return 0


def _top_suspects(result: Any, count: int) -> str:
    """The most suspicious flagged rows, one a line: name, given → suggested label, suspicion."""
    rows = [r for r in result.ranking()[:count] if result.is_label_issue[r]]
    if not rows:
        return "no label looks wrong."
    names = result.row_names()
    width = max(len(names[r]) for r in rows)
    lines = [f"  {names[r]:<{width}}  {result.labels[r]!s} -> {result.suggested_label[r]!s}  "
             f"(suspicion {result.suspicion[r]:.3g})" for r in rows]
    return f"top {len(rows)} suspects ({result.id_name or 'row'}, given -> suggested label):\n" + "\n".join(lines)


def cmd_report(args: argparse.Namespace) -> int:
    from .report import image_size_hint, write_report
    from .results import read_scores_or_diagnosis
    from .writers import check_directory, check_not_input

    check_not_input(args.output, args.scores, args.data)
    check_directory(args.output, args.force)  # refuse before reading
    frame = read_scores_or_diagnosis(args.scores)
    data = _load_input(args, need_labels=False) if args.data is not None else None
    page = write_report(frame, args.output, data, top_k=args.top_k, page_size=args.page_size, force=args.force)
    if not args.quiet:
        print(f"wrote {page}")
        hint = image_size_hint(data.X) if data is not None and not data.is_image else None
        if hint:
            print(f"note: {hint}")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from .prune import KEEP_FORMATS, keep_indices, write_keep_list
    from .results import read_scores
    from .writers import check_destination, check_not_input

    check_destination(args.output, args.force, KEEP_FORMATS)
    check_not_input(args.output, args.scores)
    frame = read_scores(args.scores)
    kept = keep_indices(frame["cg_score"].to_numpy(), frame["given_label"].to_numpy(), args.keep, args.drop)
    write_keep_list(kept, args.output, force=args.force, frame=frame)
    if not args.quiet:
        print(f"kept {kept.size} of {len(frame)} rows ({args.keep:.0%} of every class, dropped the "
              f"{args.drop}est scores); wrote {args.output}")
    return 0


def cmd_noise_bench(args: argparse.Namespace) -> int:
    from ..experiments.noise_bench import METHODS, default_methods, run_noise_bench, to_markdown, write_noise_bench
    from ..utils import progress_bar
    from .writers import check_directory, check_not_input

    methods = default_methods() if args.methods is None else [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    check_not_input(args.output, args.input)
    check_directory(args.output, args.force, kind="noise-bench")  # refuse now, not after minutes of work
    data = _load_input(args)
    bar = progress_bar(len(args.rates) * len(methods), not args.quiet, "noise-bench", unit="run")
    try:
        rows = run_noise_bench(data.X, data.labels, args.rates, repeats=args.repeats, seed=args.seed, k=args.k,
                               methods=methods, n_threads=args.threads, noise=args.noise,
                               on_row=lambda row: bar.update(1))
    finally:
        bar.close()
    title = (f"Label-noise benchmark on {data.source}: {len(data)} instances, {args.noise} noise, seed {args.seed}, "
             f"CG-score repeats {args.repeats}, k = {args.k}")
    write_noise_bench(rows, args.output, force=True, title=title)
    if not args.quiet:
        print(title + "\n")
        print(to_markdown(rows))
        print(f"wrote {args.output}/results.csv, results.md, noise_bench.png")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..api import score
    from ..datasets import load_digits
    from ..experiments.label_noise import flip_labels
    from ..experiments.metrics import auroc, precision_at_k

    if args.report is not None:
        from .writers import check_directory

        check_directory(args.report, args.force)  # refuse before scoring
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
    if args.report is not None:
        from .loaders import Dataset
        from .report import write_report

        data = Dataset(X=images, labels=noisy, source="digits (embedded), labels with flips", is_image=True)
        page = write_report(result.to_frame(), args.report, data, force=args.force,
                            title=f"CG-score report: digits with {args.noise:.0%} flipped labels")
        print(f"wrote {page}")
    return 0


# -- the parser ---------------------------------------------------------------------------------


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label-column", metavar="C", help="label column of a CSV/Parquet table (default: label)")
    p.add_argument("--labels", metavar="FILE",
                   help="labels for .npy features: a .npy, .txt (one per line) or .csv file")
    p.add_argument("--image-size", metavar="HxW[xC]", type=parse_size,
                   help="images of this size: resizes an image folder's images; draws flat rows (.npz, .npy, tables) "
                   "as images in the report, e.g. 28x28, 32x32x3 (or 3x32x32 for channels-first rows)")
    p.add_argument("--id-column", metavar="C",
                   help="a table's column that names its rows (any type): kept out of the features, written back")
    p.add_argument("--drop", metavar="COL", nargs="+", action="extend",
                   help="columns of a table to leave out of the features (IDs, text, leaks)")


def _add_protocol_options(p: argparse.ArgumentParser, seed: int | None, seed_help: str) -> None:
    p.add_argument("--repeats", type=_positive_int, default=1, help="repeats of the protocol, averaged (default 1)")
    p.add_argument("--seed", type=int, default=seed, help=seed_help)
    p.add_argument("--threads", type=_positive_int, default=None, help="kernel threads (default: all cores)")


def _add_large_data_options(group: argparse._ArgumentGroup) -> None:
    """--checkpoint, --scheduler and --memory-limit: shared by score and diagnose."""
    group.add_argument("--checkpoint", metavar="DIR", help="checkpoint directory: a rerun with the same arguments resumes from it")
    group.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler, e.g. tcp://host:8786")
    group.add_argument("--memory-limit", type=parse_bytes, metavar="SIZE", help="memory budget, e.g. 8GiB")


def _add_output_options(p: argparse.ArgumentParser, force_help: str, quiet_help: str) -> None:
    p.add_argument("--force", action="store_true", help=force_help)
    p.add_argument("--quiet", action="store_true", help=quiet_help)


def _command(sub, name: str, run: Callable[[argparse.Namespace], int], summary: str, description: str,
             example: str) -> argparse.ArgumentParser:
    # Raw formatting keeps the example on its own line; so wrap the prose ourselves.
    prose = "\n".join(textwrap.fill(line, 88) if line else "" for line in description.split("\n"))
    p = sub.add_parser(name, help=summary, description=f"{prose}\n\nexample:\n  {example}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=run)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cgscore",
        description="Complexity-gap scores (CG-score): training-free data valuation. High scores mark "
        "irregular, hard or mislabeled instances; low scores redundant ones.\n\n"
        "example:\n  cgscore score images/ -o scores.csv && cgscore report scores.csv --data images/ -o report/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = _command(sub, "score", cmd_score, "score every instance of a data set",
                 "Score every instance and write a table, one row per instance: index, given_label, cg_score, "
                 "rank, percentile_in_class, std, count, duplicate_group, conflicting_duplicate (and a2, b2, ab "
                 "with --subterms).\n\nINPUT: a .npz with arrays X and y; a .npy of features with --labels; "
                 "a CSV/TSV/Parquet table (feature columns + --label-column); a folder of images with one "
                 "subfolder per class; or 'digits' (embedded).\nOUT: .csv, .parquet or .npz, by extension.",
                 "cgscore score embeddings.parquet --label-column label -o scores.csv --repeats 5 --seed 0")
    p.add_argument("input", metavar="INPUT", help="the data (see above)")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="the scores file: .csv, .parquet or .npz")
    _add_input_options(p)
    p.add_argument("--ratio", type=float, default=1.0, help="negatives drawn per positive (default 1.0)")
    _add_protocol_options(p, seed=None, seed_help="seed of the negatives' draw (default: fresh, printed)")
    p.add_argument("--subterms", action="store_true", help="also write the sub-terms a2, b2, ab")
    p.add_argument("--sort", choices=("input", "cg_score"), default="input",
                   help="row order of OUT: input order (default) or highest CG-score first")
    p.add_argument("--ridge", type=_ridge, metavar="R",
                   help="add R to every Gram diagonal (default: 1e-6, and only when duplicates are found)")
    _add_output_options(p, "overwrite OUT if it exists", "no progress bar and no summary")
    engine = p.add_argument_group("large data (passed to score() only when given)")
    engine.add_argument("--chunk-size", type=_positive_int, metavar="K", help="score in chunks of K instances")
    _add_large_data_options(engine)

    p = _command(sub, "diagnose", cmd_diagnose, "find the labels that look wrong, and suggest the right ones",
                 "Predict every instance's label leave-one-out (kernel regression with the NTK, all from one "
                 "factorization), then set aside the worst suspects and refit once. Writes one row per instance: "
                 "the path or --id-column when known, index, given_label, suggested_label, suspicion (how far the "
                 "best other class is predicted above the given one; > 0 means another class wins), is_label_issue "
                 "(suspicion > 0), rank (1 = most suspicious) and multiclass_cg_score (the paper's multi-class "
                 "CG-score).\n\nINPUT: as for 'cgscore score'. OUT: .csv, .parquet or .npz, by extension.",
                 "cgscore diagnose images/ -o diagnosis.csv && cgscore report diagnosis.csv --data images/ -o report/")
    p.add_argument("input", metavar="INPUT", help="the data, as for 'cgscore score'")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="the diagnosis file: .csv, .parquet or .npz")
    _add_input_options(p)
    p.add_argument("--ridge", type=_ridge_or_auto, default="auto", metavar="auto|λ",
                   help="λ of the predictions: 'auto' (least leave-one-out error, the default) or a number >= 0")
    p.add_argument("--kernel", type=_kernel_name, default="paper", metavar="NAME",
                   help="kernel of the predictions: 'paper' (the default), 'auto' (chosen by leave-one-out error), "
                        "'relu-ntk-L' or a depth L")
    p.add_argument("--mode", choices=("auto", "exact", "large"), default="auto",
                   help="'exact' (the whole data in one fit), 'large' (cells of nearby rows, linear in n) or 'auto' "
                        "(the default: exact up to 5 000 rows with the paper's kernel, 20 000 with the others, while it "
                        "fits; large past that)")
    p.add_argument("--rounds", type=_whole_number, default=1, metavar="N", help="cleaning rounds after the first (default 1)")
    p.add_argument("--set-aside", type=_share_or_auto, default="auto", metavar="auto|SHARE",
                   help="share set aside in each round: 'auto' (the estimated noise rate, the default) or a share")
    p.add_argument("--seed", type=int, default=None, help="seed of the chunks in chunked mode (default: fresh)")
    p.add_argument("--threads", type=_positive_int, default=None, help="kernel threads (default: all cores)")
    p.add_argument("--standardize", action="store_true",
                   help="give every feature column mean 0 and variance 1 first: for tables whose columns are in "
                   "different units (a warning says when), not for images or embeddings")
    p.add_argument("--sort", choices=("input", "suspicion"), default="input",
                   help="row order of OUT: input order (default) or most suspicious first")
    p.add_argument("--flagged-only", action="store_true",
                   help="write only the flagged rows, most suspicious first (the relabel worksheet)")
    p.add_argument("--top", type=_whole_number, default=10, metavar="N",
                   help="suspects printed at the end (default 10; 0: none)")
    _add_output_options(p, "overwrite OUT if it exists", "no progress bar and no summary")
    engine = p.add_argument_group("large data (passed to diagnose() only when given)")
    engine.add_argument("--chunk-size", type=_positive_int, metavar="K",
                        help="diagnose stratified chunks of K instances, averaged over partitions")
    engine.add_argument("--repeats", type=_positive_int, metavar="R", help="partitions averaged in chunked mode (default 3)")
    _add_large_data_options(engine)

    p = _command(sub, "report", cmd_report, "write an HTML report of a scores file",
                 "Write DIR/index.html with PNG plots. For a scores file: the score distribution per class, the "
                 "top-k and bottom-k instances (as images when the data are images), suspected mislabels and "
                 "duplicate groups. For a diagnosis file (from 'cgscore diagnose'): the relabel worksheet, every "
                 "flagged instance most suspicious first with its path or ID, given -> suggested label, suspicion "
                 "and image, paged, with DIR/flagged.csv to download; and the suspicion's distribution with the "
                 "flag threshold. It opens from disk, no server needed.",
                 "cgscore report scores.csv --data images/ -o report/")
    p.add_argument("scores", metavar="SCORES", help="a scores file written by 'cgscore score' or 'cgscore diagnose'")
    p.add_argument("--data", metavar="INPUT", help="the data the scores came from, to show the instances")
    p.add_argument("-o", "--output", metavar="DIR", required=True, help="the report folder")
    _add_input_options(p)
    p.add_argument("--top-k", type=_positive_int, default=16,
                   help="a scores file: instances shown at each end (default 16)")
    p.add_argument("--page-size", type=_positive_int, default=100, metavar="N",
                   help="a diagnosis file: flagged rows per page of the relabel worksheet (default 100)")
    _add_output_options(p, "replace DIR if it is an earlier report of this package (never the working or home folder)",
                        "print nothing on success")

    p = _command(sub, "prune", cmd_prune, "write class-balanced keep lists",
                 "Keep the same fraction of every class, dropping its lowest scores (the paper's pruning: "
                 "low CG-scores are redundant) or its highest (suspected mislabels). KEEP: .txt (one index a "
                 "line), .npy (int64 indices) or .csv (the kept rows of the scores table).",
                 "cgscore prune scores.csv --keep 0.7 --drop low -o keep.txt")
    p.add_argument("scores", metavar="SCORES", help="a scores file written by 'cgscore score'")
    p.add_argument("--keep", type=_fraction, required=True, help="fraction of every class to keep, in (0, 1]")
    p.add_argument("--drop", choices=("low", "high"), default="low", help="which scores to drop (default low)")
    p.add_argument("-o", "--output", metavar="KEEP", required=True, help="the keep list: .txt, .npy or .csv")
    _add_output_options(p, "overwrite KEEP if it exists", "print nothing on success")

    p = _command(sub, "noise-bench", cmd_noise_bench, "benchmark label-noise detection against baselines",
                 "Flip seeded fractions of the labels (uniform: to a random other class; pair: class c to "
                 "c+1 mod K; confusable: to the class with the nearest centroid) and rate how well each method "
                 "finds them: AUROC, average precision, TNR at 95% TPR, precision at k (k = number flipped), "
                 "the best F1 over thresholds, F1 and FNR with as many rows flagged as were flipped and as the "
                 "method estimates, and the precision and recall of the flags of the methods that flag "
                 "(diagnose; SimiFeat; confident learning via cleanlab's find_label_issues), with each "
                 "method's time. Methods: diagnose, cg_score, random, knn_disagreement (cosine), "
                 "knn_disagreement_euclidean, knn_shapley (KNN Data Shapley), simifeat_vote, simifeat_rank "
                 "(SimiFeat, Zhu, Dong & Liu 2022), confident_learning (needs scikit-learn and cleanlab). "
                 "Writes DIR/results.csv, results.md and noise_bench.png.",
                 "cgscore noise-bench digits --rates 0.1,0.2,0.4 --seed 0 -o bench/")
    p.add_argument("input", metavar="INPUT", help="the data, as for 'cgscore score' ('digits' for the embedded set)")
    p.add_argument("-o", "--output", metavar="DIR", required=True, help="the results folder")
    _add_input_options(p)
    p.add_argument("--rates", type=parse_rates, default=[0.1, 0.2, 0.4], help="noise rates (default 0.1,0.2,0.4)")
    p.add_argument("--noise", choices=("uniform", "pair", "confusable"), default="uniform",
                   help="uniform: a flipped label goes to a random other class; pair: class c to c+1 mod K; "
                   "confusable: to the class whose centroid is nearest by cosine")
    _add_protocol_options(p, seed=0, seed_help="seed of the flips, the CG-score and the baselines (default 0)")
    p.add_argument("--k", type=_positive_int, default=10, help="neighbours for the k-NN baselines (default 10)")
    p.add_argument("--methods", help="comma-separated subset of the methods (default: all installed)")
    _add_output_options(p, "replace DIR if it is an earlier noise-bench folder of this package (never the working or "
                        "home folder)", "no progress bar and no table on stdout")

    p = _command(sub, "demo", cmd_demo, "score the embedded digits data with 10%% flipped labels",
                 "Flip a seeded fraction of the embedded digits' labels, score, and report how well the "
                 "CG-score finds the flipped ones; with --report also write the HTML report.",
                 "cgscore demo --noise 0.2 --repeats 3 --report demo-report/")
    p.add_argument("--noise", type=float, default=0.1, help="fraction of labels to flip (default 0.1)")
    _add_protocol_options(p, seed=0, seed_help="seed of the flips and negatives (default 0)")
    p.add_argument("--top", type=int, default=10, help="how many suspects to list (default 10)")
    p.add_argument("--report", metavar="DIR", help="also write the HTML report into DIR")
    p.add_argument("--force", action="store_true", help="replace the report folder if it is an earlier report of this package")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            # A Ctrl-C inside an import leaves a file to the garbage collector: a developer's
            # warning, not the user's.
            warnings.filterwarnings("ignore", category=ResourceWarning)
            try:
                return args.run(args)
            finally:
                # Warnings (e.g. duplicate rows) as one line each, not with file and source line.
                for w in caught:
                    print(f"cgscore: warning: {w.message}", file=sys.stderr)
    except KeyboardInterrupt:
        print("cgscore: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("CGSCORE_DEBUG"):
            raise
        print(f"cgscore: error: {_message(exc)}", file=sys.stderr)
        return EXIT_ERROR


def _message(exc: BaseException) -> str:
    """The error on one line, in the command's terms; exceptions of unexpected kinds are named, as they may be bugs."""
    known = (ValueError, TypeError, OSError, ImportError, MemoryError)
    text = cli_terms(one_line(exc))
    return text if isinstance(exc, known) else f"{type(exc).__name__}: {text}"


# The API's keyword arguments and the flags that set them, with the flags' placeholders.
_FLAG_OF = {
    "chunk_size": ("--chunk-size", "K"), "memory_limit": ("--memory-limit", "SIZE"), "n_threads": ("--threads", "T"),
    "client": ("--scheduler", "ADDRESS"), "checkpoint": ("--checkpoint", "DIR"), "ratio": ("--ratio", "R"),
    "repeats": ("--repeats", "K"), "seed": ("--seed", "S"), "label_column": ("--label-column", "C"),
    "image_size": ("--image-size", "HxW"),
}


def cli_terms(message: str) -> str:
    """An API message in the command line's terms: ``chunk_size=40`` → ``--chunk-size 40``,
    ``client=...`` → ``--scheduler ADDRESS``, no Python ``None``."""
    for name, (flag, metavar) in _FLAG_OF.items():
        message = message.replace(f"{name}=...", f"{flag} {metavar}")
        message = re.sub(rf"(?<![\w.-]){name}=", f"{flag} ", message)
        if "_" in name:  # a bare identifier, not an English word such as 'ratio'
            message = re.sub(rf"(?<![\w.-]){name}\b", flag, message)
        message = re.sub(rf"^{name} must\b", f"{flag} must", message)  # 'seed must be ...'
    message = re.sub(r",? or None\b", "", message)
    return re.sub(r"\bhas None in rows\b", "has no value in rows", message)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
