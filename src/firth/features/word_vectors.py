"""Pretrained word vectors: readers/writers for the word2vec and GloVe files, and averaging.

File formats (UTF-8 words, one vector per word, in file order):

- word2vec text: a header line "V D", then V lines "word v1 ... vD".
- GloVe text: the same lines without the header (D is read off the first line).
- word2vec binary: the ASCII header "V D\\n", then V entries, each the word's
  UTF-8 bytes, one space, D little-endian float32, and an optional "\\n".

Values are separated by single spaces (a trailing space is allowed), so a word
may contain any character but a space or a line break.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from firth.errors import FirthError
from firth.io.atomic import atomic_path
from firth.features.state import FeaturizerStateMixin
from firth.text.readers import iter_lines
from firth.text.segment import words as split_words

FORMATS = ("word2vec-text", "word2vec-binary", "glove")
OOV_POLICIES = ("skip",)

# --- Reading ----------------------------------------------------------------


def _fields(line: str) -> list[str]:
    return line.rstrip("\r\n").rstrip(" ").split(" ")


def _parse_header(line: str) -> tuple[int, int] | None:
    """(V, D) from a "V D" header line, or None when the line is not one."""
    fields = _fields(line)
    if len(fields) == 2 and all(field.isdigit() for field in fields):
        return int(fields[0]), int(fields[1])
    return None


def _parse_vector(path: Path, lineno: int, fields: list[str], dim: int) -> np.ndarray:
    if len(fields) != dim + 1:
        raise FirthError(f"{path}: line {lineno} has {len(fields) - 1} values after the word, "
                         f"expected {dim}.")
    try:
        return np.array(fields[1:], dtype=np.float32)
    except ValueError:
        raise FirthError(f"{path}: line {lineno} has a value that is not a number.") from None


def _read_text(path: Path, header: bool) -> tuple[list[str], np.ndarray]:
    """Shared reader of the two text formats; `header` says whether line 1 is "V D"."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    size = dim = None
    for lineno, line in iter_lines(path):
        if header and lineno == 1:
            size, dim = _header_or_fail(path, line)
            continue
        if not line.strip():
            continue
        fields = _fields(line)
        if dim is None:
            dim = len(fields) - 1
        rows.append(_parse_vector(path, lineno, fields, dim))
        words.append(fields[0])
    if dim is None:
        raise FirthError(f"{path}: is empty.")
    if size is not None and size != len(words):
        raise FirthError(f"{path}: the header says {size} words but the file has {len(words)}.")
    return words, np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)


def _header_or_fail(path: Path, line: str) -> tuple[int, int]:
    parsed = _parse_header(line)
    if parsed is None:
        raise FirthError(f"{path}: line 1 is not a word2vec header \"V D\" (two whole numbers).")
    return parsed


