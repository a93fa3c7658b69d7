"""Featurization of exported models with numpy alone: what turns texts into the ONNX graph's inputs.

Each class rebuilds one featurizer from the state its export wrote, and
gives the same numbers as the torch and scikit-learn code it replaces
(tests/test_export.py checks that):

- `Vectorizer`: scikit-learn's CountVectorizer / TfidfVectorizer analyzers
  (word n-grams of `(?u)\\b\\w\\w+\\b` tokens, char and char_wb n-grams),
  counts or binary, sublinear tf, idf and l2 normalization, over the fitted vocabulary.
  Each text's nonzero cells go to the graph, as column ids and values.
- `PooledProjection`: firth's ProjectionFeatures, the mean or max of a text's word projections.
- `AveragedWords`: a word table's mean over a text's known words (PPMIFeatures with an SVD, AveragedWordVectors).
- `WordProjection`: a batch's distinct words' vectors (their projections, or the SGNN's word vectors
  that `words.onnx` gives them) and each text's rows of them, for the SGNN classifier's and the
  sentence encoder's graphs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import repeat

import numpy as np

from firth.config import ProjectionConfig
from firth.features.hashing import project_words
from firth.text.segment import words

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
WHITE_SPACES = re.compile(r"\s\s+")


class Vectorizer:
    """Counts or TF-IDF of word or character n-grams over a fixed vocabulary, as scikit-learn computes them."""

    def __init__(self, state: dict, idf: np.ndarray | None):
        self.analyzer, self.ngram_range = state["analyzer"], tuple(state["ngram_range"])
        self.lowercase, self.binary = state["lowercase"], state["binary"]
        self.sublinear_tf = state.get("sublinear_tf", False)
        self.vocabulary = {term: i for i, term in enumerate(state["vocabulary"])}
        self.idf = idf

    @property
    def width(self) -> int:
        return len(self.vocabulary)

    def __call__(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each text's nonzero cells as (column ids [texts, most cells], values [texts, most cells] float32),
        padded with column 0 and value 0: what the exported graph reads, never a dense vocabulary-wide row."""
        get, rows, columns = self.vocabulary.get, [], []
        for row, text in enumerate(texts):
            found = [c for c in map(get, self._analyze(text)) if c is not None]
            rows.extend([row] * len(found))
            columns.extend(found)
        cells, counts = np.unique(np.asarray(rows, dtype=np.int64) * self.width + np.asarray(columns, dtype=np.int64),
                                  return_counts=True)
        row, column = np.divmod(cells, self.width)
        values = np.ones(len(cells)) if self.binary else counts.astype(np.float64)
        if self.idf is not None:
            if self.sublinear_tf:
                values = 1 + np.log(values)
            values *= self.idf[column]
            norms = np.sqrt(np.bincount(row, weights=values * values, minlength=len(texts)))
            values /= norms[row]
        counts = np.bincount(row, minlength=len(texts))
        slot = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)  # cells come row by row
        ids = np.zeros((len(texts), max(int(counts.max(initial=0)), 1)), dtype=np.int64)
        padded = np.zeros(ids.shape, dtype=np.float32)
        ids[row, slot], padded[row, slot] = column, values
        return ids, padded

    def _analyze(self, text: str) -> list[str]:
        text = text.lower() if self.lowercase else text
        low, high = self.ngram_range
        if self.analyzer == "word":
            tokens = TOKEN.findall(text)
            return [" ".join(tokens[i:i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1)]
        text = WHITE_SPACES.sub(" ", text)
        if self.analyzer == "char":
            return [text[i:i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]
        grams = []
        for word in text.split():
            word = f" {word} "
            for n in range(low, high + 1):
                grams.extend(word[i:i + n] for i in range(max(len(word) - n + 1, 1)))
                if len(word) <= n:  # a short word counts once
                    break
        return grams


class WordProjection:
    """A batch of tokenized texts as the vectors of its distinct words and, per text, the rows of its words.

    The graphs read it as torch's models read ProjectedTexts: each distinct
    word is projected (and refined) once, and gathered per text afterwards. A
    word's vector is its projection, or `refine` of it (the SGNN's word layers,
    `words.onnx`), and the vectors of up to `cache_size` distinct words are kept
    (those seen since the cache last filled and started over), as the torch
    models keep them (firth.models.word_cache).
    """

    def __init__(self, config: ProjectionConfig, cache_size: int = 50_000,
                 refine: Callable[[np.ndarray], np.ndarray] | None = None):
        self.config, self.cache_size, self.refine = config, cache_size, refine
        self.cached: dict[str, int] = {}  # word -> its row of `self.cache`
        self.cache = np.zeros((0, 0), np.float32)

    def vectors(self, distinct: list[str]) -> np.ndarray:
        """[len(distinct), width] float32 word vectors: cached rows, and the others computed now."""
        rows = np.fromiter(map(self.cached.get, distinct, repeat(-1)), dtype=np.int64, count=len(distinct))
        new = np.flatnonzero(rows < 0)
        if not len(new):
            return self.cache[rows]
        words_ = [distinct[i] for i in new.tolist()]
        fresh = project_words(words_, self.config).astype(np.float32)
        if self.refine is not None:
            fresh = self.refine(fresh)
        out = np.zeros((len(distinct), fresh.shape[1]), np.float32)
        out[new] = fresh
        if len(new) < len(distinct):
            known = np.flatnonzero(rows >= 0)
            out[known] = self.cache[rows[known]]
        self._remember(words_, fresh)
        return out

    def _remember(self, new_words: list[str], rows: np.ndarray) -> None:
        """Keep the rows; a cache they would overfill starts over, as firth.models.word_cache does, so that the
        words of recent text are kept (it grows geometrically, so appends stay linear)."""
        if len(self.cached) + len(new_words) > self.cache_size:
            self.cached = {}
        new_words, rows = new_words[:self.cache_size], rows[:self.cache_size]
        if not new_words:  # cache_size 0: nothing is kept
            return
        start, end = len(self.cached), len(self.cached) + len(new_words)
        if end > len(self.cache):
            grown = np.zeros((min(self.cache_size, max(2 * len(self.cache), end, 1024)), rows.shape[1]), np.float32)
            if start:
                grown[:start] = self.cache[:start]
            self.cache = grown
        self.cache[start:end] = rows
        self.cached.update(zip(new_words, range(start, end)))

    def index(self, docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
        """(table [distinct words, width], the distinct words, index [texts, longest] into it, mask [texts, longest]).

        A text without words gets one masked slot, so that every row has a length.
        """
        slot: dict[str, int] = {}
        flat = [slot.setdefault(w, len(slot)) for doc in docs for w in doc]
        distinct = list(slot)
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        mask = np.arange(int(lengths.max(initial=0)) or 1)[None, :] < lengths[:, None]
        index = np.zeros(mask.shape, dtype=np.int64)
        index[mask] = flat
        if not distinct:  # no text has a word: one zero row for the index to point at
            return self._no_words(), distinct, index, mask.astype(np.float32)
        table = self.vectors(distinct)
        return table, distinct, index, mask.astype(np.float32)

    def _no_words(self) -> np.ndarray:
        """One zero row as wide as a word vector."""
        zeros = np.zeros((1, self.config.dim), np.float32)
        return zeros if self.refine is None else np.zeros_like(self.refine(zeros))


class PooledProjection:
    """firth's ProjectionFeatures: the mean (or max) of each text's word projections, [texts, D]."""

    def __init__(self, config: ProjectionConfig, pooling: str):
        self.words, self.pooling = WordProjection(config), pooling

    @property
    def width(self) -> int:
        return self.words.config.dim

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        docs = [words(text, lowercase=False) for text in texts]
        table, _, index, mask = self.words.index(docs)
        return pool_rows(table[index[mask > 0]], mask.sum(1).astype(np.int64), self.pooling)


class AveragedWords:
    """A text as the mean of its known words' rows of a word table, l2-normalized if `normalize`; a text
    without a known word is zeros (PPMIFeatures with `dim` set, AveragedWordVectors)."""

    def __init__(self, table_words: list[str], vectors: np.ndarray, lowercase: bool, normalize: bool):
        self.index = {word: i for i, word in enumerate(table_words)}
        self.vectors, self.lowercase, self.normalize = vectors.astype(np.float32), lowercase, normalize

    @property
    def width(self) -> int:
        return self.vectors.shape[1]

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        get, rows, lengths = self.index.get, [], []
        for text in texts:
            found = [i for i in map(get, words(text, lowercase=self.lowercase)) if i is not None]
            rows.extend(found)
            lengths.append(len(found))
        out = pool_rows(self.vectors[np.asarray(rows, dtype=np.int64)], np.asarray(lengths, dtype=np.int64), "mean")
        if self.normalize:  # scikit-learn's normalize: a zero row stays zero
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.where(norms > 0, norms, 1)
        return out


def pool_rows(rows: np.ndarray, lengths: np.ndarray, pooling: str) -> np.ndarray:
    """[texts, D]: the mean or max of each text's `lengths[i]` consecutive rows of `rows`; zeros for none."""
    out = np.zeros((len(lengths), rows.shape[1]), dtype=np.float32)
    filled = lengths > 0
    if filled.any():
        starts = (np.cumsum(lengths) - lengths)[filled]
        if pooling == "mean":
            out[filled] = np.add.reduceat(rows, starts) / lengths[filled, None]
        else:
            out[filled] = np.maximum.reduceat(rows, starts)
    return out
