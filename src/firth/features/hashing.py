"""The SGNN projection's hashing with numpy alone: steps 1-5 of the specification in firth.features.projection.

`Projection` (torch) calls these for the n-gram keys and buckets; an exported
model's runtime calls `project_words` for the whole projection, without torch.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import numpy as np

from firth.config import ProjectionConfig

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
CHUNK_BYTES = 256 * 2**20  # the most a chunk's per-n-gram vectors may take; hostile input gets smaller chunks
MAX_WORD_CHARS = 100  # code points of a word that count (step 1)
# The most output cells one chunk of words sums into: 512 KB of float64, about a core's L2 cache. Summing
# 64 words of 1,120 dimensions at a time hashes about three times faster than 4,096 (the sums stay in cache).
CHUNK_CELLS = 2**16


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def seeded_salts(seed: int, n: int) -> np.ndarray:
    """The salts of step 4: splitmix64(seed * 2^20 + j) for j = 0..n-1."""
    return splitmix64(np.uint64(seed) * np.uint64(1 << 20) + np.arange(n, dtype=np.uint64))


def code_points(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each word's Unicode code points, [len(words), longest] zero-padded uint32, and the words' lengths."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    width = int(lengths.max(initial=0))
    padded = "".join(w.ljust(width, "\0") for w in words)
    return np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).reshape(len(words), width), lengths


def ngram_keys(words: Sequence[str], config: ProjectionConfig) -> tuple[np.ndarray, np.ndarray]:
    """FNV-1a keys of every character n-gram of each (normalized) word, and which are real.

    Returns `keys` and `valid`, both [len(words), P]: row i holds word i's
    n-grams (markers included) for n = low..high, padded to the longest word.
    Pass words of similar length together to keep the padding small.
    """
    begin, end = config.markers
    codes, lengths = code_points([begin + w + end for w in words])
    width = codes.shape[1]
    h = np.full(codes.shape, FNV_OFFSET, dtype=np.uint64)
    keys, valid = [], []
    with np.errstate(over="ignore"):
        for n in range(1, config.ngram_range[1] + 1):
            # h[:, i] now covers code points i .. i+n-1
            h = (h[:, : width - n + 1] ^ codes[:, n - 1:]) * FNV_PRIME
            if n >= config.ngram_range[0]:
                keys.append(h)
                valid.append(np.arange(width - n + 1)[None, :] + n <= lengths[:, None])
    if not keys:
        return np.zeros((len(words), 0), np.uint64), np.zeros((len(words), 0), bool)
    return np.concatenate(keys, axis=1), np.concatenate(valid, axis=1)


def ngram_buckets(keys: np.ndarray, config: ProjectionConfig) -> tuple[np.ndarray, np.ndarray]:
    """For each key and hash function t: (output index t*d + position, sign +-1); [K, T] int32, int8."""
    n_words64 = math.ceil(config.n_hashes / 4)
    salts = seeded_salts(config.seed, n_words64)
    mixed = splitmix64(keys[:, None] ^ salts[None, :]).astype("<u8")  # [K, ceil(T/4)], little-endian
    # the four 16-bit fields of w_j, lowest first, are hash functions t = 4j .. 4j+3
    fields = mixed.view("<u2").reshape(len(keys), 4 * n_words64)[:, : config.n_hashes].astype(np.int32)
    offsets = np.arange(config.n_hashes, dtype=np.int32) * config.bits
    index = (((fields & 0x7FFF) * config.bits) >> 15) + offsets  # int32: bits <= 32768
    signs = ((fields >> 15) * 2 - 1).astype(np.int8)
    return index, signs


def word_keys(words: Sequence[str]) -> np.ndarray:
    """The 64-bit FNV-1a key of each whole word, as step 3 keys an n-gram: a word's identity without a vocabulary."""
    codes, lengths = code_points(words)
    h = np.full(len(words), FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(codes.shape[1]):
            h = np.where(lengths > i, (h ^ codes[:, i]) * FNV_PRIME, h)
    return h


def chunks(order: np.ndarray, sizes: np.ndarray, budget: int, most: int) -> list[np.ndarray]:
    """`order` cut into runs of at most `most` items whose `sizes` sum to at most `budget` (a lone item may exceed it)."""
    runs, start, total = [], 0, 0
    for i, size in enumerate(sizes.tolist()):
        if i > start and (i - start == most or total + size > budget):
            runs.append(order[start:i])
            start, total = i, 0
        total += size
    runs.append(order[start:])
    return runs


def normalize_word(word: str, config: ProjectionConfig) -> str:
    """Step 1 of the specification, without the markers: cut, NFKC, lowercase, cut."""
    return _normalize_text(word[:MAX_WORD_CHARS], config)[:MAX_WORD_CHARS]


def normalize_words(words: Sequence[str], config: ProjectionConfig) -> list[str]:
    """`normalize_word` of every word, done on the joined text when that keeps the words apart."""
    split = _normalize_text("\0".join(w[:MAX_WORD_CHARS] for w in words), config).split("\0")
    if len(split) != len(words):
        return [normalize_word(w, config) for w in words]
    return [w[:MAX_WORD_CHARS] for w in split]


def _normalize_text(text: str, config: ProjectionConfig) -> str:
    if config.normalize:
        text = unicodedata.normalize("NFKC", text)
    return text.lower() if config.lowercase else text


def ngram_counts(normalized: Sequence[str], config: ProjectionConfig) -> np.ndarray:
    """How many n-grams each normalized word has, markers included."""
    low, high = config.ngram_range
    marked = np.fromiter(map(len, normalized), dtype=np.int64, count=len(normalized)) + sum(map(len, config.markers))
    return sum(np.maximum(marked - n + 1, 0) for n in range(low, high + 1))


def project_words(words: Sequence[str], config: ProjectionConfig) -> np.ndarray:
    """The projections of `words` with numpy alone, [len(words), D]: int8 (binary, ternary) or float32 (float).

    The same numbers as firth.features.projection.Projection, without torch: the
    runtime of exported models computes them so.
    """
    return finish(word_sums(normalize_words(words, config), config), config)


def word_sums(normalized: Sequence[str], config: ProjectionConfig) -> np.ndarray:
    """`clipped_sums` of any number of normalized words, [len, D] int8, taken in chunks of words of similar
    length (little padding) whose n-grams' buckets fit CHUNK_BYTES and whose sums fit CHUNK_CELLS."""
    ngrams = ngram_counts(normalized, config)
    sums = np.empty((len(normalized), config.dim), dtype=np.int8)
    order = np.argsort(ngrams, kind="stable")
    for run in chunks(order, ngrams[order], pair_budget(config), max(1, CHUNK_CELLS // config.dim)):
        sums[run] = clipped_sums([normalized[i] for i in run.tolist()], config)
    return sums


def pair_budget(config: ProjectionConfig) -> int:
    """How many n-grams one call of clipped_sums may take: CHUNK_BYTES of (cell, sign) pairs."""
    return max(1, CHUNK_BYTES // (16 * config.n_hashes))


def clipped_sums(normalized: Sequence[str], config: ProjectionConfig) -> np.ndarray:
    """Steps 3-4 for normalized words: each word's n-grams' signed buckets summed, clipped to int8, [len, D]."""
    keys, valid = ngram_keys(normalized, config)
    index, signs = ngram_buckets(keys[valid], config)  # [n-grams of the words, T]
    owner = np.repeat(np.arange(len(normalized)), valid.sum(1))  # the word of each n-gram
    cells = (owner[:, None] * config.dim + index).ravel()
    sums = np.bincount(cells, signs.ravel(), len(normalized) * config.dim).reshape(len(normalized), -1)
    return np.clip(sums, -127, 127, out=sums).astype(np.int8)


def finish(sums: np.ndarray, config: ProjectionConfig) -> np.ndarray:
    """Step 5: the clipped int8 sums as the mode's output."""
    if config.mode == "binary":
        return (sums > 0).astype(np.int8)
    if config.mode == "ternary":
        return np.sign(sums).astype(np.int8)
    return sums.astype(np.float32) * np.float32(1.0 / math.sqrt(config.n_hashes))


