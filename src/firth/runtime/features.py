"""Featurization of exported models with numpy alone: what turns texts into the ONNX graph's inputs.

Each class rebuilds one featurizer from the state its export wrote, and
gives the same numbers as the torch and scikit-learn code it replaces
(tests/test_export.py checks that):

- `Vectorizer`: scikit-learn's CountVectorizer / TfidfVectorizer analyzers
  (word n-grams of `(?u)\\b\\w\\w+\\b` tokens, char and char_wb n-grams),
  counts or binary, sublinear tf, idf and l2 normalization, over the fitted vocabulary.
- `PooledProjection`: firth's ProjectionFeatures, the mean or max of a text's word projections.
- `WordProjection`: the projections of a batch of texts' words, padded, for the SGNN classifier's graph.
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
        out = np.zeros((len(texts), self.width), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in self._analyze(text):
                column = self.vocabulary.get(term)
                if column is not None:
                    out[row, column] += 1
        if self.binary:
            np.minimum(out, 1, out=out)
        if self.idf is None:
            return out
        if self.sublinear_tf:  # 1 + log(tf) where tf > 0
            counted = out > 0
            np.log(out, out=out, where=counted)
            out[counted] += 1
        out *= self.idf.astype(np.float32)
        norms = np.sqrt((out.astype(np.float64) ** 2).sum(1, keepdims=True))
        return (out / np.where(norms == 0, 1, norms)).astype(np.float32)

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
    """Each text's words as SGNN projections (float32), padded: [texts, longest, D] and a mask [texts, longest]."""

    def __init__(self, config: ProjectionConfig, cache_size: int = 50_000):
        self.config, self.cache_size = config, cache_size
        self.cache: dict[str, np.ndarray] = {}

    def vectors(self, distinct: list[str]) -> np.ndarray:
        """[len(distinct), D] float32 projections, cached for the first `cache_size` words seen."""
        new = [w for w in distinct if w not in self.cache]
        if new:
            rows = project_words(new, self.config).astype(np.float32)
            room = max(self.cache_size - len(self.cache), 0)
            self.cache.update(zip(new[:room], rows[:room]))
            fresh = dict(zip(new, rows))
        else:
            fresh = {}
        return np.stack([self.cache[w] if w in self.cache else fresh[w] for w in distinct]) if distinct else \
            np.zeros((0, self.config.dim), np.float32)

    def __call__(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.pad([words(text, lowercase=False) for text in texts])

    def pad(self, docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Tokenized texts as padded projections and their mask."""
        distinct = list(dict.fromkeys(w for doc in docs for w in doc))
        table = self.vectors(distinct)
        slot = {w: i for i, w in enumerate(distinct)}
        longest = max((len(d) for d in docs), default=0) or 1
        padded = np.zeros((len(docs), longest, self.config.dim), dtype=np.float32)
        mask = np.zeros((len(docs), longest), dtype=np.float32)
        for row, doc in enumerate(docs):
            if doc:
                padded[row, :len(doc)] = table[[slot[w] for w in doc]]
                mask[row, :len(doc)] = 1
        return padded, mask


class PooledProjection:
    """firth's ProjectionFeatures: the mean (or max) of each text's word projections, [texts, D]."""

    def __init__(self, config: ProjectionConfig, pooling: str):
        self.words, self.pooling = WordProjection(config), pooling

    @property
    def width(self) -> int:
        return self.words.config.dim

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        padded, mask = self.words(texts)
        if self.pooling == "mean":
            return (padded.sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)).astype(np.float32)
        peak = np.where(mask[:, :, None] > 0, padded, -np.inf).max(1)
        return np.where(np.isfinite(peak), peak, 0).astype(np.float32)
