"""The sentence encoder: SGNN projection → Linear → Transformer encoder → pooling.

There is no embedding table: each word's hashed character n-gram projection
(firth.features.projection) goes through a trainable Linear to d_model, gets
a sinusoidal position ("Attention Is All You Need"), and a stack of
Transformer encoder layers (pre-LN by default) reads the sentence. The word
vectors are pooled over the real words only (max, mean, or both), padding
never counts; with `concat_layers` the input layer and every layer's output
are pooled and concatenated, for a sentence vector wider than the word
vectors. With `lexical` a bag of the words' own projections joins them: the
sum of each word's unit projection times the word's IDF (a hashed count of
the training paragraphs, firth.features.idf). It keeps the exact lexical
overlap that paragraph retrieval rewards: 3-5-gram float projections
weighted by IDF match TF-IDF's retrieval once they are 5,120 wide, and
learned weights did worse (read from the projection: R@1 0.19-0.21; read
from the word's context: the Transformer turned into a term weigher and its
own channel collapsed). So the bag has no parameters, and the Transformer is
trained on the mixed vector and on its own (firth.train.encoder). The two
channels are unit vectors weighted so that the cosine of two sentence
vectors is (1 - lexical_share) times the Transformer channel's cosine plus
lexical_share times the bag's: neither drowns the other, whatever their
norms. The bag needs a wide projection to keep words apart, the Transformer
does not: with `fold` it reads the same projection narrowed `fold` times,
each hash block's neighbouring positions summed (exactly the projection
with `bits / fold`), which keeps its input Linear small. An optional Linear
head maps the vector to `head_dim`.

    encoder = SentenceEncoder(EncoderConfig(d_model=256, n_layers=2))
    vectors = encoder.encode(["A sentence.", "Another one."])   # [2, dim] numpy

Training lives in firth.train.encoder; it fits `SentenceEncoder.net`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import firth
from firth.errors import FirthError
from firth.features.idf import HashedIDF
from firth.features.projection import Projection, ProjectionConfig, ProjectedTexts, project_texts
from firth.io.atomic import atomic_dir
from firth.io.model_dir import load_weights, read_json, save_tensors, write_json
from firth.text.segment import words

POOLINGS = ("max", "mean", "meanmax")
CONFIG, WEIGHTS = "config.json", "model.safetensors"


@dataclass
class EncoderConfig:
    projection: dict = field(default_factory=lambda: {"mode": "float", "ngram_range": [3, 5], "bits": 64})
    fold: int = 4  # the Transformer reads the projection at bits / fold (the lexical bag at full width)
    d_model: int = 256
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 512
    dropout: float = 0.0  # the 2018 model removed dropout to train faster
    pre_ln: bool = True  # LayerNorm before attention and feed-forward (trains without warm-up tricks)
    pooling: str = "mean"  # max | mean | meanmax
    concat_layers: bool = True  # pool the input and every layer, concatenated
    lexical: bool = True  # add the weighted bag of word projections to the sentence vector
    lexical_share: float = 0.7  # the bag's share of the cosine of two sentence vectors
    head_dim: int | None = None  # a Linear head on the pooled vector
    max_words: int = 64  # words of a training sentence kept (encode() takes its own limit)

    def __post_init__(self):
        if self.pooling not in POOLINGS:
            raise FirthError(f"unknown pooling {self.pooling!r}; choose one of {', '.join(POOLINGS)}.")
        if self.d_model % self.n_heads:
            raise FirthError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}.")
        for name in ("d_model", "n_layers", "n_heads", "d_ff", "max_words", "fold"):
            if getattr(self, name) < 1:
                raise FirthError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if not 0 <= self.lexical_share <= 1:
            raise FirthError(f"lexical_share must be between 0 and 1, got {self.lexical_share}.")
        bits = ProjectionConfig(**self.projection).bits
        if bits % self.fold:
            raise FirthError(f"fold {self.fold} does not divide the projection's bits {bits}.")

    @property
    def pooled_width(self) -> int:
        """The size of the pooled vector, before the head."""
        per_layer = self.d_model * (2 if self.pooling == "meanmax" else 1)
        lexical = ProjectionConfig(**self.projection).dim if self.lexical else 0
        return per_layer * (self.n_layers + 1 if self.concat_layers else 1) + lexical

    @property
    def width(self) -> int:
        """The size of a sentence vector."""
        return self.head_dim or self.pooled_width


class EncoderOutput(NamedTuple):
    sentences: torch.Tensor  # [batch, width]
    transformer: torch.Tensor | None  # [batch, pooled width]: the Transformer channel alone, beside a lexical one
    words: torch.Tensor  # [batch, length, d_model], the last layer's word vectors
    mask: torch.Tensor  # [batch, length], True at real words


def sinusoids(length: int, dim: int, device: torch.device) -> torch.Tensor:
    """The fixed sinusoidal position table of "Attention Is All You Need", [length, dim]."""
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: dim // 2])
    return table


def pad(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Packed [tokens, d] → padded [batch, length, d], zeros at padding."""
    padded = tokens.new_zeros(*mask.shape, tokens.shape[-1])
    padded[mask] = tokens
    return padded


