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

import numpy as np
import torch
from torch.utils.data import Dataset

from firth.data import paragraphs
from firth.errors import FirthError
from firth.features.projection import Projection, ProjectionConfig, ProjectedTexts, project_texts
from firth.text.segment import usable_sentences, words


def read_paragraph_sentences(sources: Iterable[str], min_words: int = 3,
                             exclude: frozenset[tuple[str, int]] | set[tuple[str, int]] = frozenset()
                             ) -> list[list[str]]:
    """Each usable paragraph as its list of sentences.

    A sentence counts when it has at least `min_words` words; a paragraph
    when it has at least two such sentences (one alone teaches nothing).
    `exclude` holds (source, paragraph index) keys to leave out, such as a
    benchmark's held-out paragraphs.
    """
    kept = []
    for source in sources:
        for index, paragraph in enumerate(paragraphs(source)):
            if (source, index) in exclude:
                continue
            sentences = usable_sentences(paragraph.text, min_words)
            if len(sentences) >= 2:
                kept.append(sentences)
    return kept


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
