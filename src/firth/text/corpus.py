"""Unlabelled corpora as streams of paragraphs.

A corpus is read lazily as `Paragraph(doc, text)` records, where `doc` names
the document (file, article title) a paragraph comes from, so that paragraph
and document boundaries survive for the models that learn from them.
Supported inputs: plain text with blank-line separated paragraphs, JSON lines
with `text` (and optional `doc`) keys, MediaWiki XML dumps (`.xml` or
`.xml.bz2`) whose wiki markup is reduced to prose, and folders of such files.
"""

from __future__ import annotations

import bz2
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from firth.errors import FirthError
from firth.text.markup import wiki_to_prose
from firth.text.readers import iter_json_records, iter_lines
from firth.text.segment import iter_paragraphs


class Paragraph(NamedTuple):
    doc: str
    text: str


class WikiArticle(NamedTuple):
    title: str
    paragraphs: list[str]


def iter_corpus(path: str | os.PathLike) -> Iterator[Paragraph]:
    """Stream the paragraphs of a corpus file, choosing the reader by extension, or of every file of a folder
    (and its subfolders, in name order; hidden files left out)."""
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file.")
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file() and not f.name.startswith("."))
        if not files:
            raise FirthError(f"{path}: is a folder without files.")
        return (paragraph for f in files for paragraph in iter_corpus(f))
    name = path.name.lower()
    if name.endswith((".xml", ".xml.bz2")):
        return (Paragraph(a.title, p) for a in iter_wiki_dump(path) for p in a.paragraphs)
    if name.endswith(".jsonl"):
        return _iter_jsonl_paragraphs(path)
    return (Paragraph(path.name, p) for p in iter_paragraphs(line for _, line in iter_lines(path)))


def iter_wiki_dump(path: str | os.PathLike) -> Iterator[WikiArticle]:
    """Stream the articles of a MediaWiki XML dump, skipping redirects and non-article pages."""
    path = Path(path)
    opener = bz2.open if path.name.lower().endswith(".bz2") else open
    try:
        with opener(path, "rb") as f:
            for _, elem in ET.iterparse(f, events=("end",)):
                if _local(elem.tag) != "page":
                    continue
                article = _article(elem)
                elem.clear()
                if article is not None and article.paragraphs:
                    yield article
    except (ET.ParseError, OSError, EOFError) as e:
        raise FirthError(f"{path}: is not a readable MediaWiki XML dump ({e}).") from None


def _local(tag: str) -> str:
    """The tag name without its XML namespace."""
    return tag.rsplit("}", 1)[-1]


def _article(page: ET.Element) -> WikiArticle | None:
    fields = {_local(child.tag): child for child in page}
    if fields.get("ns") is not None and (fields["ns"].text or "0").strip() != "0":
        return None
    if "redirect" in fields:
        return None
    text_elem = next((e for e in page.iter() if _local(e.tag) == "text"), None)
    if text_elem is None or not text_elem.text:
        return None
    title = fields["title"].text if "title" in fields else ""
    return WikiArticle(title or "", wiki_to_prose(text_elem.text))


def _iter_jsonl_paragraphs(path: Path) -> Iterator[Paragraph]:
    for _, record in iter_json_records(path, ("text",)):
        yield Paragraph(str(record.get("doc", path.name)), str(record["text"]))