def read_word2vec_text(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """(words, float32 [V, D] vectors) from a word2vec text file."""
    return _read_text(Path(path), header=True)


def read_glove_text(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """(words, float32 [V, D] vectors) from a GloVe text file."""
    return _read_text(Path(path), header=False)


def read_word2vec_binary(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """(words, float32 [V, D] vectors) from a word2vec binary file."""
    path = Path(path)
    if not path.is_file():
        raise FirthError(f"{path}: no such file.")
    data = path.read_bytes()
    end = data.find(b"\n")
    header = _parse_header(data[:end].decode("ascii", errors="replace")) if end >= 0 else None
    if header is None:
        raise FirthError(f"{path}: line 1 is not a word2vec header \"V D\" (two whole numbers).")
    size, dim = header
    vectors = np.empty((size, dim), dtype=np.float32)
    words = []
    pos = end + 1
    for entry in range(1, size + 1):
        word, pos = _read_binary_word(path, data, pos, entry)
        if pos + 4 * dim > len(data):
            raise FirthError(f"{path}: is truncated in entry {entry} (byte {pos}); the header "
                             f"announces {size} vectors of {dim} values.")
        vectors[entry - 1] = np.frombuffer(data, dtype="<f4", count=dim, offset=pos)
        words.append(word)
        pos += 4 * dim
    if data[pos:].strip():
        raise FirthError(f"{path}: has data after the {size} vectors its header announces.")
    return words, vectors


def _read_binary_word(path: Path, data: bytes, pos: int, entry: int) -> tuple[str, int]:
    """The word starting at `pos` (after an optional newline) and the position after its space."""
    if data[pos:pos + 1] == b"\n":
        pos += 1
    space = data.find(b" ", pos)
    if space < 0:
        raise FirthError(f"{path}: is truncated in entry {entry} (byte {pos}); expected a word "
                         "followed by a space.")
    try:
        return data[pos:space].decode("utf-8"), space + 1
    except UnicodeDecodeError:
        raise FirthError(f"{path}: the word of entry {entry} (byte {pos}) is not valid UTF-8.") from None


# --- Writing ----------------------------------------------------------------


def _check_words(words: list[str], vectors: np.ndarray) -> None:
    if len(words) != len(vectors):
        raise FirthError(f"got {len(words)} words but {len(vectors)} vectors.")
    for word in words:
        if not word or any(char in word for char in " \n\r"):
            raise FirthError(f"word {word!r} is empty or contains a space or line break, "
                             "which the word2vec formats cannot store.")


def write_word2vec_text(path: str | os.PathLike, words: list[str], vectors: np.ndarray) -> None:
    """Write a word2vec text file atomically; 9 significant digits keep float32 exact."""
    vectors = np.asarray(vectors, dtype=np.float32)
    _check_words(words, vectors)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n")
        for word, row in zip(words, vectors.tolist()):
            f.write(word + " " + " ".join(f"{value:.9g}" for value in row) + "\n")


def write_word2vec_binary(path: str | os.PathLike, words: list[str], vectors: np.ndarray) -> None:
    """Write a word2vec binary file atomically (each entry ends with "\\n", as word2vec does)."""
    vectors = np.asarray(vectors, dtype="<f4")
    _check_words(words, vectors)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode("ascii"))
        for word, row in zip(words, vectors):
            f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")


def detect_format(path: str | os.PathLike) -> str:
    """"word2vec-binary" for .bin, else "word2vec-text" if line 1 is "V D", else "glove"."""
    path = Path(path)
    if path.suffix.lower() == ".bin":
        return "word2vec-binary"
    for _, line in iter_lines(path):
        return "word2vec-text" if _parse_header(line) else "glove"
    raise FirthError(f"{path}: is empty.")


READERS = {"word2vec-text": read_word2vec_text, "word2vec-binary": read_word2vec_binary,
           "glove": read_glove_text}

# --- Averaging --------------------------------------------------------------


class AveragedWordVectors(FeaturizerStateMixin, TransformerMixin, BaseEstimator):
    """A document is the mean of its known tokens' pretrained vectors.

    `vectors` is a registry name ("glove-6b-50d") or the path of a .txt/.vec
    (word2vec text if line 1 is "V D", else GloVe) or .bin (word2vec binary)
    file; `format` forces one of FORMATS. Tokens come from
    `firth.text.segment.words`, lowercased if `lowercase`. With `oov="skip"`
    unknown tokens are ignored and a document without a known token is the
    zero vector. When one word occurs twice in a file, its first vector wins.

    `fit` keeps the whole table, so `transform` knows every word of it. `save`
    keeps only the vectors of the words that occur in the fit texts, so that
    model directories stay small: a loaded model knows only the words of its
    training texts, like a fitted vocabulary, and the others become OOV.
    `transform` records the fraction of tokens it did not find in `oov_rate_`.
    """

    def __init__(self, vectors: str = "glove-6b-50d", format: str | None = None,
                 lowercase: bool = True, oov: str = "skip"):
        self.vectors = vectors
        self.format = format
        self.lowercase = lowercase
        self.oov = oov

    def fit(self, texts, y=None):
        if self.oov not in OOV_POLICIES:
            raise FirthError(f"unknown oov policy {self.oov!r}; choose one of {', '.join(OOV_POLICIES)}.")
        words, self.vectors_ = self._read_table()
        self.index_ = {}
        for i, word in enumerate(words):
            self.index_.setdefault(word, i)
        seen = {self.index_.get(token) for text in texts for token in self._tokens(text)}
        self.fit_rows_ = np.array(sorted(seen - {None}), dtype=np.int64)
        return self

    def _read_table(self) -> tuple[list[str], np.ndarray]:
        """The (words, vectors) named by `vectors` and `format`."""
        if self.format is not None and self.format not in FORMATS:
            raise FirthError(f"unknown word-vector format {self.format!r}; "
                             f"choose one of {', '.join(FORMATS)}.")
        path = Path(self.vectors)
        if self.format is None and not path.suffix and not path.exists():
            return self._load_registry(self.vectors)
        words, vectors = READERS[self.format or detect_format(path)](path)
        return words, vectors

    @staticmethod
    def _load_registry(name: str) -> tuple[list[str], np.ndarray]:
        from firth.data import load
        from firth.data.registry import spec

        if spec(name).kind != "word-vectors":
            raise FirthError(f"dataset {name!r} is a {spec(name).kind} dataset, not word vectors.")
        embeddings = load(name)
        return embeddings.words, np.asarray(embeddings.vectors, dtype=np.float32)

    def _tokens(self, text: str) -> list[str]:
        return split_words(text, lowercase=self.lowercase)

    def transform(self, texts) -> np.ndarray:
        check_is_fitted(self, "vectors_")
        known, n_tokens = self._known_counts(texts)
        n_known = np.asarray(known.sum(axis=1)).ravel()
        self.oov_rate_ = float(1 - n_known.sum() / n_tokens) if n_tokens else 0.0
        sums = known @ self.vectors_
        return (sums / np.maximum(n_known, 1)[:, None]).astype(np.float32)

    def _known_counts(self, texts) -> tuple[sp.csr_matrix, int]:
        """[n_docs, table size] counts of each document's known tokens, and the total token count."""
        rows, n_tokens, indptr = [], 0, [0]
        for text in texts:
            tokens = self._tokens(text)
            n_tokens += len(tokens)
            rows.extend(i for i in map(self.index_.get, tokens) if i is not None)
            indptr.append(len(rows))
        counts = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), np.array(rows, dtype=np.int64),
                                np.array(indptr)), shape=(len(indptr) - 1, len(self.vectors_)))
        return counts, n_tokens

    @property
    def n_features_out_(self) -> int:
        return self.vectors_.shape[1]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"dim{i}" for i in range(self.n_features_out_)], dtype=object)

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The words of the fit texts and their vectors (not the whole table)."""
        check_is_fitted(self, "vectors_")
        word_of_row = {row: word for word, row in self.index_.items()}
        return ({"words": [word_of_row[row] for row in self.fit_rows_.tolist()]},
                {"vectors": self.vectors_[self.fit_rows_]})

    def _restore(self, saved: dict, tensors: dict) -> None:
        self.vectors_ = tensors["vectors"].numpy()
        self.index_ = {word: i for i, word in enumerate(saved["words"])}
        self.fit_rows_ = np.arange(len(saved["words"]), dtype=np.int64)
