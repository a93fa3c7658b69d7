"""Retrieval scores, held-out split, linear probe, block-overlap scores and heatmap, on small in-memory data."""

import hashlib

import numpy as np
import pytest
import scipy.sparse as sp

import firth.evaluate.retrieval as retrieval
from firth.data import ClassificationData
from firth.errors import FirthError
from firth.evaluate.plots import plot_similarity_heatmap
from firth.evaluate.retrieval import (
    block_matrix,
    block_overlap_scores,
    document_scores,
    heldout_split,
    probe_accuracy,
    retrieval_scores,
)
from firth.text.corpus import Paragraph
from firth.text.readers import LabelledTexts
from firth.text.segment import usable_sentences

# --- retrieval_scores ---------------------------------------------------------

# Targets are the unit vectors e0..e5, so query i's cosine with target j is
# row i scaled: the ranks of the own targets (the diagonal) are 1, 3, 6, 2 (a
# tie, counted against), 1, 1.
SCORES = np.array([
    [5, 1, 1, 1, 1, 1],
    [3, 2, 1, 3, 0, 0],
    [1, 1, 0, 1, 1, 1],
    [0, 2, 0, 2, 1, 0],
    [0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 1],
], dtype=float)
QUERIES = [f"q{i}" for i in range(6)]
TARGETS = [f"t{i}" for i in range(6)]
TABLE = {**dict(zip(QUERIES, SCORES)), **dict(zip(TARGETS, np.eye(6)))}


def embed_table(texts):
    return np.array([TABLE[t] for t in texts])


def test_retrieval_scores_of_known_ranks():
    scores = retrieval_scores(embed_table, QUERIES, TARGETS)
    assert scores["R1"] == pytest.approx(3 / 6)
    assert scores["R5"] == pytest.approx(5 / 6)
    assert scores["MRR"] == pytest.approx((1 + 1 / 3 + 1 / 6 + 1 / 2 + 1 + 1) / 6)


def test_retrieval_scores_accept_sparse_vectors():
    sparse = retrieval_scores(lambda texts: sp.csr_matrix(embed_table(texts)), QUERIES, TARGETS)
    assert sparse == pytest.approx(retrieval_scores(embed_table, QUERIES, TARGETS))


def test_a_constant_embedding_gets_the_worst_rank():
    scores = retrieval_scores(lambda texts: np.zeros((len(texts), 3)), QUERIES, TARGETS)
    assert scores == pytest.approx({"R1": 0.0, "R5": 0.0, "MRR": 1 / 6})


def test_document_scores_by_hand():
    # angles 0, 10, 90, 100 and 180 degrees: a and b are close, c and d are close, e is opposite a
    angles = {"a": 0, "b": 10, "c": 90, "d": 100, "e": 180}
    embed = lambda texts: np.array([[np.cos(np.radians(angles[t])), np.sin(np.radians(angles[t]))] for t in texts])
    texts, labels = list(angles), [0, 0, 1, 1, 0]
    scores = document_scores(embed, texts, labels, k=2)
    # first same-class rank: a→b 1, b→a 1, c→d 1, d→c 1, e: d (80°) and c (90°) rank before b (170°): 3
    assert scores["doc_MRR"] == pytest.approx((4 + 1 / 3) / 5)
    # top 2: a{b,c} 1/2, b{a,c} 1/2, c{d,b} 1/2, d{c,e} 1/2, e{d,c} 0
    assert scores["doc_P2"] == pytest.approx(0.4)
    with pytest.raises(FirthError, match="document retrieval needs a label per text and more than 2 texts"):
        document_scores(embed, texts[:2], labels[:2], k=2)


def test_retrieval_needs_matching_lists():
    with pytest.raises(FirthError):
        retrieval_scores(embed_table, QUERIES, TARGETS[:3])


# --- heldout_split ----------------------------------------------------------

LONG = "The cat sat on the mat. It was a sunny day outside. Birds were singing in the trees."
CORPORA = {
    "a": [
        Paragraph("d", "Only one sentence here, and it is long enough."),
        Paragraph("d", "Too short. Not long. But this one sentence is long enough."),
        Paragraph("d", LONG),
        Paragraph("d", "Rivers flow to the sea. The sea is salty and deep."),
        Paragraph("d", "Python is a programming language. It has many libraries for science."),
    ],
    "b": [
        Paragraph("e", LONG),  # a twin of a/2
        Paragraph("e", "Paris is the capital of France. It lies on the river Seine."),
        Paragraph("e", "Winter is cold in the north. Summers there are short and mild."),
        Paragraph("e", "Yes. No."),
        Paragraph("e", "Trains run every hour on weekdays. On Sundays they run less often."),
    ],
}
ALL_KEYS = {(name, i) for name, paras in CORPORA.items() for i in range(len(paras))}


@pytest.fixture
def corpora(monkeypatch):
    monkeypatch.setattr(retrieval, "paragraphs", lambda name: iter(CORPORA[name]))
    return list(CORPORA)


