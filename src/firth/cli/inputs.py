"""What the verbs read: labelled data, text lines, family subcommands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from firth.errors import FirthError


def family(families, name: str, help: str):
    """A family's sub-parser (printing its help when no verb is given) and its verbs."""
    parser = families.add_parser(name, help=help, description=help)
    parser.set_defaults(run=lambda args: parser.print_help())
    return parser.add_subparsers(title="verbs", metavar="VERB")


def add_reader_options(parser) -> None:
    from firth.text.readers import FORMATS

    parser.add_argument("--format", choices=FORMATS, help="file format (default: from the extension)")
    parser.add_argument("--text-column", default="text",
                        help="CSV/TSV column (a header name, or a number from 0 without one) or JSON key of the text")
    parser.add_argument("--label-column", default="label",
                        help="CSV/TSV column (a header name, or a number from 0 without one) or JSON key of the label")
    parser.add_argument("--no-header", dest="header", action="store_const", const=False, default=None,
                        help="the CSV/TSV file has no header: label in column 0 and text in 1 unless numbered "
                             "otherwise (default: a first line naming the columns is a header; a headerless "
                             "two-column file is recognized by its short, repeating labels)")


def labelled(data: str, args, split: str):
    """(texts, labels) from a registry name's `split` or from a labelled file/folder."""
    from firth.data import DATASETS, load
    from firth.text.readers import read_labelled

    if Path(data).exists():
        return read_labelled(data, args.format, args.text_column, args.label_column, args.header)
    if data in DATASETS:
        if DATASETS[data].kind != "classification":
            raise FirthError(f"dataset {data!r} is a {DATASETS[data].kind} dataset, not a labelled one.")
        return getattr(load(data), split)
    raise FirthError(f"{data}: no such file or folder, and not a dataset name (see `firth data list`).")


def check_output(output: str | os.PathLike, *inputs: str | os.PathLike) -> None:
    """A FirthError when `output` is one of the inputs, or a file inside an input directory: never overwrite an input."""
    target = Path(output).resolve()
    for source in inputs:
        source = Path(source).resolve()
        if target == source or (source.is_dir() and source in target.parents):
            raise FirthError(f"{output}: is an input of this command (or inside one); write the output elsewhere.")


def prepare_run_dir(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse an --out that is a file, or that holds an earlier run, unless --resume or --overwrite says so."""
    if out.exists() and not out.is_dir():
        raise FirthError(f"{out}: is a file, not a run directory; give --out a directory.")
    earlier = [name for name in ("model", "checkpoint", "metrics.jsonl") if (out / name).exists()]
    if earlier and not (resume or overwrite):
        raise FirthError(f"{out}: holds an earlier run ({', '.join(earlier)}); pass --resume to continue it or "
                         "--overwrite to replace it.")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def duration(text: str) -> float:
    """An argparse type: seconds, as `300`, `300s`, `5m` or `1h`."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1)
    try:
        seconds = float(number) * unit
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive duration such as 300, 90s, 5m or 1h, got {text!r}")
    return seconds


def shard(text: str) -> tuple[int, int]:
    """An argparse type: `I/N` (this process takes every N-th line from line I + 1 on), or `rank`, torchrun's."""
    if text == "rank":
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
            raise argparse.ArgumentTypeError("'rank' takes torchrun's RANK and WORLD_SIZE, and this process was "
                                             "not started by torchrun")
        return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    part, _, parts = text.partition("/")
    if not (part.isdigit() and parts.isdigit() and int(part) < int(parts)):
        raise argparse.ArgumentTypeError(f"must be I/N with 0 <= I < N, or rank, got {text!r}")
    return int(part), int(parts)


def add_shard_option(parser) -> None:
    parser.add_argument("--shard", type=shard, default=(0, 1), metavar="I/N",
                        help="take every N-th line from line I+1 on and write OUTPUT-0000I-of-0000N (N processes "
                             "or machines share the input); rank: torchrun's rank and world size")


def shard_path(path: str, part: tuple[int, int]) -> str:
    """`path` named for its shard (vectors.npy -> vectors-00001-of-00004.npy), or as it is unsharded."""
    i, n = part
    if n == 1 or path == "-":
        return path
    path = Path(path)
    return str(path.with_name(f"{path.stem}-{i:05d}-of-{n:05d}{path.suffix}"))
