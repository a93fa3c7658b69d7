"""Fixed, library-independent train/test splits.

Each item's place is decided by the SHA-256 of `"{seed}:{index}"`, so the
split depends only on the seed and the items' order: it is the same on every
machine and with every version of numpy or scikit-learn.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Sequence


def _rank(seed: int, index: int) -> bytes:
    return hashlib.sha256(f"{seed}:{index}".encode()).digest()


def stratified_split(
    labels: Sequence[Hashable], test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Return sorted (train, test) index lists with `test_fraction` of each class in test.

    Within each class the items are ordered by `sha256(f"{seed}:{index}")` and
    the first `round(n * test_fraction)` go to test.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}.")
    by_label: dict[Hashable, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    train: list[int] = []
    test: list[int] = []
    for indices in by_label.values():
        ordered = sorted(indices, key=lambda i: _rank(seed, i))
        n_test = round(len(indices) * test_fraction)
        test.extend(ordered[:n_test])
        train.extend(ordered[n_test:])
    return sorted(train), sorted(test)
