"""The sentence encoder: SGNN projection → Linear → Transformer encoder → pooling.

There is no embedding table: each word's hashed character n-gram projection
(firth.features.projection) goes through a trainable Linear to d_model, gets
a sinusoidal position ("Attention Is All You Need"), and a stack of
Transformer encoder layers (pre-LN by default) reads the sentence. The word
vectors are pooled over the real words only (max, mean, or both), padding
never counts; with `concat_layers` the input layer and every layer's output
are pooled and concatenated, for a sentence vector wider than the word
vectors.

With `lexical` a bag of the words' own projections joins them: the sum of
each word's unit projection times the word's IDF (a hashed count of the
training paragraphs, firth.features.idf). It keeps the exact lexical overlap
that paragraph retrieval rewards, which a small Transformer trained for
minutes does not learn; the bag has no parameters (learned term weights did
worse, see benchmarks/RESULTS.md), and the Transformer is trained on the mixed
vector and on its own (firth.losses.objective). The two channels are unit
vectors weighted so that the cosine of two sentence vectors is
(1 - lexical_share) times the Transformer channel's cosine plus
lexical_share times the bag's: neither drowns the other, whatever their
norms. The bag needs a wide projection to keep words apart, the Transformer
does not: with `fold` it reads the same projection narrowed `fold` times,
each hash block's neighbouring positions summed (exactly the projection with
`bits / fold`), which keeps its input Linear small. An optional Linear head
maps the vector to `head_dim`.

With `n_layers=0` there is no Transformer: the static tier, each word's
projection through the Linear, pooled; a word's vector depends on the word
alone, so encode() keeps it (WordVectors) and a repeated word costs a lookup.
`teacher` (fit) distils a sentence-transformers model into the encoder
beside its contrastive loss (firth.losses.distill, firth.train.teacher).

    encoder = SentenceEncoder(d_model=256, n_layers=2).fit(read_paragraph_sentences(["wiki-sample"]))
    vectors = encoder.encode(["A sentence.", "Another one."])   # [2, dim] numpy
    encoder.save("model/"); firth.load("model/")

`fit` holds `val_paragraphs` paragraphs out for validation by retrieval (one
sentence the query, another the target, among all the held-out targets)
and trains with the chosen loss on batches of whole paragraphs prepared in
DataLoader workers; the Trainer brings the schedule (Noam by default),
checkpoints and resume, early stopping on validation MRR, tokens/second and
the share of time spent waiting for data.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from firth.config import EncoderConfig, config_from_saved, configured
from firth.errors import FirthError
from firth.evaluate.retrieval import RetrievalEvaluator
from firth.features.idf import HashedIDF
from firth.io.card import new_card, read_card
from firth.features.projection import Projection, ProjectedTexts, project_texts
from firth.io.model_dir import (CONFIG, WEIGHTS, load_module, model_writer, read_model_config, save_tensors,
                                write_run_config)
from firth.losses import make_loss
from firth.io.pretrained import model_path
from firth.losses.distill import Distillation
from firth.losses.objective import EncoderObjective
from firth.models.word_cache import WordVectors
from firth.text.segment import words
from firth.registry import check_choice
from firth.runtime.quantize import PRECISIONS, quantize_embeddings
from firth.train import distributed
from firth.train.paragraphs import ParagraphBatches, ParagraphSources, ParagraphStream, check_enough_paragraphs
from firth.train.teacher import TeacherVectors, cache_path, lazy_teacher, teacher_name, teacher_vectors
from firth.train.trainer import Trainer
from firth.data.registry import cache_lock, firth_home

__all__ = ["EncoderConfig", "EncoderOutput", "SentenceEncoder", "SentenceEncoderNet"]


class EncoderOutput(NamedTuple):
    sentences: torch.Tensor  # [batch, width]
    transformer: torch.Tensor | None  # [batch, pooled width]: the Transformer channel alone, beside a lexical one
    words: torch.Tensor  # [batch, length, d_model], the input layer's word vectors (the word-level head's)
    mask: torch.Tensor  # [batch, length], True at real words
    logit: tuple[torch.Tensor, torch.Tensor] | None = None  # the learned (log scale, bias) of bxent, if any


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


def fold(vectors: torch.Tensor, by: int) -> torch.Tensor:
    """[n, T*d] projections → [n, T*d/by]: each hash block's `by` neighbouring positions summed.

    Position p of a d-wide block is (f*d) >> 15 for the n-gram's 15-bit field f,
    and ((f*d) >> 15) // by == (f*(d/by)) >> 15, so this is the projection with
    d / by bits (up to the clipping of large sums).
    """
    if by == 1:
        return vectors
    # a block's positions p*by .. p*by+by-1 are every by-th column from p*by: by strided slices summed
    # (the same as .view(n, -1, by).sum(-1), which reduces over a short inner axis several times slower)
    folded = vectors[:, 0::by]
    for offset in range(1, by):
        folded = folded + vectors[:, offset::by]
    return folded


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
    """The encoder network: projected words in, an EncoderOutput (sentence vectors and more) out."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        self.projection = Projection(config.projection_config)
        self.embed = nn.Linear(self.projection.dim // config.fold, config.d_model)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(config.d_model) if config.pre_ln else nn.Identity()
        self.idf = HashedIDF() if config.lexical else None
        self.head = nn.Linear(config.pooled_width, config.head_dim) if config.head_dim else nn.Identity()
        # the static tier's word vectors depend on the word alone: encode() keeps them (not with a lexical bag,
        # whose per-word rows are as wide as the projection)
        self.word_cache = WordVectors() if config.n_layers == 0 and not config.lexical else None
        if config.learn_scale:  # SigLIP's start: scale 10, bias -10 (few of a batch's pairs are positive)
            self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))
            self.logit_bias = nn.Parameter(torch.tensor(-10.0))

    def forward(self, batch: ProjectedTexts) -> EncoderOutput:
        lengths = batch.lengths.clamp(min=1)  # an empty text reads as one padding word
        length = int(lengths.max()) if len(lengths) else 0
        mask = torch.arange(length, device=lengths.device)[None, :] < batch.lengths[:, None]
        narrow = fold(batch.vectors.to(self.embed.weight.dtype), self.config.fold)
        # In training each token's projection is gathered before the Linear, so the backward pass never sums
        # gradients into shared rows (an index-accumulate that is not deterministic on CPU); without gradients
        # the Linear runs once per distinct word.
        words = self.embed(narrow[batch.ids]) if torch.is_grad_enabled() else self.embed(narrow)[batch.ids]
        layers = [words]  # the input layer is pooled without positions: a bag of refined words
        if len(self.layers):  # none: the static tier
            scale = math.sqrt(self.config.d_model) if self.config.scale_embeddings else 1.0
            x = scale * words + sinusoids(length, self.config.d_model, words.device).expand(len(mask), -1, -1)[mask]
            for layer in self.layers:
                x = layer(x, mask)
                layers.append(x)
            layers[-1] = self.norm(x)
        padded = [pad(h, mask) for h in (layers if self.config.concat_layers else layers[-1:])]
        transformer = torch.cat([pool(h, mask, self.config.pooling) for h in padded], dim=1)
        logit = (self.logit_scale, self.logit_bias) if self.config.learn_scale else None
        if self.idf is None:
            return EncoderOutput(self.head(transformer), None, pad(words, mask), mask, logit)
        share = self.config.lexical_share
        mixed = torch.cat([math.sqrt(1 - share) * F.normalize(transformer, dim=1),
                           math.sqrt(share) * F.normalize(self.lexical_bag(batch), dim=1)], dim=1)
        return EncoderOutput(self.head(mixed), transformer, pad(words, mask), mask, logit)

    def static_sentences(self, docs: Sequence[Sequence[str]]) -> torch.Tensor:
        """What forward gives a static tier with no lexical channel, from its cached word vectors."""
        table, ids = self.word_cache.lookup(self.projection, self.embed, docs,
                                            lambda vectors: fold(vectors, self.config.fold))
        starts = torch.tensor([0] + [len(doc) for doc in docs[:-1]], device=ids.device).cumsum(0)
        modes = {"max": ["max"], "mean": ["mean"], "meanmax": ["max", "mean"]}[self.config.pooling]  # as pool()
        return self.head(torch.cat([F.embedding_bag(ids, table, starts, mode=mode) for mode in modes], dim=1))

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

    @torch.no_grad()
    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize_embeddings: bool = False,
               max_words: int = 256) -> np.ndarray:
        """One vector per text, [len(texts), width]; texts are batched by length, results in input order.

        Texts longer than `max_words` words are cut (as sentence-transformers cuts at its max_seq_length).
        """
        docs = [words(text, lowercase=False)[:max_words] for text in texts]
        self.eval()
        order = sorted(range(len(docs)), key=lambda i: len(docs[i]))
        out = np.zeros((len(docs), self.config.width), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            batch = [docs[i] for i in rows]
            vectors = self.static_sentences(batch) if self.word_cache is not None else \
                self(project_texts(self.projection, batch)).sentences
            if normalize_embeddings:
                vectors = F.normalize(vectors, dim=1)
            out[rows] = vectors.float().cpu().numpy()
        return out


@configured(EncoderConfig)
class SentenceEncoder:
    """Sentence vectors from text: `SentenceEncoder().fit(paragraphs).encode(texts)`, as sentence-transformers does.

    Its keywords are the fields of `firth.config.EncoderConfig`, where every
    default lives. `net` is the network: trained by `fit`, read by `load`,
    and before either freshly initialized.
    """

    @property
    def net(self) -> SentenceEncoderNet:
        if getattr(self, "net_", None) is None:
            self.net_ = SentenceEncoderNet(self.config)
        return self.net_

    @property
    def dim(self) -> int:
        return self.net.config.width

    def fit(self, paragraphs: Sequence[Sequence[str]] | ParagraphSources, out_dir: str | Path | None = None,
            resume: bool = False) -> "SentenceEncoder":
        """Train on paragraphs, each a list of its sentences: a list held in memory
        (firth.train.paragraphs.read_paragraph_sentences), or ParagraphSources, streamed
        (the corpus is read at each epoch and never held: memory stays flat as it grows).

        With `out_dir` the run writes its configuration, metrics, learning
        curve and checkpoints there; `resume` continues from that checkpoint.
        """
        self.config_ = config = self.config
        gather = distributed.gather if config.gather_negatives and distributed.world_size() > 1 else None
        vectors = self._teacher_vectors(paragraphs)
        objective = EncoderObjective(make_loss(config.loss, **config.loss_options), config.word_weight, gather=gather,
                                     ranks=distributed.world_size(), distillation=Distillation(config.distill),
                                     distill_weight=config.distill_weight, word_fade=config.word_fade)
        if isinstance(paragraphs, ParagraphSources):
            data = ParagraphStream(paragraphs, config.projection_config, config.batch_size, config.max_per_paragraph,
                                   config.max_words, hold_out=config.val_paragraphs, seed=config.seed,
                                   teacher=vectors)
            held, training = data.held_out, (p for _, p in data.training())
            readers = distributed.world_size() * max(config.num_workers, 1)  # each reads its own paragraphs
            if data.paragraphs < readers:
                raise FirthError(f"{readers} readers ({distributed.world_size()} processes x {max(config.num_workers, 1)} "
                                 f"DataLoader workers) cannot share {data.paragraphs} training paragraphs; use fewer.")
        else:
            held, training = self._split(paragraphs)
            data = ParagraphBatches(training, config.projection_config, config.batch_size, config.max_per_paragraph,
                                    config.max_words, teacher=vectors)
        torch.manual_seed(config.seed)
        self.net_ = SentenceEncoderNet(config)
        self.net_.fit_idf(training)
        if out_dir and distributed.is_main():
            write_run_config(out_dir, config)
        trainer = Trainer(self.net_, config, out_dir=out_dir, loss_fn=objective, classifier=False)
        self.history_ = trainer.fit(data, RetrievalEvaluator(held) if held else None, resume=resume)
        self.net_ = trainer.model.cpu().eval()
        self.card_ = new_card(self._summary(), {
            "paragraphs": data.paragraphs if isinstance(data, ParagraphStream) else len(data.sizes),
            "held out for validation": len(held)})
        last = self.history_[-1] if self.history_ else {}
        self.card_["metrics"] = {f"validation {k.removeprefix('val_')} (retrieval among the held-out paragraphs)": v
                                 for k, v in last.items() if k.startswith("val_")}
        return self

    def _teacher_vectors(self, paragraphs: Sequence[Sequence[str]] | ParagraphSources) -> TeacherVectors | None:
        """The teacher's vectors of every sentence of the corpus, from its cache or encoded now (once: one
        process encodes while the others, other ranks or runs, wait for its cache), or None without a teacher."""
        config = self.config_
        if config.teacher is None:
            return None
        cache = cache_path(config.teacher, firth_home())
        shown = config.progress and distributed.is_main()
        with cache_lock(cache.stem), tqdm(desc="teacher vectors", unit=" sentences", disable=not shown) as bar:
            vectors = teacher_vectors(lazy_teacher(config.teacher), (s for p in paragraphs for s in p), cache,
                                      progress=bar.update)
        if config.distill == "cosine" and vectors.dim != config.width:
            raise FirthError(f"distill cosine compares the sentence vectors with the teacher's {vectors.dim}-wide "
                             f"ones, but they are {config.width} wide; set head_dim to {vectors.dim}, or use "
                             "distill similarity.")
        return vectors

    def _split(self, paragraphs: Sequence[Sequence[str]]) -> tuple[list[list[str]], list[list[str]]]:
        """(validation paragraphs: a seeded sample of val_paragraphs, the training paragraphs)."""
        config = self.config_
        corpus = [list(p) for p in paragraphs]
        check_enough_paragraphs(len(corpus), config.val_paragraphs)
        held = set(np.random.default_rng(config.seed).permutation(len(corpus))[:config.val_paragraphs].tolist())
        return [corpus[i] for i in sorted(held)], [p for i, p in enumerate(corpus) if i not in held]

    def _summary(self) -> str:
        config = self.net.config
        tier = f"a {config.n_layers}-layer Transformer over SGNN projections" if config.n_layers else \
            "the static tier (SGNN projections of the words, a Linear, pooled; no Transformer)"
        return (f"{config.width}-wide sentence vectors, {tier}" + (" beside a lexical channel" if config.lexical else "")
                + f", trained with {config.loss}"
                + (f" and distilled from {teacher_name(config.teacher)} ({config.distill})" if config.teacher else ""))

    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize_embeddings: bool = False,
               max_words: int = 256, device: str | torch.device | None = None,
               precision: str = "float32", ranges: np.ndarray | None = None) -> np.ndarray:
        """One vector per text, [len(texts), dim], in input order (see SentenceEncoderNet.encode).

        The model runs where it is unless `device` is given. `precision` "int8", "uint8",
        "binary" or "ubinary" quantizes the vectors for an index (firth.runtime.quantize); the
        8-bit codes cut each dimension's `ranges` ([2, dim], from calibration_ranges of vectors
        like the index's; by default those of these texts' vectors, which queries encoded later
        would not share).
        """
        if isinstance(texts, str):
            raise FirthError("encode takes a list of texts, not one string.")
        check_choice("precision", precision, PRECISIONS)
        if device is not None:
            self.net.to(device)
        return quantize_embeddings(self.net.encode(list(texts), batch_size, normalize_embeddings, max_words),
                                   precision, ranges)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def save(self, directory: str | os.PathLike) -> None:
        """Write the model directory atomically (config.json + model.safetensors, no pickle)."""
        config = {k: v for k, v in dataclasses.asdict(self.net.config).items() if k != "progress"}
        card = getattr(self, "card_", None) or new_card(self._summary(), {})
        with model_writer(directory, "SentenceEncoder", config, card) as tmp:
            save_tensors(tmp / WEIGHTS, {k: v.cpu() for k, v in self.net.state_dict().items()})

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "SentenceEncoder":
        """Read a directory written by `save`, or a shipped model by name ("firth-mini", "firth-static");
        nothing is unpickled."""
        directory = model_path(directory)
        _, saved = read_model_config(directory, ("SentenceEncoder",))
        # models written before `fold` existed read the projection whole; before `scale_embeddings`, unscaled
        saved = {"fold": 1, "scale_embeddings": False, **saved}
        encoder = cls.from_config(config_from_saved(EncoderConfig, saved, directory / CONFIG))
        encoder.net_ = load_module(lambda: SentenceEncoderNet(encoder.config), directory / WEIGHTS,
                                   "the configuration's sizes")
        encoder.net_.eval()
        encoder.card_ = read_card(directory) or new_card(encoder._summary(), {})
        return encoder
