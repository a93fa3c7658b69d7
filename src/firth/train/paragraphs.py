"""Paragraph corpora for sentence encoders: sentences grouped by paragraph, batched a paragraph at a time.

`read_paragraph_sentences` streams corpora into paragraphs of sentences;
`ParagraphBatches` is the Dataset the Trainer reads: its `batches(seed)`
packs whole paragraphs (a random subset of at most `max_per_paragraph`
sentences of each) into batches of at most `batch_size` sentences, and
indexing it with a batch's rows tokenizes and projects those sentences. The
Trainer runs that indexing in DataLoader workers, ahead of the model, so
featurization overlaps training.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from firth.config import ProjectionConfig
from firth.data import DATASETS, paragraphs
from firth.errors import FirthError
from firth.evaluate.retrieval import heldout_split
from firth.features.projection import Projection, ProjectedTexts, project_texts
from firth.text.segment import usable_sentences, words


def read_paragraph_sentences(sources: Iterable[str], min_words: int = 3,
                             exclude: frozenset[tuple[str, int]] | set[tuple[str, int]] | None = None
                             ) -> list[list[str]]:
    """Each usable paragraph of the corpora (registry names or files) as its list of sentences.

    A sentence counts when it has at least `min_words` words; a paragraph
    when it has at least two such sentences (one alone teaches nothing).
    `exclude` holds (source, paragraph index) keys to leave out; by default
    (None) the paragraphs that the encoder benchmark holds out of the
    registry corpora (firth.evaluate.retrieval.heldout_split), so that no
    model trained on them has seen its test.
    """
    sources = list(sources)
    for source in sources:
        paragraphs(source)  # every corpus is checked before any is read
    if exclude is None:
        exclude = benchmark_heldout(sources)
    kept = []
    for source in sources:
        for index, paragraph in enumerate(paragraphs(source)):
            if (source, index) in exclude:
                continue
            sentences = usable_sentences(paragraph.text, min_words)
            if len(sentences) >= 2:
                kept.append(sentences)
    return kept


def benchmark_heldout(sources: Sequence[str]) -> frozenset[tuple[str, int]]:
    """The (corpus, paragraph index) keys the encoder benchmark holds out, if any source is a registry corpus."""
    if not any(source in DATASETS and not Path(source).exists() for source in sources):
        return frozenset()
    return heldout_split().keys


class ParagraphBatches(Dataset):
    """Sentences with their paragraph ids; a batch is (ProjectedTexts, paragraph ids)."""

    def __init__(self, paragraphs: Sequence[Sequence[str]], projection: ProjectionConfig, batch_size: int = 128,
                 max_per_paragraph: int = 8, max_words: int = 64):
        if max_per_paragraph < 2 or batch_size < 2 * max_per_paragraph:
            raise FirthError(f"need max_per_paragraph >= 2 and batch_size >= 2 * max_per_paragraph, "
                             f"got {max_per_paragraph} and {batch_size}.")
        self.sentences = [sentence for paragraph in paragraphs for sentence in paragraph]
        self.sizes = np.array([len(p) for p in paragraphs], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.group = np.repeat(np.arange(len(paragraphs)), self.sizes)
        self.batch_size, self.max_per_paragraph, self.max_words = batch_size, max_per_paragraph, max_words
        self.projection = Projection(projection)

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, rows: Sequence[int]) -> tuple[ProjectedTexts, torch.Tensor]:
        docs = [words(self.sentences[i], lowercase=False)[:self.max_words] for i in rows]
        return project_texts(self.projection, docs), torch.as_tensor(self.group[list(rows)])

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
