"""Hashed IDF: the inverse document frequency of words, kept without a vocabulary.

A word is known by its 64-bit key (`word_keys`) alone, counted in a count-min
sketch: each of `rows` seeded hash functions maps the key to one of `buckets`
counters, and a word's document frequency is the smallest of its counters
(a collision can only add to a count). What is stored is each counter's IDF,
scikit-learn's smooth form log((1 + n) / (1 + df)) + 1: a fixed-size table
of numbers, no strings, whatever the vocabulary (HashingVectorizer followed
by TfidfTransformer, per word rather than per bucket). Before `fit` every
IDF is 1, so it weighs nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from firth.features.projection import seeded_salts, splitmix64, word_keys


class HashedIDF(nn.Module):
    """IDF per word, by hash: `fit` counts documents (lists of words), calling it with word keys gives their IDF."""

    def __init__(self, buckets: int = 1 << 17, rows: int = 2, seed: int = 0):
        super().__init__()
        self.buckets = buckets
        self.salts = seeded_salts(seed, rows)
        self.register_buffer("table", torch.ones(rows, buckets))

    def slots(self, keys: torch.Tensor) -> torch.Tensor:
        """Each key's counter in each row, [rows, len(keys)]."""
        mixed = splitmix64(keys.cpu().numpy().view(np.uint64)[None, :] ^ self.salts[:, None])
        return torch.from_numpy((mixed % np.uint64(self.buckets)).astype(np.int64)).to(self.table.device)

    def fit(self, documents: Iterable[Iterable[str]]) -> "HashedIDF":
        """Count in how many documents each (normalized) word occurs, and keep the IDFs."""
        df: Counter[str] = Counter()
        n = 0
        for document in documents:
            df.update(set(document))
            n += 1
        keys = torch.from_numpy(word_keys(list(df)).view(np.int64))
        counts = torch.zeros(self.table.shape, dtype=torch.float64, device=self.table.device)
        slots = self.slots(keys)
        counts.scatter_add_(1, slots, torch.tensor(list(df.values()), dtype=torch.float64,
                                                   device=counts.device).expand_as(slots).contiguous())
        self.table = (torch.log((1 + n) / (1 + counts.clamp(max=n))) + 1).float()  # collisions never pass n
        return self

    def forward(self, keys: torch.Tensor) -> torch.Tensor:
        """The IDF of each key: the largest over the rows, that of the smallest count."""
        return self.table.gather(1, self.slots(keys)).amax(0)
