"""Word vectors with gensim's KeyedVectors verbs; they know nothing about training.

`KeyedVectors(words, vectors)` holds one float32 row per word, in the order
given (training orders words by descending count, so the first N words are the
N most frequent, which `restrict_vocab` relies on). It answers:

- `most_similar(positive, negative)`: 3CosAdd, the cosine between every word
  and the unit-length mean of the unit input vectors (negatives subtracted);
  input words are never returned. `most_similar_cosmul`: 3CosMul (Levy &
  Goldberg 2014), the product of the positives' cosines shifted to [0, 1]
  divided by the negatives' (+1e-6). `analogy(a, b, c)`: "a is to b as c is
  to ?" by either method.
- `similarity`, `doesnt_match`, `evaluate_word_analogies`, `evaluate_word_pairs`
  (see `firth.evaluate.word_similarity`, which knows nothing of this class).
- `save`/`load`: a model directory (`config.json` with the words, and
  `model.safetensors` with the vectors; `load` also reads the vectors of a
  Word2Vec directory); `save_word2vec_format` / `load_word2vec_format`: the
  word2vec text and binary files.

Vectors trained on SGNN projections carry a `ProjectionEncoder`, so that any
word, including one never seen in training, gets a vector; such a word is
still not "in" the vectors (`word in kv` is False) and evaluations skip it,
as gensim's do for fastText.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from firth.config import ProjectionConfig
from firth.errors import FirthError
from firth.evaluate.word_similarity import analogy_scores, evaluate_word_analogies, evaluate_word_pairs, top_indices
from firth.features.projection import Projection
from firth.features.word_vectors import (
    READERS,
    detect_format,
    write_word2vec_binary,
    write_word2vec_text,
)
from firth.io.card import new_card
from firth.io.model_dir import CONFIG, WEIGHTS, damaged_as_error, load_tensors, model_writer, read_model_config, save_tensors

Key = str | np.ndarray  # a word, or a vector standing for one


class ProjectionEncoder:
    """A vector for any word: its SGNN projection scaled to unit length, times a [P, D] matrix.

    This is the input side of a skip-gram trained on projections
    (`firth.models.word2vec`, `input="projection"`); it needs no vocabulary.
    """

    def __init__(self, config: ProjectionConfig, weight: torch.Tensor | np.ndarray):
        self.config = config
        self.projection = Projection(config, cache_size=0)
        self.weight = torch.as_tensor(weight, dtype=torch.float32)

    def features(self, words: Sequence[str]) -> torch.Tensor:
        """Unit-length projections [len(words), P] (float32); an all-zero projection stays zero."""
        x = self.projection.project_words(list(words)).to(torch.float32)
        return x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)

    def __call__(self, words: Sequence[str]) -> np.ndarray:
        """Word vectors [len(words), D]."""
        return (self.features(words) @ self.weight).numpy()


class KeyedVectors:
    """Words and their vectors, with gensim's query and evaluation verbs."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray | torch.Tensor,
                 counts: np.ndarray | None = None, encoder: ProjectionEncoder | None = None):
        if isinstance(vectors, torch.Tensor):
            vectors = vectors.detach().cpu().numpy()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise FirthError(f"need one vector per word: got {len(words)} words and vectors of "
                             f"shape {tuple(vectors.shape)}.")
        self.index_to_key = list(words)
        self.key_to_index = {word: i for i, word in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise FirthError("the word list has a word twice; each word must have exactly one vector.")
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.encoder = encoder
        self._unit: np.ndarray | None = None

    # ---- lookup -------------------------------------------------------------

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: str) -> bool:
        return word in self.key_to_index

    def __repr__(self) -> str:
        oov = ", with projection vectors for unknown words" if self.encoder else ""
        return f"KeyedVectors({len(self)} words, dim {self.vector_size}{oov})"

    def get_index(self, word: str) -> int:
        index = self.key_to_index.get(word)
        if index is None:
            raise FirthError(f"word {word!r} is not in the vocabulary.")
        return index

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """The word's vector (unit length if `norm`); unknown words go through the encoder, if any."""
        if word not in self.key_to_index and self.encoder is not None:
            vector = self.encoder([word])[0]
            return vector / max(float(np.linalg.norm(vector)), 1e-12) if norm else vector
        index = self.get_index(word)
        return self.unit_vectors[index] if norm else self.vectors[index]

    def __getitem__(self, words: str | Sequence[str]) -> np.ndarray:
        if isinstance(words, str):
            return self.get_vector(words)
        return np.stack([self.get_vector(word) for word in words]) if len(words) else \
            np.zeros((0, self.vector_size), np.float32)

    @property
    def unit_vectors(self) -> np.ndarray:
        """Every vector scaled to unit length (a zero vector stays zero); computed once."""
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = self.vectors / np.maximum(norms, 1e-12)
        return self._unit

    def _unit_key(self, key: Key) -> np.ndarray:
        if isinstance(key, str):
            return self.get_vector(key, norm=True)
        vector = np.asarray(key, dtype=np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    # ---- queries ------------------------------------------------------------

    def most_similar(self, positive: Key | Iterable[Key] = (), negative: Key | Iterable[Key] = (),
                     topn: int = 10, restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """The `topn` words nearest (by cosine) to the mean of the unit positives minus the negatives (3CosAdd)."""
        return self._rank(positive, negative, topn, restrict_vocab, "3cosadd")

    def most_similar_cosmul(self, positive: Key | Iterable[Key] = (), negative: Key | Iterable[Key] = (),
                            topn: int = 10, restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """The `topn` words best by 3CosMul: prod (1 + cos(w, p)) / 2 over positives, divided by negatives'."""
        return self._rank(positive, negative, topn, restrict_vocab, "3cosmul")

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10,
                          restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        return self.most_similar([vector], topn=topn, restrict_vocab=restrict_vocab)

    def analogy(self, a: str, b: str, c: str, topn: int = 1, method: str = "3cosadd",
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """"a is to b as c is to ?": the best answers, by 3CosAdd (b - a + c) or 3CosMul."""
        return self._rank([b, c], [a], topn, restrict_vocab, method)

    def _rank(self, positive, negative, topn: int, restrict_vocab: int | None,
              method: str) -> list[tuple[str, float]]:
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive and not negative:
            raise FirthError("most_similar needs at least one positive or negative word.")
        rows = self.unit_vectors[:restrict_vocab]
        pos = np.stack([self._unit_key(k) for k in positive]) if positive else np.zeros((0, self.vector_size))
        neg = np.stack([self._unit_key(k) for k in negative]) if negative else np.zeros((0, self.vector_size))
        scores = analogy_scores(rows, pos[None], neg[None], method)[0]
        inputs = {self.key_to_index[k] for k in positive + negative if isinstance(k, str) and k in self}
        return [(self.index_to_key[i], float(scores[i])) for i in top_indices(scores, topn, inputs)]

    def similarity(self, word1: str, word2: str) -> float:
        """Cosine similarity of two words."""
        return float(self.get_vector(word1, norm=True) @ self.get_vector(word2, norm=True))

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word farthest (by cosine) from the unit-length mean of the words' unit vectors."""
        usable = [w for w in words if w in self or self.encoder is not None]
        if not usable:
            raise FirthError("doesnt_match got no word that is in the vocabulary.")
        units = np.stack([self.get_vector(w, norm=True) for w in usable])
        mean = units.mean(0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        return usable[int(np.argmin(units @ mean))]

    # ---- evaluation ---------------------------------------------------------

    def evaluate_word_analogies(self, analogies, restrict_vocab: int = 300_000, case_insensitive: bool = True,
                                dummy4unknown: bool = False, method: str = "3cosadd"):
        """Analogy accuracy; see `firth.evaluate.word_similarity.evaluate_word_analogies`."""
        return evaluate_word_analogies(self, analogies, restrict_vocab, case_insensitive, dummy4unknown, method)

    def evaluate_word_pairs(self, pairs, restrict_vocab: int = 300_000, case_insensitive: bool = True,
                            dummy4unknown: bool = False):
        """Pearson and Spearman against human scores; see `firth.evaluate.word_similarity`."""
        return evaluate_word_pairs(self, pairs, restrict_vocab, case_insensitive, dummy4unknown)

    # ---- files --------------------------------------------------------------

    def state(self) -> tuple[dict, dict[str, np.ndarray | torch.Tensor]]:
        """What a model directory holds: (configuration: the words and the encoder's projection, tensors)."""
        config = {"dim": self.vector_size, "words": self.index_to_key,
                  "projection": asdict(self.encoder.config) if self.encoder else None}
        tensors = {"vectors": self.vectors}
        if self.counts is not None:
            tensors["counts"] = self.counts
        if self.encoder is not None:
            tensors["projection_weight"] = self.encoder.weight
        return config, tensors

    def save(self, directory: str | os.PathLike) -> None:
        """Write the model directory atomically: config.json (words, encoder) and model.safetensors."""
        config, tensors = self.state()
        card = new_card(f"{len(self):,} word vectors of dim {self.vector_size}"
                        + (", and a projection encoder for any word" if self.encoder else ""), {"words": len(self)})
        with model_writer(directory, "KeyedVectors", config, card) as tmp:
            save_tensors(tmp / WEIGHTS, tensors)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "KeyedVectors":
        """Read the vectors of a KeyedVectors or Word2Vec model directory; nothing is unpickled."""
        _, config = read_model_config(directory, ("KeyedVectors", "Word2Vec"))
        path = Path(directory) / WEIGHTS
        tensors = load_tensors(path)
        with damaged_as_error(Path(directory) / CONFIG):
            words, vectors, counts = config["words"], tensors["vectors"].numpy(), tensors.get("counts")
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise FirthError(f"{Path(directory) / CONFIG}: its words are not a list of strings.")
            if vectors.dtype != np.float32 or not np.isfinite(vectors).all():
                raise FirthError(f"{path}: its vectors are not finite float32 numbers; the file is damaged.")
            encoder = None
            if config.get("projection") is not None:
                encoder = ProjectionEncoder(ProjectionConfig(**config["projection"]), tensors["projection_weight"])
            return cls(words, vectors, None if counts is None else counts.numpy(), encoder)

    def save_word2vec_format(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write the word2vec text (or, if `binary`, binary) file; the encoder is not part of the format."""
        (write_word2vec_binary if binary else write_word2vec_text)(path, self.index_to_key, self.vectors)

    @classmethod
    def load_word2vec_format(cls, path: str | os.PathLike, binary: bool | None = None) -> "KeyedVectors":
        """Read a word2vec text or binary file (`binary=None`: binary if the name ends in .bin).

        GloVe files (no header line) are read too. When a word occurs twice, its first vector wins.
        """
        fmt = detect_format(path) if binary is None else "word2vec-binary" if binary else "word2vec-text"
        words, vectors = READERS[fmt](path)
        first = {}
        for i, word in enumerate(words):
            first.setdefault(word, i)
        rows = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        return cls(list(first), vectors[rows])


def _as_list(keys: Key | Iterable[Key] | None) -> list[Key]:
    """gensim's leniency: one word or vector counts as a list of one."""
    if keys is None:
        return []
    if isinstance(keys, str) or (isinstance(keys, np.ndarray) and keys.ndim == 1):
        return [keys]
    return list(keys)
