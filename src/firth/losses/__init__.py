"""Losses for sentence vectors from paragraphs, one per file, chosen by name.

Each takes (vectors [batch, dim], groups [batch]) where `groups` holds the
paragraph of each sentence, and returns a scalar.
"""

from __future__ import annotations

from torch import nn

from firth.errors import FirthError
from firth.losses.infonce import InfoNCE
from firth.losses.similarity_bxent import SimilarityBXENT
from firth.losses.supcon import SupCon

__all__ = ["LOSSES", "InfoNCE", "SimilarityBXENT", "SupCon", "make_loss"]

LOSSES: dict[str, type[nn.Module]] = {"bxent": SimilarityBXENT, "infonce": InfoNCE, "supcon": SupCon}


def make_loss(name: str, **options) -> nn.Module:
    """The loss called `name`, built with `options` (e.g. temperature=0.05)."""
    if name not in LOSSES:
        raise FirthError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}.")
    try:
        return LOSSES[name](**options)
    except TypeError as e:
        raise FirthError(f"bad option for loss {name!r}: {e}.") from None
