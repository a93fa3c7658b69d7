"""SimilarityBXENT: a paragraph-level skip-gram over a batch of sentence vectors.

The sentence vectors of a batch are L2-normalized and compared by cosine
similarity into a [batch, batch] matrix S. S is rescaled from [-1, 1] to
[0, 1], P = (S + 1) / 2, and trained with binary cross-entropy against the
block-diagonal target T, T[i, j] = 1 when sentences i and j come from the
same paragraph (the diagonal included):

    loss = mean_ij  -( T_ij log P_ij + (1 - T_ij) log(1 - P_ij) )

Sentences of a paragraph are pulled together and every other paragraph's
sentences in the batch act as negatives, N against N, as word2vec's negative
sampling does for words (G. Chevalier, "SGNN-Transformer sentence model
trained by the paragraph-skip-gram-like SimilarityBXENT", 2019). Options the
write-up raises: `exclude_diagonal` drops the trivial S_ii = 1 terms, and
`pos_weight` weights the (rarer) positive pairs. Called with a `scale` and a
`bias` (learned by the model), P = sigmoid(exp(scale) * S + bias) replaces
the fixed rescaling: SigLIP's sigmoid loss (Zhai et al., 2023), a
temperature that the fixed form lacks.

Use it to learn sentence vectors from unlabelled paragraphs; any batch with
at least two paragraphs of two or more sentences works.

    loss_fn = SimilarityBXENT()
    vectors = encoder(sentences)             # [batch, dim]
    groups = torch.tensor([0, 0, 1])         # paragraph of each sentence
    loss = loss_fn(vectors, groups)
    loss.backward()
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-7  # keeps log() finite where a cosine reaches exactly +-1


def same_group(groups: torch.Tensor) -> torch.Tensor:
    """The block-diagonal target: 1.0 where two items share a group."""
    return (groups[:, None] == groups[None, :]).float()


def cosine_matrix(vectors: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of every row with every row."""
    unit = F.normalize(vectors, dim=-1)
    return unit @ unit.T


class SimilarityBXENT(nn.Module):
    """Binary cross-entropy of the batch's rescaled cosine matrix against the same-paragraph target."""

    def __init__(self, exclude_diagonal: bool = False, pos_weight: float | None = None):
        super().__init__()
        self.exclude_diagonal = exclude_diagonal
        self.pos_weight = pos_weight

    def forward(self, vectors: torch.Tensor, groups: torch.Tensor, scale: torch.Tensor | None = None,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        cosines = cosine_matrix(vectors)
        target = same_group(groups)
        weight = torch.ones_like(target)
        if self.pos_weight is not None:
            weight = torch.where(target > 0, torch.full_like(weight, self.pos_weight), weight)
        if self.exclude_diagonal:
            weight = weight * (1 - torch.eye(len(groups), device=weight.device))
        if scale is None:
            probability = ((cosines + 1) / 2).clamp(EPS, 1 - EPS)
            losses = F.binary_cross_entropy(probability, target, reduction="none")
        else:
            losses = F.binary_cross_entropy_with_logits(scale.exp() * cosines + bias, target, reduction="none")
        return (losses * weight).sum() / weight.sum()
