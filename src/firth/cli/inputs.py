"""What the verbs read: labelled data, text lines, family subcommands."""

from __future__ import annotations

import sys
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


def text_lines(path: str) -> list[str]:
    """The lines of a file (or of standard input for -), each a text; an empty line is a clear error."""
    from firth.text.readers import iter_lines

    source = "standard input" if path == "-" else path
    lines = enumerate(sys.stdin, start=1) if path == "-" else iter_lines(path)
    texts = [line.rstrip("\r\n") for _, line in lines]
    empty = next((i for i, text in enumerate(texts, start=1) if not text.strip()), None)
    if empty is not None:
        raise FirthError(f"{source}: line {empty} is empty; give one text per line.")
    if not texts:
        raise FirthError(f"{source}: has no text.")
    return texts
