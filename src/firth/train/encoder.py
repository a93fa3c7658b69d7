"""Training a sentence encoder on paragraph corpora with firth's Trainer.

`train_encoder` reads the corpora into paragraphs of sentences, holds a few
paragraphs out for validation by paragraph retrieval (one sentence the
query, another the target, among all the held-out targets), and trains the
encoder with the chosen loss on batches of whole paragraphs, prepared in
DataLoader workers. The Trainer brings the schedule (Noam by default),
checkpoints and resume, early stopping on validation MRR, tokens/second and
the share of time spent waiting for data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from firth.errors import FirthError
from firth.evaluate.retrieval import retrieval_scores
from firth.features.projection import ProjectionConfig
from firth.losses import make_loss
from firth.losses.similarity_bxent import SimilarityBXENT
from firth.models.encoder import EncoderConfig, EncoderOutput, SentenceEncoder, SentenceEncoderNet
from firth.train.paragraphs import ParagraphBatches, read_paragraph_sentences
from firth.train.trainer import TrainConfig, Trainer


class EncoderObjective(nn.Module):
    """The sentence loss, the same loss on the Transformer channel alone, and an optional word-level head.

    With a lexical channel the sentence vector mixes the fixed IDF bag with the
    Transformer's pooled vector; trained only through that mix, the Transformer
    learns nothing it can retrieve with on its own (R@1 0.005 after an epoch),
    so the loss on its vector alone is added.
    The word-level head (with `word_weight` > 0) asks the words of one paragraph
    to be closer to each other than to other paragraphs' words:
    `words_per_sentence` word vectors of each sentence (evenly spaced over its
    real words) join one SimilarityBXENT matrix, and
    loss = (1 - word_weight) * sentence losses + word_weight * word loss.
    """

    def __init__(self, sentence_loss: nn.Module, word_weight: float = 0.0, words_per_sentence: int = 4):
        super().__init__()
        if not 0 <= word_weight <= 1:
            raise FirthError(f"word_weight must be between 0 and 1, got {word_weight}.")
        self.sentence_loss = sentence_loss
        self.word_weight = word_weight
        self.words_per_sentence = words_per_sentence
        self.word_loss = SimilarityBXENT()

    def forward(self, output: EncoderOutput, groups: torch.Tensor) -> torch.Tensor:
        loss = self.sentence_loss(output.sentences, groups)
        if output.transformer is not None:
            loss = loss + self.sentence_loss(output.transformer, groups)
        if not self.word_weight:
            return loss
        return (1 - self.word_weight) * loss + self.word_weight * self._words_loss(output, groups)

    def _words_loss(self, output: EncoderOutput, groups: torch.Tensor) -> torch.Tensor:
        k = self.words_per_sentence
        last = (output.mask.sum(1) - 1).clamp(min=0)
        positions = (torch.arange(k, device=last.device)[None, :] * last[:, None] / max(k - 1, 1)).round().long()
        picked = output.words.gather(1, positions[:, :, None].expand(-1, -1, output.words.shape[-1]))
        return self.word_loss(picked.reshape(-1, picked.shape[-1]), groups.repeat_interleave(k))


class RetrievalValidation:
    """Paragraph retrieval on held-out paragraphs: the first sentence finds the second among all seconds."""

    def __init__(self, paragraphs: Sequence[Sequence[str]], batch_size: int = 128):
        self.queries = [p[0] for p in paragraphs]
        self.targets = [p[1] for p in paragraphs]
        self.batch_size = batch_size

    def __call__(self, net: SentenceEncoderNet) -> dict:
        encoder = SentenceEncoder(net=net)
        return retrieval_scores(lambda texts: encoder.encode(texts, batch_size=self.batch_size),
                                self.queries, self.targets)


def train_encoder(sources: Sequence[str], config: EncoderConfig, train: TrainConfig, loss: str = "infonce",
                  loss_options: dict | None = None, word_weight: float = 0.0, max_per_paragraph: int = 2,
                  val_paragraphs: int = 200, exclude: frozenset[tuple[str, int]] = frozenset(),
                  out_dir: str | Path | None = None, resume: bool = False) -> tuple[SentenceEncoder, list[dict]]:
    """Train a sentence encoder on the paragraphs of `sources` (registry corpora or files)."""
    projection = ProjectionConfig(**config.projection)  # a bad setting fails before the corpus is read
    objective = EncoderObjective(make_loss(loss, **(loss_options or {})), word_weight)
    corpus = read_paragraph_sentences(sources, exclude=exclude)
    if len(corpus) < val_paragraphs + 2:
        raise FirthError(f"the corpus has {len(corpus)} paragraphs of two or more sentences; "
                         f"training needs more than {val_paragraphs + 1} (validation takes {val_paragraphs}).")
    order = np.random.default_rng(train.seed).permutation(len(corpus))
    held = set(order[:val_paragraphs].tolist())
    training = [p for i, p in enumerate(corpus) if i not in held]
    data = ParagraphBatches(training, projection, train.batch_size, max_per_paragraph, config.max_words)
    validation = RetrievalValidation([corpus[i] for i in sorted(held)]) if val_paragraphs else None
    torch.manual_seed(train.seed)
    encoder = SentenceEncoder(config)
    encoder.net.fit_idf(training)
    trainer = Trainer(encoder.net, train, out_dir=out_dir, loss_fn=objective, classifier=False)
    history = trainer.fit(data, validation, resume=resume)
    encoder.net = trainer.model.cpu().eval()
    return encoder, history
