"""Skip-gram word2vec (Mikolov et al., 2013): the textbook model and a fast one.

Both learn, from (centre, context) word pairs, to predict which words occur near which.

- `model="softmax"`, the textbook model (as in the classic PyTorch tutorial):
  nn.Embedding(V, dim) -> nn.Linear(dim, V) -> log-softmax -> NLL loss, Adam,
  trained by firth's Trainer on every pair. Each step scores all V words, so
  it is slow beyond a toy vocabulary; it stays for teaching and as a
  correctness reference on tiny corpora.
- `model="negative"`, the fast model, gensim's recipe with hand-written SGD:
  a word is kept with probability (sqrt(c / t) + 1) * t / c (c its count,
  t = sample * corpus size; frequent-word subsampling), each kept word gets a
  reduced window drawn uniformly from 1..window (dynamic window), and each
  (centre, context) pair trains the context's input vector to score the centre
  high and `negative` words drawn from count^0.75 low (negative sampling);
  the learning rate falls linearly from `lr` to `min_lr` over the run.
  Words seen fewer than `min_count` times are dropped before windowing.

How the fast model keeps the cores busy without per-pair Python: the corpus
is held as one int32 array of word ids; a chunk of it (whole sentences) is
subsampled, given its windows and negatives with a few numpy operations, and
cut into batches of `batch_size` consecutive centre words. In a batch, the
centres with the same reduced window b form one dense block: contexts
[N, 2b] (positions outside the sentence masked) and outputs [N, 1 + negative]
(the centre and its noise words), so that scores, gradients and updates are
three batched matrix products, two row gathers and two `index_add_` scatters,
and no autograd. Two things differ from gensim's one-pair-at-a-time SGD: a
centre's noise words are shared by its contexts (gensim draws them per pair),
and a batch's steps are computed from the same weights and summed;
benchmarks/RESULTS.md measures what that costs against gensim.
With `workers` > 1, chunks are trained by that many threads at once on
shared weights (Hogwild, as word2vec.c and gensim do); torch releases the
GIL inside each operation. With one worker a CPU run is deterministic for a
given seed.

`input="projection"` replaces the input table by SGNN projections: a word's
input vector is its unit-length hashed character n-gram projection times a
trained [P, dim] matrix, so that any word, even one never seen, has a vector
(`KeyedVectors.encoder`). Words sharing n-grams share what they learn: good
for morphology (inflections, rare and unseen words), weaker on meaning than
a table.

`Word2Vec.save` writes the vectors (a KeyedVectors directory that also holds
the resolved Word2VecConfig); `Word2Vec.load` and `firth.load` read it back,
and `KeyedVectors.load` reads its vectors alone.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from firth.config import WORD2VEC_CHUNK, TrainConfig, Word2VecConfig, config_from_saved, configured
from firth.errors import FirthError
from firth.io.card import new_card, read_card
from firth.io.model_dir import CONFIG, WEIGHTS, model_writer, read_model_config, save_tensors, write_run_config
from firth.train.trainer import Trainer, resolve_device
from firth.vectors import KeyedVectors, ProjectionEncoder



# --- The corpus as arrays -----------------------------------------------------


@dataclass
class Vocabulary:
    """The words kept for training, by descending count (gensim's order), from one streamed pass."""

    words: list[str]
    counts: np.ndarray  # int64 [V]
    raw_words: int  # tokens before min_count pruning
    sentences: int
    index: dict[str, int]  # word -> its id (its rank in `words`)

    @classmethod
    def count(cls, sentences: Iterable[Sequence[str]], min_count: int) -> "Vocabulary":
        """Count every word, keep those seen `min_count` times; ties by later first occurrence first."""
        counter: Counter[str] = Counter()  # in first-occurrence order
        n = 0
        for sentence in sentences:
            if isinstance(sentence, str):
                raise FirthError("each sentence must be a list of words, not a string; split texts into words "
                                 "first (firth.text.segment.words).")
            counter.update(sentence)
            n += 1
        if not counter:
            raise FirthError("the corpus has no words.")
        counts = np.fromiter(counter.values(), dtype=np.int64, count=len(counter))
        frequent = np.flatnonzero(counts >= min_count)
        if not len(frequent):
            raise FirthError(f"no word occurs at least min_count={min_count} times; lower min_count "
                             "or give a larger corpus.")
        order = frequent[np.lexsort((-frequent, -counts[frequent]))]
        seen = list(counter)
        words = [seen[i] for i in order.tolist()]
        return cls(words, counts[order], int(counts.sum()), n, {word: i for i, word in enumerate(words)})

    @property
    def kept(self) -> int:
        """Tokens of vocabulary words: what training reads in an epoch."""
        return int(self.counts.sum())


class Chunk(NamedTuple):
    start: int  # the position of its first token among all kept tokens
    ids: np.ndarray  # int32 word ids of its kept tokens
    sentence: np.ndarray  # int32: each token's sentence number


def encoded_chunks(sentences: Iterable[Sequence[str]], index: dict[str, int], size: int) -> Iterator[Chunk]:
    """The corpus's kept tokens as word ids, streamed in runs of about `size` tokens that never split a sentence:
    a run ends at the first sentence start at or after each multiple of `size`."""
    ids, numbers, start, position, threshold = array("i"), array("i"), 0, 0, 0
    for number, sentence in enumerate(sentences):
        kept = [i for i in map(index.get, sentence) if i is not None]
        if not kept:
            continue
        if position >= threshold:
            if position > start:
                yield Chunk(start, np.array(ids, dtype=np.int32), np.array(numbers, dtype=np.int32))
                ids, numbers, start = array("i"), array("i"), position
            threshold = (position // size + 1) * size
        ids.extend(kept)
        numbers.extend([number] * len(kept))
        position += len(kept)
    if position > start:
        yield Chunk(start, np.array(ids, dtype=np.int32), np.array(numbers, dtype=np.int32))


@dataclass
class Corpus:
    """A tokenized corpus held in memory (the textbook model's pairs need it all): vocabulary and token ids."""

    words: list[str]  # the vocabulary, by descending count
    counts: np.ndarray  # int64 [V]
    ids: np.ndarray  # int32 [n]: the tokens of vocabulary words, in corpus order
    sentence: np.ndarray  # int32 [n]: each token's sentence number
    raw_words: int  # tokens before min_count pruning

    @classmethod
    def encode(cls, sentences: Sequence[Sequence[str]], min_count: int) -> "Corpus":
        """Two passes: the vocabulary, then every kept token's id."""
        vocabulary = Vocabulary.count(sentences, min_count)
        whole = next(encoded_chunks(sentences, vocabulary.index, sys.maxsize))
        return cls(vocabulary.words, vocabulary.counts, whole.ids, whole.sentence, vocabulary.raw_words)


def keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    """Subsampling: P(keep a token of a word seen c times) = min(1, (sqrt(c/t) + 1) t/c), t = sample * total."""
    if sample == 0:
        return np.ones(len(counts), dtype=np.float32)
    t = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / t) + 1) * t / counts).astype(np.float32)


