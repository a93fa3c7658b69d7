"""The SGNN classifier: projection → trainable dense layers per word → pooling → softmax.

Ravi & Kozareva (EMNLP 2018) refine the fixed hashed word projections with
trainable layers. Here each word's projection goes through the same dense
layers (Linear, then ReLU → Dropout → Linear for each further hidden size),
the word vectors are pooled over the text (mean, max, both concatenated, or
attention with a learned query, all padding-masked), and ReLU → Dropout → Linear gives the
logits. Inputs are tokenized texts (lists of words); each batch's distinct
words are projected once.

With one word layer and mean pooling the word layer is linear before the
pooling, so mean(W p_i) = W mean(p_i): the projections are averaged first and
the layer applied once per text, which is exact and far cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from firth.errors import FirthError
from firth.features.projection import Projection, ProjectionConfig

POOLINGS = ("mean", "max", "meanmax", "attention")


class SGNNClassifierNet(nn.Module):
    def __init__(self, n_classes: int, projection: ProjectionConfig | None = None,
                 hidden: tuple[int, ...] = (256,), dropout: float = 0.2, pooling: str = "mean"):
        super().__init__()
        if pooling not in POOLINGS:
            raise FirthError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}.")
        self.projection = Projection(projection or ProjectionConfig())
        layers: list[nn.Module] = [nn.Linear(self.projection.dim, hidden[0])]
        for before, size in zip(hidden, hidden[1:]):
            layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(before, size)]
        self.word_layers = nn.Sequential(*layers)
        self.pooling = pooling
        self.attention = nn.Linear(hidden[-1], 1) if pooling == "attention" else None
        pooled = 2 * hidden[-1] if pooling == "meanmax" else hidden[-1]
        self.head = nn.Sequential(nn.BatchNorm1d(pooled), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(pooled, n_classes))

    def forward(self, docs: Sequence[Sequence[str]]) -> torch.Tensor:
        """Logits [len(docs), n_classes] for tokenized texts."""
        words, index, mask = self._batch_vocabulary(docs)
        projected = self.projection.project_words(words).to(torch.float32)
        if self.pooling == "mean" and len(self.word_layers) == 1:
            has_words = mask.any(1, keepdim=True)  # a text with no words pools to zeros, bias included
            return self.head(self.word_layers(self._mean_projection(projected, index, mask)) * has_words)
        refined = self.word_layers(projected)
        refined = torch.cat([refined, refined.new_zeros(1, refined.shape[1])])  # the padding row
        return self.head(self._pool(refined[index], mask))

    @staticmethod
    def _mean_projection(projected: torch.Tensor, index: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of each text's word projections (zeros for a text with no words)."""
        lengths = mask.sum(1)
        sums = F.embedding_bag(index[mask], projected, _offsets(lengths), mode="sum")
        return sums / lengths.clamp(min=1)[:, None]

    def _batch_vocabulary(self, docs: Sequence[Sequence[str]]) -> tuple[list[str], torch.Tensor, torch.Tensor]:
        """The batch's distinct words, and [batch, max_len] indices into them (padding: len(words))."""
        slot: dict[str, int] = {}
        for doc in docs:
            for word in doc:
                slot.setdefault(word, len(slot))
        lengths = [len(doc) for doc in docs]
        index = np.full((len(docs), max(lengths, default=0)), len(slot), dtype=np.int64)
        for row, doc in enumerate(docs):
            index[row, : len(doc)] = [slot[w] for w in doc]
        index_t = torch.from_numpy(index).to(self.projection.device)
        return list(slot), index_t, index_t < len(slot)

    def _pool(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Masked pooling of [batch, len, width] word vectors; a text with no words pools to zeros."""
        keep = mask[:, :, None]
        mean = (vectors * keep).sum(1) / keep.sum(1).clamp(min=1)
        if self.pooling == "mean":
            return mean
        if self.pooling in ("max", "meanmax"):
            pooled = vectors.masked_fill(~keep, -torch.inf).amax(1) if vectors.shape[1] else vectors.sum(1)
            pooled = pooled.nan_to_num(neginf=0.0)
            return torch.cat([mean, pooled], dim=1) if self.pooling == "meanmax" else pooled
        scores = self.attention(vectors).masked_fill(~keep, -torch.inf)
        weights = torch.softmax(scores, dim=1).nan_to_num(0.0)
        return (weights * vectors).sum(1)


def _offsets(lengths: torch.Tensor) -> torch.Tensor:
    """Start of each bag in a flat list of bags of the given lengths."""
    return torch.cumsum(lengths, 0) - lengths
