"""Text in: segmentation, labelled readers and paragraph corpora.

Names are imported on first use, so that `firth.text.segment` (what exported
models' runtime needs) loads without the corpus readers' markup parsers.
"""

from firth.registry import lazy_attributes

__all__ = ["Example", "LabelledTexts", "Paragraph", "iter_corpus", "iter_labelled", "iter_paragraphs",
           "iter_wiki_dump", "read_labelled", "split_paragraphs", "split_sentences", "tokenize", "words"]

__getattr__ = lazy_attributes(__name__, {
    **{name: f"firth.text.corpus:{name}" for name in ("Paragraph", "iter_corpus", "iter_wiki_dump")},
    **{name: f"firth.text.readers:{name}" for name in ("Example", "LabelledTexts", "iter_labelled", "read_labelled")},
    **{name: f"firth.text.segment:{name}" for name in ("iter_paragraphs", "split_paragraphs", "split_sentences",
                                                        "tokenize", "words")},
})
