"""Readers for labelled text: TSV/CSV, JSON lines, fastText lines, folder-per-label.

Every reader streams `Example(text, label)` pairs, so a file larger than memory
can be read; `read_labelled` collects them and checks that there is data.
Problems a user can cause (missing file, unknown column, bytes that are not
UTF-8, malformed lines) raise `FirthError` naming the file and line.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import select
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from firth.errors import FirthError

FORMATS = ("csv", "tsv", "jsonl", "fasttext", "folder")
FASTTEXT_PREFIX = "__label__"

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class Example(NamedTuple):
    text: str
    label: str


class LabelledTexts(NamedTuple):
    texts: list[str]
    labels: list[str]


def iter_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """Yield (line number, line) from a UTF-8 text file; bad bytes raise FirthError."""
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file.")
    if path.is_dir():
        raise FirthError(f"{path}: is a directory, not a file.")
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise FirthError(
                    f"{path}: line {lineno} is not valid UTF-8 (byte 0x{raw[e.start]:02x}); "
                    "convert the file to UTF-8."
                ) from None
            yield lineno, line.removeprefix("\ufeff") if lineno == 1 else line


def detect_format(path: str | os.PathLike) -> str:
    """Guess the format from the path: a directory, or the file's extension and first line."""
    path = Path(path)
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".jsonl"):
        return suffix[1:]
    if suffix == ".json":
        return "jsonl"
    for _, line in iter_lines(path):
        if line.strip():
            return "fasttext" if line.startswith(FASTTEXT_PREFIX) else "tsv"
    return "tsv"


def iter_labelled(
    path: str | os.PathLike,
    format: str | None = None,
    text_column: str = "text",
    label_column: str = "label",
) -> Iterator[Example]:
    """Stream labelled examples from `path` in `format` (guessed when None).

    `text_column`/`label_column` name the CSV/TSV header columns or JSON keys.
    """
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file or directory.")
    format = format or detect_format(path)
    if format in ("csv", "tsv"):
        located = _iter_table(path, "," if format == "csv" else "\t", text_column, label_column)
    elif format == "jsonl":
        located = _iter_jsonl(path, text_column, label_column)
    elif format == "fasttext":
        located = _iter_fasttext(path)
    elif format == "folder":
        located = _iter_folder(path)
    else:
        raise FirthError(f"unknown data format {format!r}; choose one of {', '.join(FORMATS)}.")
    return _checked(path, located)


def _checked(path: Path, located: Iterator[tuple[str, Example]]) -> Iterator[Example]:
    """Examples with a text and a label; an empty one is an error naming where it is."""
    for where, example in located:
        if not example.text.strip():
            raise FirthError(f"{path}: {where} has an empty text.")
        if not example.label:
            raise FirthError(f"{path}: {where} has an empty label.")
        yield example


def read_labelled(
    path: str | os.PathLike,
    format: str | None = None,
    text_column: str = "text",
    label_column: str = "label",
) -> LabelledTexts:
    """Read all examples of a labelled file or folder; empty data is an error."""
    texts, labels = [], []
    for text, label in iter_labelled(path, format, text_column, label_column):
        texts.append(text)
        labels.append(label)
    if not texts:
        raise FirthError(f"{path}: contains no labelled examples.")
    return LabelledTexts(texts, labels)


def _iter_table(path: Path, delimiter: str, text_column: str, label_column: str) -> Iterator[tuple[str, Example]]:
    rows = csv.reader((line for _, line in iter_lines(path)), delimiter=delimiter)
    header = next(rows, None)
    if header is None:
        return
    header = [name.strip() for name in header]
    for wanted in (text_column, label_column):
        if wanted not in header:
            raise FirthError(
                f"{path}: no column named {wanted!r} in the header (columns: {', '.join(header)})."
            )
    i_text, i_label = header.index(text_column), header.index(label_column)
    for row in rows:
        if not row:
            continue
        if len(row) != len(header):
            raise FirthError(
                f"{path}: line {rows.line_num} has {len(row)} fields but the header has {len(header)}."
            )
        yield f"line {rows.line_num}", Example(row[i_text], row[i_label].strip())


def iter_json_records(path: str | os.PathLike, required: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """Stream (line number, object) of a JSON-lines file, each object holding the `required` keys."""
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise FirthError(f"{path}: line {lineno} is not valid JSON ({e.msg}).") from None
        if not isinstance(record, dict):
            raise FirthError(f"{path}: line {lineno} is not a JSON object.")
        for key in required:
            if key not in record:
                raise FirthError(f"{path}: line {lineno} has no key {key!r}.")
        yield lineno, record


def _iter_jsonl(path: Path, text_key: str, label_key: str) -> Iterator[tuple[str, Example]]:
    for lineno, record in iter_json_records(path, (text_key, label_key)):
        yield f"line {lineno}", Example(str(record[text_key]), str(record[label_key]))


def _iter_fasttext(path: Path) -> Iterator[tuple[str, Example]]:
    """fastText lines: `__label__A [__label__B ...] text`; the first label is used."""
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        tokens = line.split()
        labels = [t[len(FASTTEXT_PREFIX):] for t in tokens if t.startswith(FASTTEXT_PREFIX)]
        if not labels or not tokens[0].startswith(FASTTEXT_PREFIX):
            raise FirthError(f"{path}: line {lineno} does not start with {FASTTEXT_PREFIX}LABEL.")
        text = " ".join(t for t in tokens if not t.startswith(FASTTEXT_PREFIX))
        yield f"line {lineno}", Example(text, labels[0])


def _iter_folder(root: Path) -> Iterator[tuple[str, Example]]:
    """A folder holding one sub-folder per label, one document per file."""
    label_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not label_dirs:
        raise FirthError(f"{root}: has no sub-folders; expected one sub-folder per label.")
    for label_dir in label_dirs:
        for file in sorted(p for p in label_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
            yield str(file), Example("".join(line for _, line in iter_lines(file)), label_dir.name)


# --- One text a line -------------------------------------------------------


def text_batches(path: str, max_lines: int = 256, shard: tuple[int, int] = (0, 1)) -> Iterator[list[str]]:
    """The texts of a file, or of standard input for -, one per line, in batches as the input arrives.

    A batch ends at `max_lines` lines or when no more input is ready, so a
    pipe fed line by line gets its answers line by line while a file goes
    through in full batches; memory does not grow with the input. An empty
    line, bytes that are not UTF-8, or no text at all are FirthErrors naming the line.
    `shard` (i, n) keeps every n-th line from line i + 1 on (the others are not
    even decoded), so that n processes share one file.
    """
    part, parts = shard
    source = "standard input" if path == "-" else path
    if path != "-" and not Path(path).exists():
        raise FirthError(f"{path}: no such file.")
    if path != "-" and Path(path).is_dir():
        raise FirthError(f"{path}: is a directory, not a file.")
    lineno = kept = 0
    with contextlib.nullcontext(sys.stdin.buffer) if path == "-" else open(path, "rb") as stream:
        for raw_lines in _ready_lines(stream.fileno(), max_lines * parts):
            texts = []
            for raw in raw_lines:
                lineno += 1
                if (lineno - 1) % parts == part:
                    texts.append(_text(raw, source, lineno))
            kept += len(texts)
            if texts:
                yield texts
    if lineno == 0:
        raise FirthError(f"{source}: has no text.")
    if kept == 0:
        raise FirthError(f"{source}: has {lineno} lines, none of them for shard {part}/{parts}; use at most "
                         f"{lineno} shards.")


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