def rank(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def test_heldout_split_is_deterministic_and_follows_the_documented_ranking(corpora):
    split = heldout_split(corpora, n=4, seed=7)
    assert split == heldout_split(corpora, n=4, seed=7)
    usable = sorted((rank(f"7:{name}:{CORPORA[name][i].text}"), name, i) for name, i in ALL_KEYS
                    if len(usable_sentences(CORPORA[name][i].text)) >= 2)
    expected, seen = [], set()
    for _, name, i in usable:
        if CORPORA[name][i].text not in seen:
            expected.append((name, i))
            seen.add(CORPORA[name][i].text)
    assert [(item.corpus, item.index) for item in split.items] == expected[:4]
    for item in split.items:
        sentences = usable_sentences(CORPORA[item.corpus][item.index].text)
        text = CORPORA[item.corpus][item.index].text
        order = sorted(range(len(sentences)), key=lambda k: rank(f"7:{item.corpus}:{text}:{k}"))
        assert (item.query, item.target) == (sentences[order[0]], sentences[order[1]])


def test_heldout_paragraphs_have_two_usable_sentences_and_are_out_of_training(corpora):
    split = heldout_split(corpora, n=6)
    assert len(split.items) == 6  # every usable paragraph, the twin counted once
    assert split.queries == [item.query for item in split.items]
    for item in split.items:
        text = CORPORA[item.corpus][item.index].text
        assert item.query != item.target and item.query in text and item.target in text
        assert (item.corpus, item.index) in split.keys
    assert {("a", 2), ("b", 0)} <= split.keys  # both copies of the twin are left out
    kept = ALL_KEYS - split.keys
    assert {("a", 0), ("a", 1), ("b", 3)} <= kept  # too few usable sentences: never held out
    assert not {CORPORA[c][i].text for c, i in kept} & {CORPORA[c][i].text for c, i in split.keys}


def test_a_new_paragraph_moves_no_other_out_of_the_split(corpora, monkeypatch):
    """A source's new release that inserts a paragraph must not reshuffle the split (held-out items are
    ranked by their text, not their position)."""
    before = heldout_split(corpora, n=4)
    grown = {**CORPORA, "a": [Paragraph("d", "A new first paragraph. It shifts every position after it.")]
             + CORPORA["a"]}
    monkeypatch.setattr(retrieval, "paragraphs", lambda name: iter(grown[name]))
    after = heldout_split(corpora, n=4)
    old = {(i.corpus, i.query, i.target) for i in before.items}
    new = {(i.corpus, i.query, i.target) for i in after.items}
    assert len(old - new) <= 1  # at most the one pushed out by the newcomer, if it ranks in


def test_heldout_split_asks_for_more_than_there_is(corpora):
    with pytest.raises(FirthError, match="fewer than the 7"):
        heldout_split(corpora, n=7)


# --- probe_accuracy -----------------------------------------------------------


def test_probe_accuracy_on_separable_vectors(monkeypatch):
    def texts(n, offset=0):
        return [f"{label} {i}" for i in range(offset, offset + n) for label in ("good", "bad")]

    train, test = texts(40), texts(10, offset=100)
    data = ClassificationData("toy", LabelledTexts(train, [t.split()[0] for t in train]),
                              LabelledTexts(test, [t.split()[0] for t in test]))
    monkeypatch.setattr(retrieval, "load", lambda name: data)
    seen = []

    def embed(batch):
        seen.append(len(batch))
        return np.array([[1.0 if t.startswith("good") else -1.0, int(t.split()[1]) % 7] for t in batch])

    assert probe_accuracy(embed, "toy") == 1.0
    assert probe_accuracy(embed, "toy", max_train=20) == 1.0
    assert seen == [80, 20, 20, 20]  # max_train cuts the training split only


# --- block_overlap_scores and the heatmap -------------------------------------

# mean 0.525, std 0.3733: only the diagonal and the 0.9 pair are above 0.898,
# so 6 of the 8 expected cells are found and none is wrong.
SIMILARITY = np.array([
    [1.0, 0.9, 0.1, 0.6],
    [0.9, 1.0, 0.2, 0.1],
    [0.1, 0.2, 1.0, 0.3],
    [0.6, 0.1, 0.3, 1.0],
])


def test_block_overlap_scores_by_hand():
    scores = block_overlap_scores(SIMILARITY, [0, 0, 1, 1])
    assert scores == pytest.approx({"jaccard": 6 / 8, "f1": 12 / 14, "accuracy": 14 / 16})


def test_block_overlap_needs_one_label_per_row():
    with pytest.raises(FirthError):
        block_overlap_scores(SIMILARITY, [0, 0, 1])


def test_similarity_heatmap_png(tmp_path):
    path = tmp_path / "plots" / "heatmap.png"
    plot_similarity_heatmap(SIMILARITY, block_matrix([0, 0, 1, 1]), ["one", "two", "three", "four"], path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["heatmap.png"]
