"""InfoNCE: the in-batch softmax contrastive loss (multiple negatives ranking).

Each sentence i that has another sentence of its paragraph in the batch is
an anchor; its positive p(i) is the next sentence of the same paragraph in
batch order (cyclically), and every other sentence of the batch is a
candidate. With cosine similarities s and temperature tau:

    loss_i = -log( exp(s_i,p(i) / tau) / sum_{j != i} exp(s_ij / tau) )

averaged over the anchors (van den Oord et al., 2018; the form
sentence-transformers calls MultipleNegativesRankingLoss). Sentences of the
same paragraph other than p(i) stay in the denominator: with one positive per
anchor they count as negatives, as in the usual pair-based batches.

    loss_fn = InfoNCE(temperature=0.05)
    loss = loss_fn(encoder(sentences), torch.tensor([0, 0, 1, 1]))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from firth.losses.similarity_bxent import cosine_matrix


def next_in_group(groups: torch.Tensor) -> torch.Tensor:
    """For each item, the index of the next item of its group (cyclically); itself when alone."""
    n = len(groups)
    partner = torch.arange(n, device=groups.device)
    for group in torch.unique(groups):
        members = torch.nonzero(groups == group).flatten()
        partner[members] = members.roll(-1)
    return partner


class InfoNCE(nn.Module):
    """In-batch softmax contrastive loss: each anchor must pick its paragraph's next sentence."""

    def __init__(self, temperature: float = 0.05):
        super().__init__()
        self.temperature = temperature

    def forward(self, vectors: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
        logits = cosine_matrix(vectors) / self.temperature
        eye = torch.eye(len(groups), dtype=torch.bool, device=logits.device)
        logits = logits.masked_fill(eye, -torch.inf)  # an anchor is never its own candidate
        partner = next_in_group(groups)
        anchors = partner != torch.arange(len(groups), device=groups.device)
        if not anchors.any():
            return vectors.sum() * 0.0  # no positive pair in the batch: nothing to learn
        return F.cross_entropy(logits[anchors], partner[anchors])
