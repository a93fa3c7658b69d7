"""Featurization of exported models with numpy alone: what turns texts into the ONNX graph's inputs.

Each class rebuilds one featurizer from the state its export wrote, and
gives the same numbers as the torch and scikit-learn code it replaces
(tests/test_export.py checks that):

- `Vectorizer`: scikit-learn's CountVectorizer / TfidfVectorizer analyzers
  (word n-grams of `(?u)\\b\\w\\w+\\b` tokens, char and char_wb n-grams),
  counts or binary, sublinear tf, idf and l2 normalization, over the fitted vocabulary.
- `PooledProjection`: firth's ProjectionFeatures, the mean or max of a text's word projections.
- `WordProjection`: a batch's distinct words' projections and each text's rows of them, for the
  SGNN classifier's and the sentence encoder's graphs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """[texts, vocabulary] float32; computed on the non-zero cells, then laid out dense for the graph."""
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
        out = np.zeros((len(texts), self.width), dtype=np.float32)
        out[row, column] = values
        return out

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
    """A batch of tokenized texts as the projections of its distinct words and, per text, the rows of its words.

    The graphs read it as torch's models read ProjectedTexts: each distinct
    word is projected (and refined) once, and gathered per text afterwards.
    """

    def __init__(self, config: ProjectionConfig, cache_size: int = 50_000):
        self.config, self.cache_size = config, cache_size
        self.cache: dict[str, np.ndarray] = {}

    def vectors(self, distinct: list[str]) -> np.ndarray:
        """[len(distinct), D] float32 projections, cached for the first `cache_size` words seen."""
        new = [w for w in distinct if w not in self.cache]
        fresh = dict(zip(new, project_words(new, self.config).astype(np.float32))) if new else {}
        for word in new[:max(self.cache_size - len(self.cache), 0)]:
            self.cache[word] = fresh[word]
        if not distinct:
            return np.zeros((0, self.config.dim), np.float32)
        return np.stack([self.cache[w] if w in self.cache else fresh[w] for w in distinct])

    def index(self, docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
        """(table [distinct words, D], the distinct words, index [texts, longest] into the table, mask [texts, longest]).

        A text without words gets one masked slot, so that every row has a length.
        """
        distinct = list(dict.fromkeys(w for doc in docs for w in doc))
        slot = {w: i for i, w in enumerate(distinct)}
        longest = max((len(d) for d in docs), default=0) or 1
        index = np.zeros((len(docs), longest), dtype=np.int64)
        mask = np.zeros((len(docs), longest), dtype=np.float32)
        for row, doc in enumerate(docs):
            index[row, :len(doc)] = [slot[w] for w in doc]
            mask[row, :len(doc)] = 1
        table = self.vectors(distinct)
        if not len(table):  # no text has a word: one zero row for the index to point at
            table = np.zeros((1, self.config.dim), np.float32)
        return table, distinct, index, mask


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
        lengths = mask.sum(1).astype(np.int64)
        out = np.zeros((len(docs), self.width), dtype=np.float32)
        filled = lengths > 0
        if filled.any():
            rows = table[index[mask > 0]]  # every text's word rows, text after text
            starts = (np.cumsum(lengths) - lengths)[filled]
            if self.pooling == "mean":
                out[filled] = np.add.reduceat(rows, starts) / lengths[filled, None]
            else:
                out[filled] = np.maximum.reduceat(rows, starts)
        return out
