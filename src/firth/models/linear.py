"""Softmax regression: the single-layer network over any feature vector."""

from __future__ import annotations

import torch
from torch import nn


class SoftmaxRegression(nn.Module):
    """Logits = x W^T + b; trained with cross-entropy it is multinomial logistic regression."""

    reads_words = False  # it reads a featurizer's vectors

    @classmethod
    def from_config(cls, config, n_classes: int, n_features: int) -> "SoftmaxRegression":
        """The network a ClassifierConfig describes."""
        return cls(n_features, n_classes)

    def __init__(self, n_features: int, n_classes: int):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)
