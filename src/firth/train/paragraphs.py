"""Paragraph corpora for sentence encoders: sentences grouped by paragraph, batched a paragraph at a time.

Two pipelines give the Trainer the same kind of batches: whole paragraphs
(a random subset of at most `max_per_paragraph` sentences of each) packed
into batches of at most `batch_size` sentences, tokenized and projected,
with each sentence's paragraph id.

A batch is (ProjectedTexts, SentenceTargets): the targets hold each
sentence's paragraph id and, when distilling, the teacher's vector of it
(firth.train.teacher, computed before training and looked up here).

- In memory: `read_paragraph_sentences` reads corpora into a list of
  paragraphs, and `ParagraphBatches` (a map-style Dataset) draws each epoch's
  batches from all of them; the Trainer's DataLoader workers project them
  ahead of the model.
- Streamed: `ParagraphSources` re-reads the corpora at each iteration and
  `ParagraphStream` (an IterableDataset) shuffles their paragraphs through a
  bounded buffer as they are read, so that memory stays flat however large
  the corpus. Under torchrun each rank reads every world_size-th paragraph,
  and each DataLoader worker every n-th of those.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from firth.config import ProjectionConfig
from firth.data import DATASETS, paragraphs
from firth.errors import FirthError
from firth.evaluate.retrieval import heldout_split
from firth.features.projection import Projection, ProjectedTexts, project_texts
from firth.text.segment import usable_sentences, words
from firth.train.teacher import TeacherVectors


def read_paragraph_sentences(sources: Iterable[str], min_words: int = 3,
                             exclude: frozenset[tuple[str, int]] | set[tuple[str, int]] | None = None
                             ) -> list[list[str]]:
    """Each usable paragraph of the corpora (registry names or files) as its list of sentences, in memory.

    A sentence counts when it has at least `min_words` words; a paragraph
    when it has at least two such sentences (one alone teaches nothing).
    `exclude` holds (source, paragraph index) keys to leave out; by default
    (None) the paragraphs that the encoder benchmark holds out of the
    registry corpora (firth.evaluate.retrieval.heldout_split), so that no
    model trained on them has seen its test.
    """
    return list(ParagraphSources(sources, min_words, exclude))


class ParagraphSources:
    """read_paragraph_sentences' paragraphs, streamed: each iteration reads the corpora anew, one paragraph at a time."""

    def __init__(self, sources: Iterable[str], min_words: int = 3,
                 exclude: frozenset[tuple[str, int]] | set[tuple[str, int]] | None = None):
        self.sources, self.min_words = list(sources), min_words
        for source in self.sources:
            paragraphs(source)  # every corpus is checked before any is read
        self.exclude = benchmark_heldout(self.sources) if exclude is None else exclude

    def __iter__(self) -> Iterator[list[str]]:
        for source in self.sources:
            for index, paragraph in enumerate(paragraphs(source)):
                if (source, index) in self.exclude:
                    continue
                sentences = usable_sentences(paragraph.text, self.min_words)
                if len(sentences) >= 2:
                    yield sentences


def check_enough_paragraphs(paragraphs: int, held_out: int) -> None:
    """A FirthError when a corpus of `paragraphs` usable paragraphs cannot spare `held_out` for validation."""
    if paragraphs < held_out + 2:
        raise FirthError(f"the corpus has {paragraphs} paragraphs of two or more sentences; training needs more "
                         f"than {held_out + 1} (validation takes {held_out}).")


def check_packing(batch_size: int, max_per_paragraph: int) -> None:
    """A FirthError unless a batch can hold two paragraphs' sentences (a batch of one paragraph has no negatives)."""
    if max_per_paragraph < 2 or batch_size < 2 * max_per_paragraph:
        raise FirthError(f"need max_per_paragraph >= 2 and batch_size >= 2 * max_per_paragraph, "
                         f"got {max_per_paragraph} and {batch_size}.")


@dataclass
class SentenceTargets:
    """What a batch's sentence vectors are trained towards: each sentence's paragraph id (the same id: the
    same paragraph) and, when distilling, the teacher's vector of each sentence."""

    groups: torch.Tensor  # [batch] int64
    teacher: torch.Tensor | None = None  # [batch, teacher dim] float32

    def __len__(self) -> int:
        return len(self.groups)

    def to(self, device: torch.device | str) -> "SentenceTargets":
        return SentenceTargets(self.groups.to(device), None if self.teacher is None else self.teacher.to(device))


def project_sentences(projection: Projection, sentences: Sequence[str], max_words: int, groups: Sequence[int],
                      teacher: TeacherVectors | None = None) -> tuple[ProjectedTexts, SentenceTargets]:
    """A training batch: the sentences' first `max_words` words projected, and their targets."""
    docs = [words(sentence, lowercase=False)[:max_words] for sentence in sentences]
    vectors = teacher.lookup(sentences) if teacher is not None else None
    return project_texts(projection, docs), SentenceTargets(torch.as_tensor(groups), vectors)


def benchmark_heldout(sources: Sequence[str]) -> frozenset[tuple[str, int]]:
    """The (corpus, paragraph index) keys the encoder benchmark holds out, if any source is a registry corpus."""
    if not any(source in DATASETS and not Path(source).exists() for source in sources):
        return frozenset()
    return heldout_split().keys


