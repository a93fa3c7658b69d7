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
    """Mean loss, and accuracy and macro-F1 of the class logits, of a model over a dataset indexed by lists of rows.

    `primary_metric` is "loss" (lower is better), "acc" or "macro_f1" (higher
    is better); `accuracy=False` leaves accuracy and macro-F1 out, for outputs
    that are not class logits. Macro-F1 averages F1 over the classes present
    in the data's labels or predictions (scikit-learn's f1_score, average="macro").
    """

    GREATER_IS_BETTER = {"loss": False, "acc": True, "macro_f1": True}

    def __init__(self, data, primary_metric: str = "loss", loss_fn: nn.Module | None = None,
                 batch_size: int = 256, accuracy: bool = True):
        if primary_metric not in self.GREATER_IS_BETTER or (primary_metric != "loss" and not accuracy):
            raise ValueError(f"primary_metric must be one of {', '.join(self.GREATER_IS_BETTER)}, "
                             "and acc or macro_f1 only with accuracy")
        self.data, self.batch_size, self.accuracy = data, batch_size, accuracy
        self.primary_metric = primary_metric
        self.greater_is_better = self.GREATER_IS_BETTER[primary_metric]
        self.loss_fn = loss_fn or nn.CrossEntropyLoss()

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> dict[str, float]:
        model.eval()
        device = next(model.parameters()).device
        total, seen, truth, guesses = 0.0, 0, [], []
        for rows in _row_batches(len(self.data), self.batch_size):
            x, y = self.data[rows]
            y = y.to(device)
            logits = model(to_device(x, device))
            total += self.loss_fn(logits, y).item() * len(y)
            if self.accuracy:
                truth.append(y.cpu())
                guesses.append(logits.argmax(1).cpu())
            seen += len(y)
        scores = {"loss": total / max(seen, 1)}
        if self.accuracy:
            truth, guesses = (torch.cat(t) if t else torch.zeros(0, dtype=torch.long) for t in (truth, guesses))
            scores.update(acc=(truth == guesses).float().mean().item() if seen else 0.0,
                          macro_f1=macro_f1(truth, guesses))
        return scores


def macro_f1(truth: torch.Tensor, guesses: torch.Tensor) -> float:
    """F1 averaged over the classes present in `truth` or `guesses` (scikit-learn's average="macro")."""
    classes = torch.unique(torch.cat([truth, guesses]))
    if not len(classes):
        return 0.0
    hits = torch.stack([((guesses == c) & (truth == c)).sum() for c in classes]).float()
    predicted = torch.stack([(guesses == c).sum() for c in classes]).float()
    actual = torch.stack([(truth == c).sum() for c in classes]).float()
    return (2 * hits / (predicted + actual)).mean().item()


def _row_batches(n: int, size: int) -> list[Sequence[int]]:
    return [list(range(start, min(start + size, n))) for start in range(0, n, size)]
