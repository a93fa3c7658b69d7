"""`load(name)`: a cached dataset as Python objects, fetching it first if needed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from firth.data.registry import DATASETS, get, spec
from firth.errors import FirthError
from firth.text.corpus import Paragraph, iter_corpus
from firth.text.readers import LabelledTexts, read_labelled


@dataclass
class ClassificationData:
    """A labelled dataset with its fixed train/test split."""

    name: str
    train: LabelledTexts
    test: LabelledTexts

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.train.labels) | set(self.test.labels))


@dataclass
class ParagraphCorpus:
    """A paragraph corpus, streamed from disk each time it is iterated."""

    name: str
    path: Path

    def __iter__(self) -> Iterator[Paragraph]:
        return iter_corpus(self.path)


class Embeddings(NamedTuple):
    """Pretrained word vectors: `vectors[i]` is the vector of `words[i]`."""

    words: list[str]
    vectors: np.ndarray


class WordPair(NamedTuple):
    word1: str
    word2: str
    score: float


class Analogy(NamedTuple):
    section: str
    a: str
    b: str
    c: str
    expected: str


def load(name: str):
    """Load a registry dataset (fetched and cached on first use).

    Returns, by the dataset's kind: `ClassificationData` (classification),
    `ParagraphCorpus` (paragraphs), `Embeddings` (word-vectors), a list of
    `Analogy` (analogies) or a list of `WordPair` (word-pairs).
    """
    entry = spec(name)
    kind = entry.kind
    root = get(name)
    if kind == "classification":
        return ClassificationData(name, read_labelled(root / "train.jsonl"), read_labelled(root / "test.jsonl"))
    if kind == "paragraphs":
        return ParagraphCorpus(name, root / "paragraphs.jsonl")
    if kind == "word-vectors":
        words = (root / "words.txt").read_text(encoding="utf-8").split("\n")[:-1]
        return Embeddings(words, np.load(root / "vectors.npy"))
    benchmark_file = root / Path(entry.path).name
    if kind == "analogies":
        return read_analogies(benchmark_file)
    return read_word_pairs(benchmark_file)


def paragraphs(source: str) -> Iterable[Paragraph]:
    """The paragraphs of a corpus file (plain text, JSON lines, MediaWiki XML) or of a registry corpus by name.

    A path that exists wins over a dataset of the same name; nothing is read
    or fetched until the result is iterated.
    """
    if Path(source).exists():
        return _Lazy(lambda: iter_corpus(source))
    if source in DATASETS and DATASETS[source].kind == "paragraphs":
        return _Lazy(lambda: iter(load(source)))
    if source in DATASETS:
        raise FirthError(f"dataset {source!r} is a {DATASETS[source].kind} dataset, not a paragraph corpus.")
    raise FirthError(f"{source}: no such file, and not a dataset name (see `firth data list`).")


def paragraph_words(sources: Sequence[str]) -> Iterable[list[str]]:
    """Every paragraph of the corpora as its list of words, read anew (streamed) each time it is iterated."""
    from firth.text.segment import words

    for source in sources:  # every corpus is checked before any is read
        paragraphs(source)
    return _Lazy(lambda: (words(p.text) for source in sources for p in paragraphs(source)))


class _Lazy:
    """An iterable that calls `start` each time it is iterated."""

    def __init__(self, start):
        self.start = start

    def __iter__(self):
        return self.start()


def read_analogies(path: Path) -> list[Analogy]:
    """Questions `a b c d` grouped under `: section` lines (the word2vec format)."""
    section, questions = "", []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif line.strip():
            questions.append(Analogy(section, *line.split()[:4]))
    return questions


def read_word_pairs(path: Path) -> list[WordPair]:
    """Tab- or space-separated `word1 word2 score` lines; `#` lines are comments."""
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            w1, w2, score = line.split()[:3]
            pairs.append(WordPair(w1, w2, float(score)))
    return pairs
