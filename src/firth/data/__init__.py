"""Real public datasets by name: `firth.data.load("bbc-news")`."""

from firth.data.loaders import (
    Analogy,
    ClassificationData,
    Embeddings,
    ParagraphCorpus,
    WordPair,
    load,
    paragraph_words,
    paragraphs,
    read_analogies,
    read_word_pairs,
)
from firth.data.registry import DATASETS, firth_home, get, is_valid, read_manifest

__all__ = [
    "DATASETS",
    "Analogy",
    "ClassificationData",
    "Embeddings",
    "ParagraphCorpus",
    "WordPair",
    "firth_home",
    "get",
    "is_valid",
    "load",
    "paragraph_words",
    "paragraphs",
    "read_analogies",
    "read_manifest",
    "read_word_pairs",
]
