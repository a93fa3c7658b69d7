"""A multi-layer perceptron over any feature vector: Linear → BatchNorm → ReLU → Dropout, repeated."""

from __future__ import annotations

import torch
from torch import nn

from firth.models.linear import SparseInputLinear


class MLP(nn.Module):
    """Hidden layers of the given sizes, then a linear layer to the class logits; reads dense or sparse COO rows."""

    reads_words = False  # it reads a featurizer's vectors

    @classmethod
    def from_config(cls, config, n_classes: int, n_features: int) -> "MLP":
        """The network a ClassifierConfig describes."""
        return cls(n_features, n_classes, tuple(config.hidden), config.dropout, config.batch_norm)

    def __init__(self, n_features: int, n_classes: int, hidden: tuple[int, ...] = (256,),
                 dropout: float = 0.2, batch_norm: bool = True):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden:
            layers.append((SparseInputLinear if not layers else nn.Linear)(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers += [nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
