"""Teacher vectors for distillation: a sentence-transformers model's vectors of the training sentences,
computed once and cached on disk, so that no epoch (and no later run on the same sentences) waits for
the teacher.

A cache file (safetensors, no pickle) holds each sentence's 64-bit key (a
hash of its text, sorted) and its unit vector in float16; a run encodes only
the sentences the cache lacks and writes the merged file atomically every
`chunk` sentences, so a killed run keeps what it had encoded.

    teacher = load_teacher("path/to/all-MiniLM-L6-v2")
    vectors = teacher_vectors(teacher, (s for p in paragraphs for s in p), cache_path("all-MiniLM-L6-v2", ...))
    vectors.lookup(["A sentence."])        # [1, 384] float32
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from firth.errors import FirthError
from firth.io.atomic import atomic_path

Teacher = Callable[[list[str]], np.ndarray]  # texts -> [len(texts), dim] vectors
CHUNK = 16_384  # sentences encoded between two writes of the cache


def sentence_key(sentence: str) -> int:
    """A 64-bit key of the sentence's text (BLAKE2b), as a signed int64."""
    return int.from_bytes(hashlib.blake2b(sentence.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


class TeacherVectors:
    """The teacher's unit vectors of sentences, looked up by the sentences' keys."""

    def __init__(self, keys: np.ndarray, vectors: np.ndarray):
        order = np.argsort(keys, kind="stable")
        self.keys, self.vectors = keys[order], vectors[order]

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The row of each key, -1 where the cache lacks it."""
        rows = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = (self.keys[rows] == keys) if len(self.keys) else np.zeros(len(keys), dtype=bool)
        return np.where(found, rows, -1)

    def lookup(self, sentences: Sequence[str]) -> torch.Tensor:
        """[len(sentences), dim] float32 vectors; a sentence the teacher never saw is an error."""
        rows = self.find(np.array([sentence_key(s) for s in sentences], dtype=np.int64))
        if (rows < 0).any():
            missing = sentences[int(np.flatnonzero(rows < 0)[0])]
            raise FirthError(f"the teacher's vectors lack the training sentence {missing[:60]!r}; "
                             "they are computed for the training corpus before training starts.")
        return torch.from_numpy(self.vectors[rows].astype(np.float32))

    def merged(self, keys: np.ndarray, vectors: np.ndarray) -> "TeacherVectors":
        if not len(self.keys):
            return TeacherVectors(keys, vectors)
        return TeacherVectors(np.concatenate([self.keys, keys]), np.concatenate([self.vectors, vectors]))

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            save_file({"keys": self.keys, "vectors": self.vectors}, str(tmp))

    @classmethod
    def load(cls, path: Path) -> "TeacherVectors":
        try:
            tensors = load_file(str(path))
            keys, vectors = tensors["keys"], tensors["vectors"]
        except Exception as e:  # a truncated or foreign file: the cache is only a cache
            raise FirthError(f"{path}: not a teacher-vector cache ({e}); delete it to recompute.") from None
        if keys.ndim != 1 or vectors.ndim != 2 or len(keys) != len(vectors):
            raise FirthError(f"{path}: not a teacher-vector cache (keys {keys.shape}, vectors {vectors.shape}); "
                             "delete it to recompute.")
        return cls(keys, vectors)

    @classmethod
    def empty(cls, dim: int) -> "TeacherVectors":
        return cls(np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float16))


def load_teacher(directory: str | os.PathLike, batch_size: int = 64) -> Teacher:
    """A local sentence-transformers model directory as a Teacher (offline; unit vectors)."""
    directory = Path(directory)
    if not (directory / "modules.json").is_file() and not (directory / "config.json").is_file():
        raise FirthError(f"{directory}: not a sentence-transformers model directory (no modules.json or config.json).")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(directory), device="cpu")
    return lambda texts: model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)


def lazy_teacher(directory: str | os.PathLike) -> Teacher:
    """load_teacher's Teacher, loaded at its first call: a run whose cache holds every sentence never loads it."""
    loaded: list[Teacher] = []

    def encode(texts: list[str]) -> np.ndarray:
        if not loaded:
            loaded.append(load_teacher(directory))
        return loaded[0](texts)

    return encode


def teacher_name(directory: str | os.PathLike) -> str:
    """A teacher's name for people: its directory's, or the folder above when that is a generic "model"."""
    path = Path(directory)
    return path.parent.name if path.name == "model" and path.parent.name else path.name


def cache_path(directory: str | os.PathLike, root: Path) -> Path:
    """Where a teacher's vectors are cached under `root`: named for the model directory and a hash of its
    files' names, sizes and modification times, so that a changed model gets a new cache."""
    if not Path(directory).is_dir():
        raise FirthError(f"teacher {directory}: no such directory.")
    directory = Path(directory).resolve()
    files = sorted((str(p.relative_to(directory)), p.stat().st_size, int(p.stat().st_mtime))
                   for p in directory.rglob("*") if p.is_file())
    digest = hashlib.blake2b(json.dumps([str(directory), files]).encode(), digest_size=6).hexdigest()
    return root / "teachers" / f"{teacher_name(directory)}-{digest}.safetensors"


def teacher_vectors(teacher: Teacher, sentences: Iterable[str], cache: Path | None,
                    chunk: int = CHUNK, progress: Callable[[int], None] | None = None) -> TeacherVectors:
    """The teacher's vectors of every distinct sentence: read from `cache`, the missing ones encoded and added.

    Each chunk of missing sentences is encoded longest first (the teacher pads a batch to its longest
    text, so sorting keeps padding low) and the cache is rewritten after it.
    """
    known = TeacherVectors.load(cache) if cache is not None and cache.exists() else None
    for batch in _missing(sentences, known, chunk):
        vectors = np.asarray(teacher(batch), dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(batch):
            raise FirthError(f"the teacher gave vectors of shape {vectors.shape} for {len(batch)} sentences.")
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        keys = np.array([sentence_key(s) for s in batch], dtype=np.int64)
        known = (known or TeacherVectors.empty(vectors.shape[1])).merged(keys, vectors.astype(np.float16))
        if cache is not None:
            known.save(cache)
        if progress is not None:
            progress(len(batch))
    if known is None:
        raise FirthError("there are no training sentences for the teacher to encode.")
    return known


def _missing(sentences: Iterable[str], known: TeacherVectors | None, chunk: int) -> Iterator[list[str]]:
    """The distinct sentences `known` lacks, in chunks, each sorted longest first."""
    seen: set[int] = set()
    pending: list[str] = []
    for sentence in sentences:
        key = sentence_key(sentence)
        if key in seen:
            continue
        seen.add(key)
        if known is None or known.find(np.array([key]))[0] < 0:
            pending.append(sentence)
        if len(pending) == chunk:
            yield sorted(pending, key=len, reverse=True)
            pending = []
    if pending:
        yield sorted(pending, key=len, reverse=True)
