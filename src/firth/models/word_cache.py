"""Word vectors kept across calls at inference: a word's projection through the layers that read it alone.

Where a network refines each word's projection on its own before anything mixes words (the static
encoder's Linear, the SGNN classifier's word layers), a word's refined vector depends on the word and
the weights only. Projecting a batch's distinct words (1,120 to 4,480 cells each) and multiplying them
again is then most of the time of a prediction; kept, a repeated word costs a lookup, as in fastText,
whose word vectors are a table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch
from torch import nn

from firth.features.projection import Projection, project_texts


def fingerprint(module: nn.Module) -> tuple:
    """What tells a module's weights apart after any change: where they lie, and sums of their values and
    squares. (Their autograd version counter does not: fused Adam updates them without counting.)"""
    params = list(module.parameters())
    sums = torch.stack([s for p in params for s in (p.detach().sum(), p.detach().square().sum())])
    return (params[0].data_ptr(), str(params[0].device), *sums.tolist())


class WordVectors:
    """Each word's `layers(reshape(projection))`, kept across calls in eval mode.

    Each distinct word is projected and refined once. The cache starts over when
    the layers change (training steps, loading, a move) and when it holds
    `capacity` words, so memory stays bounded however much text goes through.
    """

    def __init__(self, capacity: int = 50_000):
        self.capacity, self.rows, self.size = capacity, {}, 0
        self.table, self.weights = torch.zeros(0), None

    def lookup(self, projection: Projection, layers: nn.Module, docs: Sequence[Sequence[str]],
               reshape: Callable[[torch.Tensor], torch.Tensor] = lambda vectors: vectors,
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """(the table of word vectors, the row of every word of `docs` in it, in order)."""
        weight = next(layers.parameters())
        version = fingerprint(layers)
        if version != self.weights or len(self.rows) >= self.capacity:
            self.rows, self.size, self.weights = {}, 0, version
            self.table = weight.new_zeros(0, _width(layers))
        ids = [self.rows.setdefault(word, len(self.rows)) for doc in docs for word in doc]
        new = list(itertools.islice(self.rows, self.size, None))  # the words first seen now, in order
        if new:
            projected = project_texts(projection, [new], keys=False)
            vectors = layers(reshape(projected.vectors.to(weight.device, weight.dtype)))
            if self.size + len(new) > len(self.table):
                grown = weight.new_zeros(max(2 * len(self.table), self.size + len(new), 1024), self.table.shape[1])
                grown[:self.size] = self.table[:self.size]
                self.table = grown
            self.table[self.size:self.size + len(new)] = vectors[projected.ids.to(weight.device)]
            self.size += len(new)
        return self.table, torch.tensor(ids, dtype=torch.long, device=weight.device)


def _width(layers: nn.Module) -> int:
    """How wide the word vectors `layers` give are: its last Linear's output."""
    return [m for m in layers.modules() if isinstance(m, nn.Linear)][-1].out_features