class NoiseTable:
    """Negative sampling's noise distribution P(word) = count^exponent / sum(count^exponent).

    Drawn in O(1) a sample by Walker's alias method: pick a word i uniformly,
    keep it with probability `accept[i]`, else take `alias[i]`.
    """

    def __init__(self, counts: np.ndarray, exponent: float):
        weights = counts.astype(np.float64) ** exponent
        self.probability = weights / weights.sum()
        self.accept, self.alias = alias_table(self.probability)

    def draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Word ids (int32) of the given shape, drawn independently."""
        n = math.prod(shape)
        i = rng.integers(0, len(self.accept), n, dtype=np.int32)
        return np.where(rng.random(n) < self.accept[i], i, self.alias[i]).reshape(shape)


def alias_table(probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table: P(i) = (accept[i] + sum over j with alias[j] = i of (1 - accept[j])) / n."""
    n = len(probability)
    scaled = probability * n
    accept, alias = np.ones(n), np.arange(n, dtype=np.int32)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large[-1]
        accept[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        if scaled[g] < 1.0:
            small.append(large.pop())
    return accept, alias


def context_windows(sentence: np.ndarray, centres: np.ndarray, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions [N, 2*reach] of the words within `reach` of each centre, and which lie in its sentence."""
    offsets = np.concatenate([np.arange(-reach, 0), np.arange(1, reach + 1)])
    positions = centres[:, None] + offsets
    inside = (positions >= 0) & (positions < len(sentence))
    positions = np.clip(positions, 0, len(sentence) - 1)
    return positions, inside & (sentence[positions] == sentence[centres][:, None])


def subsample(ids: np.ndarray, sentence: np.ndarray, keep: np.ndarray, window: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop tokens by subsampling (before windowing, as word2vec does) and draw each survivor's window 1..window."""
    kept = rng.random(len(ids), dtype=np.float32) < keep[ids]
    return ids[kept], sentence[kept], rng.integers(1, window + 1, int(kept.sum()))


def skipgram_pairs(corpus: Corpus, config: Word2VecConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every (centre, context) id pair of one subsampled, dynamically windowed pass over the corpus."""
    keep = keep_probability(corpus.counts, config.sample)
    ids, sentence, reach = subsample(corpus.ids, corpus.sentence, keep, config.window, rng)
    centres, contexts = [], []
    for b in range(1, config.window + 1):
        at = np.flatnonzero(reach == b)
        positions, valid = context_windows(sentence, at, b)
        centres.append(np.repeat(ids[at], valid.sum(1)))
        contexts.append(ids[positions[valid]])
    return np.concatenate(centres), np.concatenate(contexts)


# --- The textbook model -------------------------------------------------------


class SkipGramSoftmax(nn.Module):
    """Embed the centre word, score every vocabulary word, log-softmax: log P(context | centre)."""

    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.output = nn.Linear(dim, vocab_size)

    def forward(self, centres: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.output(self.embed(centres)), dim=1)


class PairDataset(Dataset):
    """(centre, context) id pairs; a batch is (centres, contexts) for a list of rows."""

    def __init__(self, centres: np.ndarray, contexts: np.ndarray):
        self.centres = torch.from_numpy(centres.astype(np.int64))
        self.contexts = torch.from_numpy(contexts.astype(np.int64))

    def __len__(self) -> int:
        return len(self.centres)

    def __getitem__(self, rows: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.centres[rows], self.contexts[rows]


# --- The fast model -----------------------------------------------------------


def uniform_init(rows: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """word2vec's input initialization: uniform in [-1/dim, 1/dim)."""
    return (torch.rand(rows, dim, generator=generator) * 2 - 1) / dim


class TableInput(nn.Module):
    """Input vectors as a table: one trained row per vocabulary word."""

    def __init__(self, vocab_size: int, dim: int, generator: torch.Generator):
        super().__init__()
        self.weight = nn.Parameter(uniform_init(vocab_size, dim, generator), requires_grad=False)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The rows of `ids`, and what `update` needs."""
        return self.weight.index_select(0, ids), ids

    def update(self, ids: torch.Tensor, step: torch.Tensor) -> None:
        self.weight.index_add_(0, ids, step)

    def vectors(self) -> torch.Tensor:
        return self.weight.detach().clone()


class ProjectionInput(nn.Module):
    """Input vectors from SGNN projections: unit projection [V, P] (fixed) times a trained [P, dim] matrix.

    A step on the vector of a word is a step on the matrix along the word's
    projection, so words sharing character n-grams learn together.
    """

    def __init__(self, encoder: ProjectionEncoder, words: list[str]):
        super().__init__()
        self.register_buffer("features", encoder.features(words).to(torch.float16))  # halves the memory
        self.weight = nn.Parameter(encoder.weight, requires_grad=False)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Each distinct word is projected once (frequent words recur within a step)."""
        distinct, inverse = torch.unique(ids, return_inverse=True)
        x = self.features.index_select(0, distinct).float()
        return (x @ self.weight).index_select(0, inverse), (x, inverse)

    def update(self, saved: tuple[torch.Tensor, torch.Tensor], step: torch.Tensor) -> None:
        x, inverse = saved
        per_word = torch.zeros(len(x), step.shape[1], device=step.device).index_add_(0, inverse, step)
        self.weight.addmm_(x.T, per_word)

    def vectors(self) -> torch.Tensor:
        return torch.cat([rows.float() @ self.weight for rows in self.features.split(8192)])


class SkipGramNegative(nn.Module):
    """Skip-gram with negative sampling, updated by hand-written SGD like word2vec.c (no autograd).

    For a context word's input vector h and output vectors o_0 (the centre)
    and o_1..o_K (noise words), the loss is -log s(h.o_0) - sum_k log s(-h.o_k)
    (s the sigmoid); its gradient steps are lr * (label - s(h.o)) * o for h and
    lr * (label - s(h.o)) * h for each o, label 1 for o_0 and 0 for the rest.
    """

    def __init__(self, input: TableInput | ProjectionInput, vocab_size: int, dim: int):
        super().__init__()
        self.input = input
        self.output = nn.Parameter(torch.zeros(vocab_size, dim), requires_grad=False)

    @torch.no_grad()
    def sgd_step(self, contexts: torch.Tensor, targets: torch.Tensor, context_mask: torch.Tensor,
                 target_mask: torch.Tensor, lr: float) -> torch.Tensor:
        """One step for N centres; returns the summed loss of the masked-in pairs.

        contexts [N, C] input ids, context_mask [N, C] which are real; targets
        [N, 1+K] output ids (centre first), target_mask [N, 1+K] which count
        (a noise word equal to the centre does not, as in word2vec).
        """
        n, width = contexts.shape
        h, saved = self.input(contexts.reshape(-1))
        h = h.view(n, width, -1)
        o = self.output.index_select(0, targets.reshape(-1)).view(n, targets.shape[1], -1)
        scores = torch.bmm(h, o.transpose(1, 2))  # [N, C, 1+K]
        label = torch.zeros(targets.shape[1], device=scores.device)
        label[0] = 1.0
        mask = context_mask[:, :, None] * target_mask[:, None, :]
        loss = -(F.logsigmoid(scores * (2 * label - 1)) * mask).sum()
        g = (label - torch.sigmoid(scores)).mul_(mask).mul_(lr)
        self.input.update(saved, torch.bmm(g, o).view(n * width, -1))
        self.output.index_add_(0, targets.reshape(-1), torch.bmm(g.transpose(1, 2), h).view(-1, h.shape[-1]))
        return loss


# --- Training -----------------------------------------------------------------


@configured(Word2VecConfig)
class Word2Vec:
    """Train skip-gram word vectors: `Word2Vec(dim=100).fit(sentences).wv_` is a KeyedVectors.

    Its keywords are the fields of `firth.config.Word2VecConfig`, where every
    default lives. `sentences` is any iterable of token lists (paragraphs or
    sentences; windows never cross them), read once. After `fit`: `config_`
    (the resolved configuration), `wv_` (the input vectors, by descending word
    count), `history_` (one record a epoch) and, for the fast model, `model_`
    (input and output weights).
    """

    def fit(self, sentences: Iterable[Sequence[str]], validation_words: Sequence[str] = (),
            out_dir: str | Path | None = None) -> "Word2Vec":
        """Learn the vectors; print the nearest neighbours of `validation_words` after each epoch.

        `sentences` (lists of words) is read once to count the words and once
        an epoch, streamed: pass a list, or an object whose every `iter()`
        starts the corpus over (the fast model never holds the corpus, so its
        memory does not grow with it). With `out_dir`, the epoch records go to
        out_dir/metrics.jsonl (the softmax model's Trainer also writes its
        checkpoints and learning curve there).
        """
        if iter(sentences) is sentences:
            raise FirthError("sentences must be readable more than once (a list, or an object whose iter() starts "
                             "over), not a one-pass iterator: training reads them once an epoch.")
        self.config_ = self.config
        vocabulary = Vocabulary.count(sentences, self.config_.min_count)
        self.config_.check_vocabulary(len(vocabulary.words))
        self.card_ = new_card(self._summary(len(vocabulary.words)), {
            "tokens": vocabulary.raw_words, "sentences or paragraphs": vocabulary.sentences,
            "vocabulary (min_count or more)": len(vocabulary.words)})
        self.history_: list[dict] = []
        self._out_dir = Path(out_dir) if out_dir else None
        if self._out_dir:
            write_run_config(self._out_dir, self.config_)
        if self._out_dir and self.config_.model == "negative":
            self._out_dir.mkdir(parents=True, exist_ok=True)
            (self._out_dir / "metrics.jsonl").unlink(missing_ok=True)
        if self.config_.model == "softmax":
            self._fit_softmax(Corpus.encode(sentences, self.config_.min_count), validation_words)
        else:
            self._fit_negative(sentences, vocabulary, validation_words)
        return self

    # ---- textbook ----

    def _fit_softmax(self, corpus: Corpus, validation_words: Sequence[str]) -> None:
        c = self.config_
        torch.manual_seed(c.seed)
        centres, contexts = skipgram_pairs(corpus, c, np.random.default_rng(c.seed))
        if not len(centres):
            raise FirthError("the corpus has no pair of words within a window of each other.")
        model = SkipGramSoftmax(len(corpus.words), c.dim)
        engine = TrainConfig(epochs=c.epochs, batch_size=c.batch_size, lr=c.lr, optimizer="adam", patience=None,
                             seed=c.seed, device=c.device, progress=c.progress)
        trainer = Trainer(model, engine, out_dir=self._out_dir, loss_fn=nn.NLLLoss())
        self.history_ = trainer.fit(PairDataset(centres, contexts))
        self.wv_ = KeyedVectors(corpus.words, model.embed.weight, corpus.counts)
        # after training only: the Trainer's per-epoch validation functions must return a metric to monitor
        self._print_neighbours(self._neighbours(validation_words))

    # ---- fast ----

    def _fit_negative(self, sentences: Iterable[Sequence[str]], vocabulary: Vocabulary,
                      validation_words: Sequence[str]) -> None:
        c = self.config_
        device = resolve_device(c.device)
        generator = torch.Generator().manual_seed(c.seed)
        if c.input == "projection":
            projection = c.projection_config
            encoder = ProjectionEncoder(projection, uniform_init(projection.dim, c.dim, generator))
            input_layer = ProjectionInput(encoder, vocabulary.words)
        else:
            encoder, input_layer = None, TableInput(len(vocabulary.words), c.dim, generator)
        self.model_ = SkipGramNegative(input_layer, len(vocabulary.words), c.dim).to(device)
        tables = (keep_probability(vocabulary.counts, c.sample), NoiseTable(vocabulary.counts, c.ns_exponent))
        bar = tqdm(total=c.epochs * vocabulary.raw_words, unit="word", unit_scale=True, disable=not c.progress,
                   smoothing=0.1)
        with bar, _thread_pool(c.workers) as pool, _torch_threads(1 if c.workers > 1 else None):
            for epoch in range(c.epochs):
                started, loss, pairs = time.perf_counter(), 0.0, 0
                job = partial(self._train_chunk, vocabulary.kept, tables, epoch, device)
                chunks = encoded_chunks(sentences, vocabulary.index, WORD2VEC_CHUNK)
                for chunk, (chunk_loss, chunk_pairs) in _bounded_map(pool, job, chunks, 2 * c.workers):
                    loss, pairs = loss + chunk_loss, pairs + chunk_pairs
                    bar.update(round(len(chunk.ids) * vocabulary.raw_words / vocabulary.kept))
                    position = chunk.start + len(chunk.ids)
                    bar.set_postfix(loss=f"{loss / max(pairs, 1):.4f}", lr=f"{self._lr(epoch, position, vocabulary.kept):.5f}")
                seconds = time.perf_counter() - started
                record = {"epoch": epoch + 1, "loss": loss / max(pairs, 1), "pairs": pairs,
                          "lr": self._lr(epoch + 1, 0, vocabulary.kept), "seconds": round(seconds, 3),
                          "words_per_s": round(vocabulary.raw_words / seconds)}
                if validation_words or epoch == c.epochs - 1:
                    self.wv_ = self._vectors(vocabulary, encoder)
                if validation_words:
                    record["neighbours"] = self._neighbours(validation_words)
                self._log(record)

    def _vectors(self, vocabulary: Vocabulary, encoder: ProjectionEncoder | None) -> KeyedVectors:
        """A snapshot of the input vectors (and of the projection matrix), on the CPU."""
        if encoder is not None:
            encoder = ProjectionEncoder(encoder.config, self.model_.input.weight.detach().cpu().clone())
        return KeyedVectors(vocabulary.words, self.model_.input.vectors().cpu(), vocabulary.counts, encoder)

    def _lr(self, epoch: int, position: int, kept: int) -> float:
        """Linear decay from lr to min_lr over all epochs' `kept` tokens."""
        c = self.config_
        progress = min(1.0, (epoch * kept + position) / (c.epochs * kept))
        return c.lr - (c.lr - c.min_lr) * progress

    def _train_chunk(self, kept: int, tables: tuple[np.ndarray, NoiseTable], epoch: int, device: torch.device,
                     chunk: Chunk) -> tuple[float, int]:
        """Subsample, window and train one chunk of whole sentences; returns (summed loss, pairs).

        The chunk's kept words are taken `batch_size` consecutive centres a step
        (so that a step's words come from one stretch of text, as in sequential
        SGD); within a step, the centres of each reduced window b form one dense block.
        """
        c = self.config_
        rng = np.random.default_rng([c.seed, epoch, chunk.start])  # the same draws whichever thread runs it
        keep, noise = tables
        ids, sentence, reach = subsample(chunk.ids, chunk.sentence, keep, c.window, rng)
        ids = ids.astype(np.int64)  # torch's index_add_ is twice as fast with int64 indices
        targets = np.concatenate([ids[:, None], noise.draw((len(ids), c.negative), rng)], axis=1)
        target_mask = targets != ids[:, None]
        target_mask[:, 0] = True
        steps = np.arange(0, len(ids) + c.batch_size, c.batch_size)
        blocks, pairs = [], 0
        for b in range(1, c.window + 1):
            centres = np.flatnonzero(reach == b)
            positions, valid = context_windows(sentence, centres, b)
            pairs += int(valid.sum())
            tensors = [_tensor(ids[positions], device), _tensor(targets[centres], device),
                       _tensor(valid, device).float(), _tensor(target_mask[centres], device).float()]
            blocks.append((tensors, np.searchsorted(centres, steps).tolist()))
        loss = torch.zeros((), device=device)
        for k, first in enumerate(steps[:-1].tolist()):
            lr = self._lr(epoch, chunk.start + len(chunk.ids) * first // len(ids), kept)
            for tensors, cuts in blocks:
                if cuts[k + 1] > cuts[k]:
                    loss += self.model_.sgd_step(*(t[cuts[k]:cuts[k + 1]] for t in tensors), lr)
        return float(loss), pairs

    # ---- reporting ----

    def _log(self, record: dict) -> None:
        """Keep the epoch record, print it (neighbours on their own lines), append it to metrics.jsonl."""
        self.history_.append(record)
        if self.config_.progress:
            scalars = {k: v for k, v in record.items() if k != "neighbours"}
            tqdm.write(", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in scalars.items()))
            self._print_neighbours(record.get("neighbours", {}))
        if self._out_dir:
            with open(self._out_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")

    def _neighbours(self, words: Sequence[str], topn: int = 5) -> dict[str, list[str]]:
        """The nearest neighbours of the validation words that have vectors."""
        known = [w for w in words if w in self.wv_ or self.wv_.encoder is not None]
        return {w: [n for n, _ in self.wv_.most_similar(w, topn=topn)] for w in known}

    def _print_neighbours(self, neighbours: dict[str, list[str]]) -> None:
        if self.config_.progress and neighbours:
            tqdm.write("\n".join(f"  {w}: {', '.join(ns)}" for w, ns in neighbours.items()))


    def _summary(self, words: int) -> str:
        return f"{self.config_.model} skip-gram vectors of {words:,} words, dim {self.config_.dim}, {self.config_.input} input"

    # ---- model directory ----

    def save(self, directory: str | Path) -> None:
        """Write the vectors and the resolved configuration as a model directory (JSON + safetensors)."""
        config, tensors = self.wv_.state()
        config["word2vec"] = {k: v for k, v in asdict(self.config_).items() if k != "progress"}
        card = getattr(self, "card_", None) or new_card(self._summary(len(self.wv_)), {})
        with model_writer(directory, "Word2Vec", config, card) as tmp:
            save_tensors(tmp / WEIGHTS, tensors)

    @classmethod
    def load(cls, directory: str | Path) -> "Word2Vec":
        """Read a directory written by `save`: `wv_` and `config_` as trained; nothing is unpickled."""
        _, saved = read_model_config(directory, ("Word2Vec",))
        if not isinstance(saved.get("word2vec"), dict):
            raise FirthError(f"{Path(directory) / CONFIG}: has no word2vec configuration.")
        w2v = cls.from_config(config_from_saved(Word2VecConfig, saved["word2vec"], Path(directory) / CONFIG))
        w2v.config_, w2v.wv_ = w2v.config, KeyedVectors.load(directory)
        w2v.card_ = read_card(directory) or new_card(w2v._summary(len(w2v.wv_)), {})
        return w2v


def train_word2vec(sentences: Iterable[Sequence[str]], **kwargs) -> KeyedVectors:
    """One call: `train_word2vec(token_lists, dim=100, epochs=5)` returns the trained KeyedVectors."""
    return Word2Vec(**kwargs).fit(sentences).wv_


def _tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)


@contextlib.contextmanager
def _thread_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that, on Ctrl-C or an error, drops the chunks not started instead of training them all."""
    pool = ThreadPoolExecutor(workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _bounded_map(pool: ThreadPoolExecutor, job, items: Iterable, ahead: int) -> Iterator[tuple]:
    """(item, job(item)) in order, with at most `ahead` items submitted and not yet taken: a stream of chunks
    is read only as fast as the workers train it."""
    pending: deque = deque()
    for item in items:
        pending.append((item, pool.submit(job, item)))
        if len(pending) >= ahead:
            item, future = pending.popleft()
            yield item, future.result()
    while pending:
        item, future = pending.popleft()
        yield item, future.result()


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run with `n` intra-op threads (None: leave as is): worker threads must not oversubscribe the cores."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
