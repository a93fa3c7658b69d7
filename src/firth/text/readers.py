"""Readers for labelled text: TSV/CSV (with a header, or headerless `label<TAB>text`), JSON lines,
fastText lines, folder-per-label.

Every reader streams `Example(text, label)` pairs, so a file larger than memory
can be read; `read_labelled` collects them and checks that there is data.
Problems a user can cause (missing file, unknown column, bytes that are not
UTF-8, malformed lines) raise `FirthError` naming the file and line.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
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
SNIFF_ROWS = 200  # rows read to tell a headerless table's label column from its text column

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
    text_column: str | int = "text",
    label_column: str | int = "label",
    header: bool | None = None,
) -> Iterator[Example]:
    """Stream labelled examples from `path` in `format` (guessed when None).

    `text_column`/`label_column` name the CSV/TSV header columns or JSON keys.
    A CSV/TSV file has a header naming them, or none (`header=False`, or
    column indices given): then the columns are indices, label 0 and text 1
    by default, fastText's and most corpora's `label<TAB>text`. With
    `header=None` a first line that does not name the columns is read as
    data when the file has two columns and one of them is clearly the label
    (few distinct, short values); anything less clear is a FirthError.
    """
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file or directory.")
    format = format or detect_format(path)
    if format in ("csv", "tsv"):
        located = _iter_table(path, "," if format == "csv" else "\t", text_column, label_column, header)
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
    text_column: str | int = "text",
    label_column: str | int = "label",
    header: bool | None = None,
) -> LabelledTexts:
    """Read all examples of a labelled file or folder (see iter_labelled); empty data is an error."""
    texts, labels = [], []
    for text, label in iter_labelled(path, format, text_column, label_column, header):
        texts.append(text)
        labels.append(label)
    if not texts:
        raise FirthError(f"{path}: contains no labelled examples.")
    return LabelledTexts(texts, labels)


def _iter_table(path: Path, delimiter: str, text_column: str | int, label_column: str | int,
                header: bool | None) -> Iterator[tuple[str, Example]]:
    reader = csv.reader((line for _, line in iter_lines(path)), delimiter=delimiter)
    rows = ((reader.line_num, row) for row in reader)  # each row with the line it ends on
    first = next(rows, None)
    if first is None:
        return
    names = [name.strip() for name in first[1]]
    named = all(isinstance(c, str) and not c.isdigit() for c in (text_column, label_column))
    if header or (header is None and named and {text_column, label_column} & set(names)):  # one named: a header
        i_text, i_label, width = _named_columns(path, names, text_column, label_column)
    else:  # no header: the first line is data, and the first rows tell the columns apart
        first_rows = [first, *itertools.islice(rows, SNIFF_ROWS - 1)]
        i_text, i_label = _unnamed_columns(path, [row for _, row in first_rows], text_column, label_column,
                                           header, named)
        rows, width = itertools.chain(first_rows, rows), None
    for line, row in rows:
        if not row:
            continue
        if width is not None and len(row) != width:
            raise FirthError(f"{path}: line {line} has {len(row)} fields but the header has {width}.")
        if len(row) <= max(i_text, i_label):
            raise FirthError(f"{path}: line {line} has {len(row)} fields; the label and text are in columns "
                             f"{i_label} and {i_text} (counted from 0).")
        yield f"line {line}", Example(row[i_text], row[i_label].strip())


def _named_columns(path: Path, header: list[str], text_column: str | int,
                   label_column: str | int) -> tuple[int, int, int]:
    """(text index, label index, fields a row has) from a header row that names the columns."""
    for wanted in (text_column, label_column):
        if str(wanted) not in header:
            raise FirthError(
                f"{path}: no column named {wanted!r} in the header (columns: {', '.join(header)})."
            )
    return header.index(str(text_column)), header.index(str(label_column)), len(header)


def _unnamed_columns(path: Path, rows: list[list[str]], text_column: str | int, label_column: str | int,
                     header: bool | None, named: bool) -> tuple[int, int]:
    """(text index, label index) of a headerless table: given as indices, or told apart in its first rows."""
    if not named:
        return int(text_column), int(label_column)
    if header is False:
        if (text_column, label_column) != ("text", "label"):
            raise FirthError(f"{path}: without a header, columns are numbers (label 0 and text 1 by default); "
                             f"got {label_column!r} and {text_column!r}.")
        return 1, 0
    usage = (f"pass --no-header (label in column 0, text in column 1; other columns by number with "
             f"--label-column/--text-column), or give the file a header naming {label_column!r} and {text_column!r}")
    widths = {len(row) for row in rows if row}
    if widths != {2}:
        counts = " or ".join(map(str, sorted(widths)))
        raise FirthError(f"{path}: the first line names no {label_column!r} and {text_column!r} columns, and the rows "
                         f"have {counts} field{'' if widths == {1} else 's'}, not two, so which holds the label is "
                         f"unclear; {usage}.")
    label = _label_side(rows)
    if label is None:
        raise FirthError(f"{path}: the first line names no {label_column!r} and {text_column!r} columns, and neither "
                         f"of the two columns looks like the label (fewer distinct and shorter values); {usage}.")
    return 1 - label, label


def _label_side(rows: list[list[str]]) -> int | None:
    """0 or 1: the column whose values repeat (at most half distinct) and are shorter than the other's, and
    whose first value is seen again (a first line that is a header with other names would not be); else None."""
    rows = [row for row in rows if row]
    for side in (0, 1):
        values, other = [row[side].strip() for row in rows], [row[1 - side] for row in rows]
        repeats = len(rows) < 2 or len(set(values)) <= max(1, len(values) // 2)
        shorter = sum(map(len, values)) < sum(map(len, other)) / 2
        first_seen_again = len(rows) < 2 or values[0] in values[1:]
        if repeats and shorter and first_seen_again:
            return side
    return None


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
