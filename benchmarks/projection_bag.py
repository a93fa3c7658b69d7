"""How much of paragraph retrieval a bag of SGNN projections holds, with no training.

    python benchmarks/projection_bag.py

On the encoder benchmark's 1,000 held-out paragraphs (benchmarks/encoder.py),
each sentence becomes the sum of its words' unit-length float projections,
weighted uniformly or by IDF (smoothed, from the training paragraphs), for
char 1-3-grams (the projection's default) and 3-5-grams, 1,120 wide (14 bits
per hash function, the default) and 5,120 wide (64 bits); prints R@1, R@5 and
MRR of each. This is the measurement behind the encoder's `lexical` channel.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from encoder import training_paragraphs
from firth.evaluate.retrieval import heldout_split, retrieval_scores
from firth.features.projection import Projection, ProjectionConfig
from firth.text.segment import words


def bag(projection: Projection, texts: list[str], weight: Callable[[str], float]) -> np.ndarray:
    """Per text: the weighted sum of its words' unit projections (an empty text: zeros)."""
    rows = []
    for text in texts:
        tokens = words(text)
        if not tokens:
            rows.append(np.zeros(projection.dim, dtype=np.float32))
            continue
        unit = F.normalize(projection.project_words(tokens).float(), dim=1)
        weights = torch.tensor([weight(t) for t in tokens], dtype=torch.float32)
        rows.append((weights[:, None] * unit).sum(0).numpy())
    return np.stack(rows)


def main() -> None:
    split = heldout_split()
    paragraphs = training_paragraphs(split)
    df = Counter(w for text in paragraphs for w in set(words(text)))
    idf = lambda w: math.log((len(paragraphs) + 1) / (df.get(w, 0) + 1)) + 1  # noqa: E731
    for ngram_range, bits in (((1, 3), 14), ((3, 5), 14), ((3, 5), 64)):
        projection = Projection(ProjectionConfig(mode="float", ngram_range=ngram_range, bits=bits))
        for name, weight in (("uniform", lambda w: 1.0), ("idf", idf)):
            scores = retrieval_scores(lambda texts: bag(projection, texts, weight), split.queries, split.targets)
            print(f"{ngram_range[0]}-{ngram_range[1]}-grams, {projection.dim:,} wide, {name:7}: "
                  f"R@1 {scores['R1']:.3f}  R@5 {scores['R5']:.3f}  MRR {scores['MRR']:.3f}", flush=True)


if __name__ == "__main__":
    main()