class ParagraphBatches(Dataset):
    """Sentences with their paragraph ids (and teacher vectors); a batch is (ProjectedTexts, SentenceTargets)."""

    def __init__(self, paragraphs: Sequence[Sequence[str]], projection: ProjectionConfig, batch_size: int = 128,
                 max_per_paragraph: int = 8, max_words: int = 64, teacher: TeacherVectors | None = None):
        check_packing(batch_size, max_per_paragraph)
        self.sentences = [sentence for paragraph in paragraphs for sentence in paragraph]
        self.sizes = np.array([len(p) for p in paragraphs], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.group = np.repeat(np.arange(len(paragraphs)), self.sizes)
        self.batch_size, self.max_per_paragraph, self.max_words = batch_size, max_per_paragraph, max_words
        self.projection, self.teacher = Projection(projection), teacher

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, rows: Sequence[int]) -> tuple[ProjectedTexts, SentenceTargets]:
        return project_sentences(self.projection, [self.sentences[i] for i in rows], self.max_words,
                                 self.group[list(rows)], self.teacher)

    def batches(self, seed: int) -> list[list[int]]:
        """Whole paragraphs in a seeded random order, packed into batches of at most batch_size sentences."""
        rng = np.random.default_rng(seed)
        batches, current = [], []
        for p in rng.permutation(len(self.sizes)):
            take = min(int(self.sizes[p]), self.max_per_paragraph)
            rows = self.starts[p] + np.sort(rng.choice(self.sizes[p], take, replace=False))
            if len(current) + take > self.batch_size:
                batches.append(current)
                current = []
            current.extend(rows.tolist())
        if current:
            batches.append(current)
        return batches


class ParagraphStream(IterableDataset):
    """ParagraphBatches' batches from paragraphs streamed out of `source`, shuffled through a bounded buffer.

    `hold_out` paragraphs (a seeded uniform sample, kept in `held_out`) are
    left out of training, for validation. `len()` is the number of global
    batches an epoch gives, counted in the one pass made at construction.
    Call `set_epoch` before each epoch (as with DistributedSampler): the
    shuffle is seeded by it. Memory holds the buffer of paragraphs, not the corpus.
    """

    def __init__(self, source: Iterable[Sequence[str]], projection: ProjectionConfig, batch_size: int = 128,
                 max_per_paragraph: int = 8, max_words: int = 64, hold_out: int = 0, seed: int = 0,
                 buffer: int = 10_000, teacher: TeacherVectors | None = None):
        check_packing(batch_size, max_per_paragraph)
        self.source, self.buffer, self.seed, self.epoch = source, buffer, seed, seed
        self.batch_size, self.max_per_paragraph, self.max_words = batch_size, max_per_paragraph, max_words
        self.projection, self.teacher = Projection(projection), teacher
        self.held_out, self.held_indices, self.paragraphs, self.batches = self._sample(hold_out)

    def _sample(self, k: int) -> tuple[list[list[str]], frozenset[int], int, int]:
        """One pass: a seeded uniform sample of k paragraphs (reservoir sampling), their indices, how many
        paragraphs are left for training, and how many batches they pack into (in corpus order; shuffled
        epochs pack about as many)."""
        rng = np.random.default_rng(self.seed)
        sample: list[tuple[int, list[str]]] = []
        seen = batches = filled = 0
        for index, paragraph in enumerate(self.source):
            take = min(len(paragraph), self.max_per_paragraph)
            batches, filled = (batches + 1, take) if filled + take > self.batch_size or not batches else \
                (batches, filled + take)
            seen += 1
            if len(sample) < k:
                sample.append((index, list(paragraph)))
            elif k and (slot := int(rng.integers(index + 1))) < k:
                sample[slot] = (index, list(paragraph))
        check_enough_paragraphs(seen, k)
        sample.sort(key=lambda item: item[0])
        held_sentences = sum(min(len(p), self.max_per_paragraph) for _, p in sample)
        return ([p for _, p in sample], frozenset(i for i, _ in sample), seen - len(sample),
                max(1, batches - held_sentences // self.batch_size))

    def __len__(self) -> int:
        return self.batches

    def training(self) -> Iterator[tuple[int, Sequence[str]]]:
        """The training paragraphs (all but the held-out ones) with their indices, streamed in corpus order."""
        return ((i, p) for i, p in enumerate(self.source) if i not in self.held_indices)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[ProjectedTexts, SentenceTargets]]:
        """This rank's (and DataLoader worker's) batches of about batch_size / world_size sentences."""
        from firth.train import distributed

        worker = get_worker_info()
        workers, worker_id = (worker.num_workers, worker.id) if worker else (1, 0)
        parts, part = distributed.world_size() * workers, distributed.rank() * workers + worker_id
        rng = np.random.default_rng([self.seed, self.epoch, part])
        size = max(self.batch_size // distributed.world_size(), 2 * self.max_per_paragraph)
        batch: list[str] = []
        groups: list[int] = []
        for index, paragraph in self._shuffled(rng, parts, part):
            take = min(len(paragraph), self.max_per_paragraph)
            if len(batch) + take > size:
                yield project_sentences(self.projection, batch, self.max_words, groups, self.teacher)
                batch, groups = [], []
            batch.extend(paragraph[i] for i in np.sort(rng.choice(len(paragraph), take, replace=False)))
            groups.extend([index] * take)
        if batch:
            yield project_sentences(self.projection, batch, self.max_words, groups, self.teacher)

    def _shuffled(self, rng: np.random.Generator, parts: int, part: int) -> Iterator[tuple[int, Sequence[str]]]:
        """This part's training paragraphs with their indices, in an order shuffled within a bounded buffer."""
        pool: list[tuple[int, Sequence[str]]] = []
        for index, paragraph in self.training():
            if index % parts != part:
                continue
            if len(pool) < self.buffer:
                pool.append((index, paragraph))
                continue
            slot = int(rng.integers(len(pool)))
            yield pool[slot]
            pool[slot] = (index, paragraph)
        for slot in rng.permutation(len(pool)).tolist():
            yield pool[slot]
