"""The sentence encoder's training objective: its sentence loss on both channels, an optional word-level head,
and optional distillation from a teacher's vectors.

`output` is the encoder's EncoderOutput (firth.models.encoder): the sentence
vectors, the Transformer channel alone (beside a lexical one), and the last
layer's word vectors with their mask. `targets` is the batch's
SentenceTargets (firth.train.paragraphs): paragraph ids, and teacher vectors
when distilling.

    objective = EncoderObjective(make_loss("infonce"), word_weight=0.0)
    loss = objective(net(batch), targets)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn

from firth.errors import FirthError
from firth.losses.distill import Distillation
from firth.losses.similarity_bxent import SimilarityBXENT

if TYPE_CHECKING:  # the targets come from the training side (train/), which sits above losses/
    from firth.train.paragraphs import SentenceTargets


class EncoderObjective(nn.Module):
    """The sentence loss, the same loss on the Transformer channel alone, and an optional word-level head.

    With a lexical channel the sentence vector mixes the fixed IDF bag with the
    Transformer's pooled vector; trained only through that mix, the Transformer
    learned nothing it could retrieve with on its own when we tried it,
    so the loss on its vector alone is added.
    The word-level head (with `word_weight` > 0) asks the words of one paragraph
    to be closer to each other than to other paragraphs' words:
    `words_per_sentence` input-layer word vectors of each sentence (the Linear
    after the projection, evenly spaced over its real words) join one
    SimilarityBXENT matrix, and
    loss = (1 - w) * sentence losses + w * word loss, w = word_weight. With
    `word_fade`, the 2018 write-up's curriculum, w falls linearly from
    word_weight to 0 over training (the Trainer calls `set_progress` before
    each step): the low-level head leads at first, the sentence losses later.
    With a `distillation` (firth.losses.distill) and teacher vectors in the
    targets, that loss becomes (1 - distill_weight) * loss + distill_weight *
    the distillation of the sentence vectors (each rank's own rows).
    """

    def __init__(self, sentence_loss: nn.Module, word_weight: float = 0.0, words_per_sentence: int = 4,
                 gather: Callable[[torch.Tensor], torch.Tensor] | None = None, ranks: int = 1,
                 distillation: Distillation | None = None, distill_weight: float = 0.5, word_fade: bool = False):
        super().__init__()
        for name, weight in (("word_weight", word_weight), ("distill_weight", distill_weight)):
            if not 0 <= weight <= 1:
                raise FirthError(f"{name} must be between 0 and 1, got {weight}.")
        self.sentence_loss = sentence_loss
        self.distillation, self.distill_weight = distillation, distill_weight
        self.word_weight, self.word_fade, self.progress = word_weight, word_fade, 0.0
        self.words_per_sentence = words_per_sentence
        self.word_loss = SimilarityBXENT()
        self.gather = gather  # under DDP: every rank's rows (firth.train.distributed.gather), so that the
        self.gathers = gather is not None  # negatives are the whole global batch's; the Trainer reads this
        self.ranks = ranks

    def set_progress(self, fraction: float) -> None:
        """Where training is, from 0 to 1 (steps taken over all steps): the curriculum's clock."""
        self.progress = min(max(fraction, 0.0), 1.0)

    @property
    def current_word_weight(self) -> float:
        return self.word_weight * (1 - self.progress) if self.word_fade else self.word_weight

    def forward(self, output, targets: SentenceTargets) -> torch.Tensor:
        loss = self._contrastive(output, targets.groups)
        if self.distillation is None or targets.teacher is None:
            return loss
        distilled = self.distillation(output.sentences, targets.teacher)  # this rank's own rows
        if self.gathers:  # the Trainer multiplies a gathered loss by the ranks; a local term must not be
            distilled = distilled / self.ranks
        return (1 - self.distill_weight) * loss + self.distill_weight * distilled

    def _contrastive(self, output, groups: torch.Tensor) -> torch.Tensor:
        """The sentence losses and the word-level head: what the paragraphs teach."""
        every = self.gather or (lambda x: x)
        all_groups = every(groups)
        logit = {} if getattr(output, "logit", None) is None else dict(zip(("scale", "bias"), output.logit))
        if self.gathers:  # every rank computes the whole loss: each gives 1/ranks of the logit's gradient
            logit = {k: v / self.ranks + v.detach() * (1 - 1 / self.ranks) for k, v in logit.items()}
        loss = self.sentence_loss(every(output.sentences), all_groups, **logit)
        if output.transformer is not None:
            loss = loss + self.sentence_loss(every(output.transformer), all_groups, **logit)
        weight = self.current_word_weight
        if not weight:
            return loss
        return (1 - weight) * loss + weight * self._words_loss(output, groups, every)

    def _words_loss(self, output, groups: torch.Tensor, every: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        k = self.words_per_sentence
        last = (output.mask.sum(1) - 1).clamp(min=0)
        positions = (torch.arange(k, device=last.device)[None, :] * last[:, None] / max(k - 1, 1)).round().long()
        picked = output.words.gather(1, positions[:, :, None].expand(-1, -1, output.words.shape[-1]))
        return self.word_loss(every(picked.reshape(-1, picked.shape[-1])), every(groups.repeat_interleave(k)))
