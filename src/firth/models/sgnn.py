"""The SGNN classifier: projection → trainable dense layers per word → pooling → softmax.

Ravi & Kozareva (EMNLP 2018) refine the fixed hashed word projections with
trainable layers; here each word's projection goes through the same small
MLP, the word vectors are pooled over the text (mean, max, or attention with
a learned query, all padding-masked) and a linear layer gives the logits.
Inputs are tokenized texts (lists of words); each batch's distinct words are
projected and refined once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from firth.errors import FirthError
from firth.features.projection import Projection, ProjectionConfig

POOLINGS = ("mean", "max", "attention")


class SGNNClassifierNet(nn.Module):
    def __init__(self, n_classes: int, projection: ProjectionConfig | None = None,
                 hidden: tuple[int, ...] = (256,), dropout: float = 0.2, pooling: str = "mean"):
        super().__init__()
        if pooling not in POOLINGS:
            raise FirthError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}.")
        self.projection = Projection(projection or ProjectionConfig())
        layers: list[nn.Module] = []
        width = self.projection.dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.word_layers = nn.Sequential(*layers)
        self.pooling = pooling
        self.attention = nn.Linear(width, 1) if pooling == "attention" else None
        self.head = nn.Linear(width, n_classes)

    def forward(self, docs: Sequence[Sequence[str]]) -> torch.Tensor:
        """Logits [len(docs), n_classes] for tokenized texts."""
        words, index, mask = self._batch_vocabulary(docs)
        refined = self.word_layers(self.projection.project_words(words).to(torch.float32))
        # one zero row stands for padding
        refined = torch.cat([refined, refined.new_zeros(1, refined.shape[1])])
        return self.head(self._pool(refined[index], mask))

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
        device = self.head.weight.device
        index_t = torch.from_numpy(index).to(device)
        return list(slot), index_t, index_t < len(slot)

    def _pool(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Masked pooling of [batch, len, width] word vectors; a text with no words pools to zeros."""
        keep = mask[:, :, None]
        if self.pooling == "mean":
            return (vectors * keep).sum(1) / keep.sum(1).clamp(min=1)
        if self.pooling == "max":
            pooled = vectors.masked_fill(~keep, -torch.inf).amax(1) if vectors.shape[1] else vectors.sum(1)
            return pooled.nan_to_num(neginf=0.0)
        scores = self.attention(vectors).masked_fill(~keep, -torch.inf)
        weights = torch.softmax(scores, dim=1).nan_to_num(0.0)
        return (weights * vectors).sum(1)
