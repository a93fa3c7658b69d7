"""Softmax regression, the single-layer network over any feature vector, and the linear layer that lets it
(and the MLP) read sparse feature rows as they are."""

from __future__ import annotations

import torch
from torch import nn


class SparseInputLinear(nn.Linear):
    """nn.Linear that also takes a sparse COO batch (TF-IDF or count rows) without densifying it.

    A batch of 1-2-gram TF-IDF rows on 20 Newsgroups is 64 x 926,435 floats when dense, a few hundred of
    them nonzero a row: only the weight columns of the nonzero cells are read, and only they get gradient.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.layout != torch.sparse_coo:
            return super().forward(x)
        (rows, columns), values = x.indices(), x.values()
        cells = self.weight.index_select(1, columns).t() * values.unsqueeze(1)
        out = torch.zeros(x.shape[0], self.out_features, dtype=cells.dtype, device=x.device).index_add_(0, rows, cells)
        return out if self.bias is None else out + self.bias


class SoftmaxRegression(nn.Module):
    """Logits = x W^T + b; trained with cross-entropy it is multinomial logistic regression."""

    reads_words = False  # it reads a featurizer's vectors

    @classmethod
    def from_config(cls, config, n_classes: int, n_features: int) -> "SoftmaxRegression":
        """The network a ClassifierConfig describes."""
        return cls(n_features, n_classes)

    def __init__(self, n_features: int, n_classes: int):
        super().__init__()
        self.linear = SparseInputLinear(n_features, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)
