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
    parser.add_argument("--text-column", default="text", help="CSV/TSV column or JSON key of the text")
    parser.add_argument("--label-column", default="label", help="CSV/TSV column or JSON key of the label")


def labelled(data: str, args, split: str):
    """(texts, labels) from a registry name's `split` or from a labelled file/folder."""
    from firth.data import DATASETS, load
    from firth.text.readers import read_labelled

    if Path(data).exists():
        return read_labelled(data, args.format, args.text_column, args.label_column)
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
