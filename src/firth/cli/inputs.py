"""What the verbs read: labelled data, text lines, family subcommands."""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
from collections.abc import Iterator
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


def text_batches(path: str, max_lines: int = 256) -> Iterator[list[str]]:
    """The texts of a file, or of standard input for -, one per line, in batches as the input arrives.

    A batch ends at `max_lines` lines or when no more input is ready, so a
    pipe fed line by line gets its answers line by line while a file goes
    through in full batches; memory does not grow with the input. An empty
    line, bytes that are not UTF-8, or no text at all are FirthErrors naming the line.
    """
    source = "standard input" if path == "-" else path
    if path != "-" and not Path(path).exists():
        raise FirthError(f"{path}: no such file.")
    if path != "-" and Path(path).is_dir():
        raise FirthError(f"{path}: is a directory, not a file.")
    lineno = 0
    with contextlib.nullcontext(sys.stdin.buffer) if path == "-" else open(path, "rb") as stream:
        for raw_lines in _ready_lines(stream.fileno(), max_lines):
            texts = []
            for raw in raw_lines:
                lineno += 1
                texts.append(_text(raw, source, lineno))
            yield texts
    if lineno == 0:
        raise FirthError(f"{source}: has no text.")


def text_lines(path: str) -> list[str]:
    """Every text of a file (or of standard input for -), one per line, with text_batches' checks."""
    return [text for batch in text_batches(path) for text in batch]


def _text(raw: bytes, source: str, lineno: int) -> str:
    try:
        text = raw.decode("utf-8").removesuffix("\r")
    except UnicodeDecodeError as e:
        raise FirthError(f"{source}: line {lineno} is not valid UTF-8 (byte 0x{raw[e.start]:02x}); "
                         "convert it to UTF-8.") from None
    text = text.removeprefix("\ufeff") if lineno == 1 else text
    if not text.strip():
        raise FirthError(f"{source}: line {lineno} is empty; give one text per line.")
    return text


def _ready_lines(fd: int, max_lines: int) -> Iterator[list[bytes]]:
    """Lines read from a file descriptor, handed on in batches of what has arrived (at most max_lines)."""
    pending: list[bytes] = []
    partial = b""
    while data := os.read(fd, 1 << 16):
        lines = (partial + data).split(b"\n")
        partial = lines.pop()
        pending.extend(lines)
        while len(pending) >= max_lines:
            yield pending[:max_lines]
            del pending[:max_lines]
        if pending and not select.select([fd], [], [], 0)[0]:  # nothing more has arrived yet
            yield pending
            pending = []
    if partial:
        pending.append(partial)
    for start in range(0, len(pending), max_lines):
        yield pending[start:start + max_lines]