def fold(vectors: torch.Tensor, n_hashes: int, by: int) -> torch.Tensor:
    """[n, T*d] projections → [n, T*d/by]: each hash block's `by` neighbouring positions summed.

    Position p of a d-wide block is (f*d) >> 15 for the n-gram's 15-bit field f,
    and ((f*d) >> 15) // by == (f*(d/by)) >> 15, so this is the projection with
    d / by bits (up to the clipping of large sums).
    """
    if by == 1:
        return vectors
    return vectors.view(len(vectors), n_hashes, vectors.shape[1] // (n_hashes * by), by).sum(-1).flatten(1)


def pool(vectors: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """Max and/or mean over the real words of each sentence; padding never counts, an empty text pools to 0."""
    real = mask[:, :, None]
    pooled = []
    if how in ("max", "meanmax"):
        peak = vectors.masked_fill(~real, -torch.inf).amax(1)
        pooled.append(peak.masked_fill(~mask.any(1, keepdim=True), 0.0))
    if how in ("mean", "meanmax"):
        pooled.append((vectors * real).sum(1) / real.sum(1).clamp(min=1))
    return torch.cat(pooled, dim=1)


class Block(nn.Module):
    """One Transformer encoder layer on packed tokens: only attention sees the padded layout.

    Sentences in a batch differ in length (about half of a padded batch is
    padding), so the per-token work (projections, feed-forward, LayerNorm)
    runs on the real tokens alone, [tokens, d_model]; attention pads them to
    [batch, heads, length, head_dim] with the padding masked out.
    """

    def __init__(self, config: EncoderConfig):
        super().__init__()
        d = config.d_model
        self.n_heads, self.pre_ln = config.n_heads, config.pre_ln
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ff = nn.Sequential(nn.Linear(d, config.d_ff), nn.GELU(), nn.Dropout(config.dropout),
                                nn.Linear(config.d_ff, d))
        self.dropout = nn.Dropout(config.dropout)

    def attend(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length = mask.shape
        q, k, v = pad(self.qkv(x), mask).view(batch, length, 3, self.n_heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        return self.out(attended.transpose(1, 2).reshape(batch, length, -1)[mask])

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.pre_ln:
            x = x + self.dropout(self.attend(self.norm1(x), mask))
            return x + self.dropout(self.ff(self.norm2(x)))
        x = self.norm1(x + self.dropout(self.attend(x, mask)))
        return self.norm2(x + self.dropout(self.ff(x)))


class SentenceEncoderNet(nn.Module):
    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        self.projection = Projection(ProjectionConfig(**config.projection))
        self.embed = nn.Linear(self.projection.dim // config.fold, config.d_model)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(config.d_model) if config.pre_ln else nn.Identity()
        self.idf = HashedIDF() if config.lexical else None
        self.head = nn.Linear(config.pooled_width, config.head_dim) if config.head_dim else nn.Identity()

    def forward(self, batch: ProjectedTexts) -> EncoderOutput:
        lengths = batch.lengths.clamp(min=1)  # an empty text reads as one padding word
        length = int(lengths.max()) if len(lengths) else 0
        mask = torch.arange(length, device=lengths.device)[None, :] < batch.lengths[:, None]
        # Each token's projection is gathered before the Linear, so the backward pass never
        # sums gradients into shared rows (an index-accumulate that is not deterministic on CPU).
        narrow = fold(batch.vectors.to(self.embed.weight.dtype), self.projection.config.n_hashes, self.config.fold)
        words = self.embed(narrow[batch.ids])
        positions = sinusoids(length, self.config.d_model, words.device)
        x = words + positions.expand(len(mask), -1, -1)[mask]
        layers = [words]  # the input layer is pooled without positions: a bag of refined words
        for layer in self.layers:
            x = layer(x, mask)
            layers.append(x)
        layers[-1] = self.norm(x)
        padded = [pad(h, mask) for h in (layers if self.config.concat_layers else layers[-1:])]
        transformer = torch.cat([pool(h, mask, self.config.pooling) for h in padded], dim=1)
        if self.idf is None:
            return EncoderOutput(self.head(transformer), None, padded[-1], mask)
        share = self.config.lexical_share
        mixed = torch.cat([math.sqrt(1 - share) * F.normalize(transformer, dim=1),
                           math.sqrt(share) * F.normalize(self.lexical_bag(batch), dim=1)], dim=1)
        return EncoderOutput(self.head(mixed), transformer, padded[-1], mask)

    def lexical_bag(self, batch: ProjectedTexts) -> torch.Tensor:
        """Per text: the sum of its words' unit projections, each times the word's IDF."""
        unit = F.normalize(batch.vectors.to(self.idf.table.dtype), dim=1)
        starts = torch.cumsum(batch.lengths, 0) - batch.lengths
        return F.embedding_bag(batch.ids, unit, starts, mode="sum", per_sample_weights=self.idf(batch.keys)[batch.ids])

    def fit_idf(self, paragraphs: Sequence[Sequence[str]]) -> None:
        """Count the words of the training paragraphs (each paragraph one document) for the bag's IDF."""
        if self.idf is not None:
            normalize = self.projection.normalize
            self.idf.fit([normalize(w) for sentence in p for w in words(sentence, lowercase=False)]
                         for p in paragraphs)


class SentenceEncoder:
    """Sentence vectors from text: `SentenceEncoder.load(dir).encode(texts)`, as sentence-transformers does."""

    def __init__(self, config: EncoderConfig | None = None, net: SentenceEncoderNet | None = None, **kwargs):
        """A new encoder from `config` (or its fields as keywords), or a view of an existing `net`."""
        self.config = net.config if net is not None else config or EncoderConfig(**kwargs)
        self.net = net if net is not None else SentenceEncoderNet(self.config)

    @property
    def dim(self) -> int:
        return self.config.width

    def tokenize(self, texts: Sequence[str], max_words: int) -> list[list[str]]:
        return [words(text, lowercase=False)[:max_words] for text in texts]

    @torch.no_grad()
    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize_embeddings: bool = False,
               max_words: int = 256, device: str | torch.device | None = None) -> np.ndarray:
        """One vector per text, [len(texts), dim]; texts are batched by length, results in input order.

        Texts longer than `max_words` words are cut (as sentence-transformers cuts at its
        max_seq_length). The model runs where it is unless `device` is given.
        """
        if isinstance(texts, str):
            raise FirthError("encode takes a list of texts, not one string.")
        docs = self.tokenize(list(texts), max_words)
        if device is not None:
            self.net.to(device)
        self.net.eval()
        order = sorted(range(len(docs)), key=lambda i: len(docs[i]))
        out = np.zeros((len(docs), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            vectors = self.net(project_texts(self.net.projection, [docs[i] for i in rows])).sentences
            if normalize_embeddings:
                vectors = nn.functional.normalize(vectors, dim=1)
            out[rows] = vectors.float().cpu().numpy()
        return out

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def save(self, directory: str | os.PathLike) -> None:
        """Write the model directory atomically (config.json + model.safetensors, no pickle)."""
        with atomic_dir(directory) as tmp:
            write_json(tmp / CONFIG, {"firth_version": firth.__version__, "type": "SentenceEncoder",
                                      "config": asdict(self.config)})
            save_tensors(tmp / WEIGHTS, {k: v.cpu() for k, v in self.net.state_dict().items()})

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "SentenceEncoder":
        """Read a directory written by `save`; nothing is unpickled."""
        directory = Path(directory)
        if not directory.is_dir():
            raise FirthError(f"{directory}: no such model directory.")
        saved = read_json(directory / CONFIG)
        if saved.get("type") != "SentenceEncoder":
            raise FirthError(f"{directory}: is not a firth sentence encoder (type {saved.get('type')!r}).")
        config = {"fold": 1, **saved["config"]}  # models written before `fold` existed read the projection whole
        encoder = cls(EncoderConfig(**config))
        load_weights(encoder.net, directory / WEIGHTS)
        encoder.net.eval()
        return encoder
