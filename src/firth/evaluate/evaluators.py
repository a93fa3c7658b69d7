"""Evaluators: score a model on held-out data and say which score matters and which way is better.

As sentence-transformers' SentenceEvaluator does: calling an evaluator with a
model returns a dict of metrics; `primary_metric` names the one that early
stopping follows and `greater_is_better` its direction, so the Trainer never
guesses from a metric's name.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Evaluator:
    """Base class: `evaluator(model) -> {metric: value}`, with `primary_metric` among the metrics."""

    primary_metric: str
    greater_is_better: bool

    def __call__(self, model: nn.Module) -> dict[str, float]:
        raise NotImplementedError


def to_device(x, device: torch.device):
    """Move a batch's inputs to `device` when they can move (tensors, ProjectedTexts); lists of words stay."""
    return x.to(device) if hasattr(x, "to") else x


class LossEvaluator(Evaluator):
    """Mean loss, and accuracy of the class logits, of a model over a dataset indexed by lists of rows.

    `primary_metric` is "loss" (lower is better) or "acc" (higher is better);
    `accuracy=False` leaves accuracy out, for outputs that are not class logits.
    """

    GREATER_IS_BETTER = {"loss": False, "acc": True}

    def __init__(self, data, primary_metric: str = "loss", loss_fn: nn.Module | None = None,
                 batch_size: int = 256, accuracy: bool = True):
        if primary_metric not in self.GREATER_IS_BETTER or (primary_metric == "acc" and not accuracy):
            raise ValueError(f"primary_metric must be one of {', '.join(self.GREATER_IS_BETTER)}, "
                             "and acc only with accuracy")
        self.data, self.batch_size, self.accuracy = data, batch_size, accuracy
        self.primary_metric = primary_metric
        self.greater_is_better = self.GREATER_IS_BETTER[primary_metric]
        self.loss_fn = loss_fn or nn.CrossEntropyLoss()

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> dict[str, float]:
        model.eval()
        device = next(model.parameters()).device
        total, correct, seen = 0.0, 0, 0
        for rows in _row_batches(len(self.data), self.batch_size):
            x, y = self.data[rows]
            y = y.to(device)
            logits = model(to_device(x, device))
            total += self.loss_fn(logits, y).item() * len(y)
            if self.accuracy:
                correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
        return {"loss": total / max(seen, 1), **({"acc": correct / max(seen, 1)} if self.accuracy else {})}


def _row_batches(n: int, size: int) -> list[Sequence[int]]:
    return [list(range(start, min(start + size, n))) for start in range(0, n, size)]
