"""The SGNN projection: vocabulary-free, fit-free word vectors by seeded hashing.

Each word gets a D = T*d dimensional vector (Ravi & Kozareva, EMNLP 2018:
T=80 hash functions of d=14 bits, D=1120) computed from its character n-grams
alone, so any word of any language has one and nothing is fitted or stored.

The computation, precisely enough to reimplement:

1. Normalize the word: cut it to its first 100 code points (MAX_WORD_CHARS,
   which bounds the cost of any one word), apply Unicode NFKC (if `normalize`),
   then `str.lower()` (if `lowercase`), and cut the result to 100 code points
   again; wrap it in the boundary markers (`<` and `>` by default).
2. Take every character n-gram for n in `ngram_range` (n-grams of the marked
   word, counted with multiplicity).
3. Key each n-gram by 64-bit FNV-1a over its Unicode code points: h starts at
   0xcbf29ce484222325; for each code point c, h = (h XOR c) * 0x100000001b3
   mod 2^64 (each code point XORed whole, not byte by byte).
4. For hash function t = 4j + m (j = 0..ceil(T/4)-1, m = 0..3), take
   w_j = splitmix64(key XOR salt_j) with salt_j = splitmix64(seed * 2^20 + j),
   and its 16-bit field f = (w_j >> 16m) & 0xFFFF. The n-gram adds
   +1 if f & 0x8000 else -1 at position ((f & 0x7FFF) * d) >> 15 of block t.
   (splitmix64(x): z = x + 0x9E3779B97F4A7C15; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9;
   z = (z ^ z>>27) * 0x94D049BB133111EB; return z ^ z>>31, all mod 2^64.)
5. The word's sum s (each block a count sketch of width d, the whole a
   block-sparse Johnson-Lindenstrauss projection of the n-gram count vector,
   clipped to [-127, 127]) gives the output by `mode`: "binary" (the paper's
   bits: 1 where s > 0, else 0), "ternary" (sign(s) in {-1, 0, +1}, as in
   pQRNN), or "float" (s / sqrt(T), the signed quantized float of a sparse
   random projection, as in the 2018 scikit-learn reproduction).

Binary and ternary vectors are returned as int8 (exact and 4x smaller);
float vectors as float32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import chain, repeat
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from torch import nn

from firth.config import PROJECTION_CACHE, ProjectionConfig
from firth.errors import FirthError
from firth.features.hashing import (  # noqa: F401 (re-exported: the hashing steps of the specification above)
    CHUNK_BYTES,
    FNV_OFFSET,
    FNV_PRIME,
    MAX_WORD_CHARS,
    clipped_sums,
    code_points,
    ngram_buckets,
    ngram_counts,
    ngram_keys,
    normalize_word,
    normalize_words,
    seeded_salts,
    splitmix64,
    word_keys,
    word_sums,
)
from firth.features.state import FeaturizerStateMixin
from firth.io.model_dir import read_json, write_json
from firth.text.segment import words as split_words


class Projection(nn.Module):
    """Words or texts in, SGNN projections out; no trainable parameters.

    A word-level cache keeps the projections of the first `cache_size`
    distinct words seen (in Zipfian text, mostly the frequent ones); set
    `cache_size=0` to disable it. The module moves with `.to(device)`, and the
    expansion (the scatter of hashed n-grams into vectors) runs on that device.
    """

    def __init__(self, config: ProjectionConfig | None = None, cache_size: int = PROJECTION_CACHE,
                 dim: int | None = None, **kwargs):
        """Configure by `config`, or by ProjectionConfig's fields as keywords (`dim` sets T*d)."""
        super().__init__()
        if config is None:
            config = ProjectionConfig.for_dim(dim, **kwargs) if dim else ProjectionConfig(**kwargs)
        self.config = config
        self.cache_size = cache_size
        self._cache_ids: dict[str, int] = {}
        self.register_buffer("_cache", torch.zeros(0, self.config.dim, dtype=torch.int8), persistent=False)

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def device(self) -> torch.device:
        return self._cache.device

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32 if self.config.mode == "float" else torch.int8

    def normalize(self, word: str) -> str:
        """Step 1 of the specification, without the markers."""
        return normalize_word(word, self.config)

    def project_words(self, words: Sequence[str]) -> torch.Tensor:
        """Projections of `words`, shape [len(words), D] (int8, or float32 in float mode)."""
        n = len(words)
        ids = np.fromiter(map(self._cache_ids.get, words, repeat(-1, n)), dtype=np.int64, count=n)
        missing = np.flatnonzero(ids < 0)
        if len(missing) == 0:
            return self._output(self._cache.index_select(0, self._to_device(ids)))
        missed = list(words) if len(missing) == n else list(map(words.__getitem__, missing.tolist()))
        distinct = list(dict.fromkeys(missed))
        slot = {word: i for i, word in enumerate(distinct)}
        slots = self._to_device(np.fromiter(map(slot.__getitem__, missed), dtype=np.int64, count=len(missed)))
        new_rows = self._compute(distinct)
        self._remember(distinct, new_rows)
        if len(missing) == n:
            return self._output(new_rows.index_select(0, slots))
        rows = torch.empty(n, self.dim, dtype=torch.int8, device=self.device)
        hits = np.flatnonzero(ids >= 0)
        rows[self._to_device(hits)] = self._cache.index_select(0, self._to_device(ids[hits]))
        rows[self._to_device(missing)] = new_rows.index_select(0, slots)
        return self._output(rows)

    def _to_device(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array).to(self.device)

    def _compute(self, words: list[str]) -> torch.Tensor:
        """Cacheable int8 rows of distinct words: bits, signs, or clipped sums (float mode)."""
        sums = word_sums(normalize_words(words, self.config), self.config)
        if self.config.mode == "binary":
            sums = (sums > 0).astype(np.int8)
        elif self.config.mode == "ternary":
            sums = np.sign(sums)
        return torch.from_numpy(sums).to(self.device)

    def _output(self, rows: torch.Tensor) -> torch.Tensor:
        if self.config.mode == "float":
            return rows.to(torch.float32).mul_(1.0 / math.sqrt(self.config.n_hashes))  # .to made a copy
        return rows

    def _remember(self, words: list[str], rows: torch.Tensor) -> None:
        room = self.cache_size - len(self._cache_ids)
        if room <= 0:
            return
        words, rows = words[:room], rows[:room]
        start = len(self._cache_ids)
        end = start + len(words)
        if end > len(self._cache):  # grow geometrically: appends stay linear overall
            grown = self._cache.new_zeros(min(self.cache_size, max(2 * len(self._cache), end, 1024)), self.dim)
            grown[:start] = self._cache[:start]
            self._cache = grown
        self._cache[start:end] = rows
        self._cache_ids.update(zip(words, range(start, end)))

    def clear_cache(self) -> None:
        """Forget every cached word."""
        self._cache_ids = {}
        self._cache = self._cache[:0]

    def forward(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts to word projections [batch, max_words, D] and a padding mask [batch, max_words].

        The mask is True at real words; an empty text gives an all-False row.
        """
        tokenized = [split_words(t, lowercase=False) for t in texts]
        lengths = [len(t) for t in tokenized]
        width = max(lengths, default=0)
        flat = self.project_words([w for t in tokenized for w in t])
        out = torch.zeros(len(texts), width, self.dim, dtype=flat.dtype, device=self.device)
        mask = torch.arange(width, device=self.device)[None, :] < torch.tensor(lengths, device=self.device)[:, None]
        out[mask] = flat
        return out, mask

    def pool(self, texts: Sequence[str], how: str = "mean") -> torch.Tensor:
        """Document vectors [batch, D] (float32): mean or max of the word projections (zeros if no words)."""
        if how not in ("mean", "max"):
            raise FirthError(f"unknown pooling {how!r}; use mean or max.")
        words, mask = self(texts)
        words = words.to(torch.float32)
        if how == "mean":
            return words.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        pooled = words.masked_fill(~mask[:, :, None], -torch.inf).amax(1) if words.shape[1] else words.sum(1)
        return pooled.nan_to_num(neginf=0.0)

    def save(self, directory: str | Path) -> None:
        """Write `projection.json`: every parameter that changes the output."""
        write_json(Path(directory) / "projection.json", asdict(self.config))

    @classmethod
    def load(cls, directory: str | Path, cache_size: int = PROJECTION_CACHE) -> "Projection":
        return cls(ProjectionConfig(**read_json(Path(directory) / "projection.json")), cache_size=cache_size)


@dataclass
class ProjectedTexts:
    """Tokenized texts as the projections of their distinct words: what projection-based models read.

    Each distinct word is projected once; `ids` lists, text after text, the
    row of `vectors` of every word, and `lengths` how many words each text has.
    `keys` holds each distinct word's `word_keys` (normalized as the projection
    normalizes, bit-cast to int64), for statistics kept by hash; None when the
    caller did not ask for them.
    """

    vectors: torch.Tensor  # [distinct words, D]
    ids: torch.Tensor  # [words of all texts], long
    lengths: torch.Tensor  # [texts], long
    keys: torch.Tensor | None  # [distinct words], long

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def tokens(self) -> int:
        return len(self.ids)

    def to(self, device: torch.device | str) -> "ProjectedTexts":
        return ProjectedTexts(self.vectors.to(device), self.ids.to(device), self.lengths.to(device),
                              None if self.keys is None else self.keys.to(device))


def project_texts(projection: Projection, docs: Sequence[Sequence[str]], keys: bool = True) -> ProjectedTexts:
    """Project the distinct words of tokenized texts, once each (and hash their keys, unless `keys` is False:
    only models that keep statistics by word need them, and they cost a normalization a word)."""
    flat = list(chain.from_iterable(docs))
    distinct = list(dict.fromkeys(flat))
    slot = dict(zip(distinct, range(len(distinct))))
    ids = np.fromiter(map(slot.__getitem__, flat), dtype=np.int64, count=len(flat))
    device = projection.device
    hashed = None
    if keys:
        hashed = torch.from_numpy(word_keys([projection.normalize(word) for word in distinct]).view(np.int64)).to(device)
    return ProjectedTexts(projection.project_words(distinct), torch.from_numpy(ids).to(device),
                          torch.tensor([len(doc) for doc in docs], dtype=torch.long, device=device), hashed)


class ProjectionFeatures(FeaturizerStateMixin, TransformerMixin, BaseEstimator):
    """scikit-learn transformer: texts to pooled SGNN projections (fit learns nothing)."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 3), markers: tuple[str, str] = ("<", ">"),
                 lowercase: bool = True, normalize: bool = True, n_hashes: int = 80, bits: int = 14,
                 mode: str = "binary", seed: int = 0, pooling: str = "mean", batch_size: int = 256):
        self.ngram_range = ngram_range
        self.markers = markers
        self.lowercase = lowercase
        self.normalize = normalize
        self.n_hashes = n_hashes
        self.bits = bits
        self.mode = mode
        self.seed = seed
        self.pooling = pooling
        self.batch_size = batch_size

    def fit(self, texts=None, y=None) -> "ProjectionFeatures":
        """Nothing to learn: checks the parameters and returns self."""
        self._projection()
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True  # stateless, like HashingVectorizer

    def _projection(self) -> Projection:
        params = self.get_params()
        config = ProjectionConfig(**{k: params[k] for k in ProjectionConfig.__dataclass_fields__})
        if getattr(self, "_cached", (None,))[0] != config:
            self._cached = (config, Projection(config))
        return self._cached[1]

    @property
    def n_features_out_(self) -> int:
        return self.n_hashes * self.bits

    def transform(self, texts) -> np.ndarray:
        """Pooled projections [n_texts, D] as float32."""
        projection, texts = self._projection(), list(texts)
        chunks = [projection.pool(texts[i:i + self.batch_size], self.pooling).cpu().numpy()
                  for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, projection.dim), np.float32)

