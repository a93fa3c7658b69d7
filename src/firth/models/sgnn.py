"""The SGNN classifier: projection → trainable dense layers per word → pooling → softmax.

Ravi & Kozareva (EMNLP 2018) refine the fixed hashed word projections with
trainable layers. Here each word's projection goes through the same dense
layers (Linear, then ReLU → Dropout → Linear for each further hidden size),
the word vectors are pooled over the text (mean, max, both concatenated, or
attention with a learned query, all padding-masked), and ReLU → Dropout → Linear gives the
logits. Inputs are tokenized texts (lists of words); each batch's distinct
words are projected once.

With one word layer and mean pooling the word layer is linear before the
pooling, so mean(W p_i) = W mean(p_i): in training the projections are averaged
first and the layer applied once per text, which is exact and far cheaper. In
inference a word's refined vector depends on the word alone (dropout is off), so
each is computed once and kept (firth.models.word_cache), as fastText keeps a
table of word vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from firth.config import PROJECTION_CACHE, ProjectionConfig, projection_config
from firth.features.projection import Projection, project_texts
from firth.models.encoder import pad
from firth.models.word_cache import WordVectors
from firth.registry import SGNN_POOLINGS, check_choice


class SGNNClassifierNet(nn.Module):
    """The SGNN classifier on tokenized texts: a projection, dense word layers, pooling, a softmax head."""

    reads_words = True  # it reads the words themselves, through its own projection

    @classmethod
    def from_config(cls, config, n_classes: int, n_features: int | None = None) -> "SGNNClassifierNet":
        """The network a ClassifierConfig describes (its feature_params are the projection's)."""
        return cls(n_classes, projection_config(config.feature_params), tuple(config.hidden), config.dropout,
                   config.pooling, config.batch_norm)

    def __init__(self, n_classes: int, projection: ProjectionConfig | None = None,
                 hidden: tuple[int, ...] = (256,), dropout: float = 0.2, pooling: str = "mean",
                 batch_norm: bool = True):
        super().__init__()
        check_choice("pooling", pooling, SGNN_POOLINGS)
        self.projection = Projection(projection or ProjectionConfig())
        layers: list[nn.Module] = [nn.Linear(self.projection.dim, hidden[0])]
        for before, size in zip(hidden, hidden[1:]):
            layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(before, size)]
        self.word_layers = nn.Sequential(*layers)
        self.pooling = pooling
        self.attention = nn.Linear(hidden[-1], 1) if pooling == "attention" else None
        pooled = 2 * hidden[-1] if pooling == "meanmax" else hidden[-1]
        self.head = nn.Sequential(nn.BatchNorm1d(pooled) if batch_norm else nn.Identity(), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(pooled, n_classes))
        self.word_cache = WordVectors(PROJECTION_CACHE)

    def forward(self, docs: Sequence[Sequence[str]]) -> torch.Tensor:
        """Logits [len(docs), n_classes] for tokenized texts."""
        if not (self.training or torch.is_grad_enabled()):  # inference: each word's refined vector is kept
            table, flat = self.word_cache.lookup(self.projection, self.word_layers, docs)
            return self._classify(table, flat, torch.tensor([len(doc) for doc in docs], device=flat.device))
        batch = project_texts(self.projection, docs, keys=False)
        projected, flat, lengths = batch.vectors.to(torch.float32), batch.ids, batch.lengths
        if self.pooling == "mean" and len(self.word_layers) == 1:
            mean = F.embedding_bag(flat, projected, _offsets(lengths), mode="mean")
            has_words = (lengths > 0)[:, None]  # a text with no words pools to zeros, bias included
            return self.head(self.word_layers(mean) * has_words)
        if self.pooling == "attention":  # per token, so no backward sums into shared word rows (nondeterministic)
            return self.head(self._attend(self.word_layers(projected[flat]), lengths))
        return self._classify(self.word_layers(projected), flat, lengths)

    def _classify(self, refined: torch.Tensor, flat: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits from the refined vectors of words (`refined`), each text's rows of them (`flat`, text after
        text) and the texts' lengths: pooling over each text's bag of rows, no padding ever materialized."""
        if self.pooling == "attention":
            return self.head(self._attend(refined[flat], lengths))
        offsets = _offsets(lengths)
        mean = F.embedding_bag(flat, refined, offsets, mode="mean")  # empty bags give zeros
        if self.pooling == "mean":
            return self.head(mean)
        peak = F.embedding_bag(flat, refined, offsets, mode="max")
        return self.head(torch.cat([mean, peak], dim=1) if self.pooling == "meanmax" else peak)

    def _attend(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Attention pooling with a learned query over each text's word vectors (zeros for no words).

        `tokens` holds every text's word vectors, one text after another.
        """
        width = int(lengths.max()) if len(lengths) else 0
        mask = torch.arange(width, device=tokens.device)[None, :] < lengths[:, None]
        vectors = pad(tokens, mask)
        scores = self.attention(vectors).masked_fill(~mask[:, :, None], -torch.inf)
        weights = torch.softmax(scores, dim=1).nan_to_num(0.0)
        return (weights * vectors).sum(1)


def _offsets(lengths: torch.Tensor) -> torch.Tensor:
    """Start of each bag in a flat list of bags of the given lengths."""
    return torch.cumsum(lengths, 0) - lengths
