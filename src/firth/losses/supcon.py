"""SupCon: the supervised contrastive loss, with paragraphs as the classes.

Every sentence i is an anchor; its positives P(i) are all other sentences of
its paragraph in the batch; with cosine similarities s and temperature tau
(Khosla et al., NeurIPS 2020, the "L_out" form):

    loss_i = -1/|P(i)| sum_{p in P(i)} log( exp(s_ip / tau) / sum_{a != i} exp(s_ia / tau) )

averaged over the anchors that have positives. Unlike InfoNCE it uses every
positive pair of the batch, as SimilarityBXENT does, but through a softmax.

    loss_fn = SupCon(temperature=0.1)
    loss = loss_fn(encoder(sentences), torch.tensor([0, 0, 0, 1, 1]))
"""

from __future__ import annotations

import torch
from torch import nn

from firth.losses.similarity_bxent import cosine_matrix, same_group


class SupCon(nn.Module):
    """Supervised contrastive loss: every other sentence of an anchor's paragraph is a positive."""

    def __init__(self, temperature: float = 0.1):
        super().__init__()
        self.temperature = temperature

    def forward(self, vectors: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
        logits = cosine_matrix(vectors) / self.temperature
        eye = torch.eye(len(groups), dtype=torch.bool, device=logits.device)
        log_prob = torch.log_softmax(logits.masked_fill(eye, -torch.inf), dim=1)
        positive = same_group(groups).bool() & ~eye
        counts = positive.sum(1)
        anchors = counts > 0
        if not anchors.any():
            return vectors.sum() * 0.0
        summed = log_prob.masked_fill(~positive, 0.0).sum(1)
        return -(summed[anchors] / counts[anchors]).mean()
