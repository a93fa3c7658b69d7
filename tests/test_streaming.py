"""Corpora streamed from disk: the same paragraphs as the in-memory reader, shuffled through a bounded buffer,
shared without overlap between ranks and workers, and a stream-trained encoder and word2vec."""

from pathlib import Path

import numpy as np
import pytest

import firth
from firth.config import ProjectionConfig
from firth.data import paragraph_words
from firth.errors import FirthError
from firth.train.paragraphs import (
    ParagraphSources,
    ParagraphStream,
    read_paragraph_sentences,
)

PROJECTION = ProjectionConfig(mode="float", n_hashes=8, bits=4)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A folder of two plain-text files: 60 paragraphs of 2 to 4 sentences."""
    folder = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    for name, first in (("a.txt", 0), ("b.txt", 30)):
        paragraphs = [" ".join(f"Paragraph {p} says thing number {s} about topic {p}." for s in range(rng.integers(2, 5)))
                      for p in range(first, first + 30)]
        (folder / name).write_text("\n\n".join(paragraphs) + "\n")
    return folder


def test_the_stream_yields_the_paragraphs_of_the_list_reader(corpus):
    listed = read_paragraph_sentences([str(corpus)])
    assert len(listed) == 60 and list(ParagraphSources([str(corpus)])) == listed
    stream = ParagraphStream(ParagraphSources([str(corpus)]), PROJECTION, batch_size=16, max_per_paragraph=4,
                             buffer=7)
    order = [index for index, _ in stream._shuffled(np.random.default_rng(0), 1, 0)]
    assert sorted(order) == list(range(60)) and order != list(range(60))  # each once, shuffled
    stream.set_epoch(1)
    batches = list(stream)
    groups = np.concatenate([y.groups.numpy() for _, y in batches])
    assert sorted(groups.tolist()) == sorted(i for i, p in enumerate(listed) for _ in p)  # every sentence, once
    assert all(len(y) <= 16 for _, y in batches) and abs(len(batches) - len(stream)) <= 1


def test_the_buffer_bounds_how_far_a_paragraph_moves(corpus):
    stream = ParagraphStream(ParagraphSources([str(corpus)]), PROJECTION, batch_size=16, max_per_paragraph=4, buffer=5)
    order = [index for index, _ in stream._shuffled(np.random.default_rng(3), 1, 0)]
    assert all(position >= index - 5 for position, index in enumerate(order))  # none comes out before it is read


def test_ranks_and_workers_share_the_paragraphs_without_overlap(corpus):
    stream = ParagraphStream(ParagraphSources([str(corpus)]), PROJECTION, batch_size=16, max_per_paragraph=4,
                             hold_out=6, seed=1)
    parts = [{i for i, _ in stream._shuffled(np.random.default_rng(0), 3, part)} for part in range(3)]
    assert sum(map(len, parts)) == 54 and set().union(*parts) == set(range(60)) - stream.held_indices
    assert len(stream.held_out) == 6 and stream.paragraphs == 54
    again = ParagraphStream(ParagraphSources([str(corpus)]), PROJECTION, batch_size=16, max_per_paragraph=4,
                            hold_out=6, seed=1)
    assert again.held_indices == stream.held_indices  # seeded


def test_a_corpus_too_small_for_its_held_out_paragraphs_is_one_sentence(corpus):
    with pytest.raises(FirthError, match="the corpus has 60 paragraphs of two or more sentences; training needs "
                                         "more than 60"):
        ParagraphStream(ParagraphSources([str(corpus)]), PROJECTION, batch_size=16, max_per_paragraph=4, hold_out=59)


def test_an_encoder_trains_from_a_stream(corpus, tmp_path):
    encoder = firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32, batch_size=16, max_per_paragraph=2,
                                    val_paragraphs=10, epochs=2, progress=False, num_workers=0)
    encoder.fit(ParagraphSources([str(corpus)]), out_dir=tmp_path / "run")
    assert [r["epoch"] for r in encoder.history_] == [1, 2] and "val_MRR" in encoder.history_[-1]
    assert encoder.card_["data"]["paragraphs"] == 50
    assert encoder.encode(["Paragraph 3 says thing number 1."]).shape == (1, encoder.dim)


def test_word2vec_reads_a_stream_once_an_epoch(corpus):
    class Counting:
        def __init__(self, sentences):
            self.sentences, self.read = sentences, 0

        def __iter__(self):
            for sentence in self.sentences:
                self.read += 1
                yield sentence

    sentences = Counting(paragraph_words([str(corpus)]))
    w2v = firth.Word2Vec(dim=8, epochs=3, min_count=1, progress=False).fit(sentences)
    assert sentences.read == (1 + 3) * 60  # the vocabulary, then each epoch
    listed = firth.Word2Vec(dim=8, epochs=3, min_count=1, progress=False).fit(list(paragraph_words([str(corpus)])))
    assert np.array_equal(w2v.wv_.vectors, listed.wv_.vectors)


def test_more_readers_than_paragraphs_is_one_sentence(corpus):
    encoder = firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32, batch_size=16, max_per_paragraph=2,
                                    val_paragraphs=10, num_workers=64, progress=False)
    with pytest.raises(FirthError, match=r"64 readers \(1 processes x 64 DataLoader workers\) cannot share 50 "):
        encoder.fit(ParagraphSources([str(corpus)]))


def test_a_corpus_folder_without_files_is_one_sentence(tmp_path):
    (tmp_path / "empty" / ".hidden").mkdir(parents=True)
    with pytest.raises(FirthError, match="empty: is a folder without files."):
        list(ParagraphSources([str(tmp_path / "empty")]))
