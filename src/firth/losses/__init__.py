"""Losses for sentence vectors from paragraphs, one per file, chosen by name (firth.registry.LOSSES).

Each takes (vectors [batch, dim], groups [batch]) where `groups` holds the
paragraph of each sentence, and returns a scalar. Classes are imported on
first use.
"""

from __future__ import annotations

from firth import registry
from firth.errors import FirthError
from firth.registry import lazy_attributes

__all__ = ["InfoNCE", "SimilarityBXENT", "SupCon", "make_loss"]

__getattr__ = lazy_attributes(__name__, {
    "InfoNCE": "firth.losses.infonce:InfoNCE",
    "SimilarityBXENT": "firth.losses.similarity_bxent:SimilarityBXENT",
    "SupCon": "firth.losses.supcon:SupCon",
})


def make_loss(name: str, **options):
    """The loss called `name`, built with `options` (e.g. temperature=0.05)."""
    loss = registry.resolve(registry.LOSSES, name, "loss")
    try:
        return loss(**options)
    except TypeError as e:
        raise FirthError(f"bad option for loss {name!r}: {e}.") from None
