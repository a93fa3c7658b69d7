"""Text in: segmentation, labelled readers and paragraph corpora."""

from firth.text.corpus import Paragraph, iter_corpus, iter_wiki_dump
from firth.text.readers import Example, LabelledTexts, iter_labelled, read_labelled
from firth.text.segment import iter_paragraphs, split_paragraphs, split_sentences, tokenize, words

__all__ = [
    "Example",
    "LabelledTexts",
    "Paragraph",
    "iter_corpus",
    "iter_labelled",
    "iter_paragraphs",
    "iter_wiki_dump",
    "read_labelled",
    "split_paragraphs",
    "split_sentences",
    "tokenize",
    "words",
]
