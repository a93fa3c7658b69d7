"""word2vec: both skip-gram models learn planted structure; subsampling, noise and windows follow their formulas."""

import json
import random

import numpy as np
import pytest
import torch

from firth.errors import FirthError
from firth.models.word2vec import (
    Corpus,
    NoiseTable,
    SkipGramSoftmax,
    Word2Vec,
    Word2VecConfig,
    context_windows,
    encoded_chunks,
    keep_probability,
    skipgram_pairs,
    subsample,
    train_word2vec,
)
from firth.vectors import KeyedVectors

CLUSTERS = [[f"{name}{i}" for i in range(5)] for name in ("red", "blue", "green", "gold")]
FILLERS = ["the", "of", "and"]


def planted_corpus(n_sentences: int = 600, seed: int = 0) -> list[list[str]]:
    """Sentences of 8 words: 6 from one cluster, 2 fillers, shuffled; a word's neighbours are its cluster."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(n_sentences):
        cluster = rng.choice(CLUSTERS)
        words = [rng.choice(cluster) for _ in range(6)] + [rng.choice(FILLERS) for _ in range(2)]
        rng.shuffle(words)
        sentences.append(words)
    return sentences


def assert_clusters_found(kv) -> None:
    """Every cluster word's 4 nearest neighbours are (nearly all) the rest of its cluster."""
    hits = total = 0
    for cluster in CLUSTERS:
        for word in cluster:
            nearest = [w for w, _ in kv.most_similar(word, topn=4)]
            assert nearest[0] in cluster, (word, nearest)
            hits += len(set(nearest) & set(cluster))
            total += 4
    assert hits / total >= 0.9


# ---- learning -------------------------------------------------------------------


def test_negative_sampling_finds_the_planted_neighbours():
    model = Word2Vec(dim=16, window=3, min_count=1, sample=0, epochs=8, batch_size=64, progress=False)
    assert_clusters_found(model.fit(planted_corpus()).wv_)
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]


def test_the_textbook_softmax_model_finds_the_planted_neighbours():
    model = Word2Vec(model="softmax", dim=16, window=3, min_count=1, sample=0, epochs=4, batch_size=512,
                     lr=0.03, device="cpu", progress=False)
    assert_clusters_found(model.fit(planted_corpus()).wv_)


def test_softmax_model_outputs_log_probabilities():
    out = SkipGramSoftmax(vocab_size=7, dim=3)(torch.tensor([0, 4]))
    assert out.shape == (2, 7)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(2))


def test_projection_input_learns_and_gives_unseen_words_vectors(tmp_path):
    model = Word2Vec(input="projection", dim=16, window=3, min_count=1, sample=0, epochs=8, batch_size=64,
                     lr=0.05, projection={"mode": "float", "n_hashes": 16, "bits": 16}, progress=False)
    kv = model.fit(planted_corpus()).wv_
    assert_clusters_found(kv)
    assert "gold9" not in kv
    vector = kv.get_vector("gold9")  # never seen: its vector comes from its character n-grams
    assert vector.shape == (16,) and np.isfinite(vector).all()
    np.testing.assert_allclose(vector, kv.encoder(["gold9"])[0])
    kv.save(tmp_path / "m")
    np.testing.assert_array_equal(KeyedVectors.load(tmp_path / "m").get_vector("gold9"), vector)


def test_training_is_deterministic_for_a_seed_and_workers_share_the_work():
    corpus = planted_corpus(200)

    def run(**kw) -> np.ndarray:
        return train_word2vec(corpus, dim=8, min_count=1, epochs=2, progress=False, **kw).vectors

    np.testing.assert_array_equal(run(seed=3), run(seed=3))
    assert not np.array_equal(run(seed=3), run(seed=4))
    assert np.isfinite(run(seed=3, workers=2)).all()


def test_epoch_records_validation_neighbours_and_metrics_file(tmp_path, capsys):
    model = Word2Vec(dim=8, min_count=1, epochs=2, progress=True)
    model.fit(planted_corpus(100), validation_words=["red0", "unknown"], out_dir=tmp_path)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    assert set(records[-1]) >= {"loss", "lr", "words_per_s", "seconds"}
    assert list(records[-1]["neighbours"]) == ["red0"] and len(records[-1]["neighbours"]["red0"]) == 5
    assert "  red0: " in capsys.readouterr().out


# ---- the pieces, against their formulas -------------------------------------------------


def test_corpus_encoding_orders_by_count_and_prunes():
    corpus = Corpus.encode([["b", "a", "c", "a"], ["d", "b", "a"], ["rare"]], min_count=2)
    assert corpus.words == ["a", "b"] and corpus.counts.tolist() == [3, 2]
    assert corpus.ids.tolist() == [1, 0, 0, 1, 0] and corpus.sentence.tolist() == [0, 0, 0, 1, 1]
    assert corpus.raw_words == 8
    # ties: the word seen first comes last, as gensim sorts
    assert Corpus.encode([["x", "y", "z"]], min_count=1).words == ["z", "y", "x"]


def test_streamed_chunks_never_split_a_sentence():
    sentences = [["a"] * n for n in (3, 5, 2, 4)]  # sentences start at tokens 0, 3, 8, 10
    index = {"a": 0}
    chunks = list(encoded_chunks(sentences, index, 4))
    assert [(c.start, len(c.ids)) for c in chunks] == [(0, 8), (8, 6)]
    assert np.concatenate([c.sentence for c in chunks]).tolist() == [0] * 3 + [1] * 5 + [2] * 2 + [3] * 4
    assert [(c.start, len(c.ids)) for c in encoded_chunks(sentences, index, 100)] == [(0, 14)]
    # sentences without a kept word take no place, but keep their numbers
    assert [c.sentence.tolist() for c in encoded_chunks([["x"], ["a"], ["x", "a"]], index, 1)] == [[1], [2]]


def test_a_one_pass_iterator_is_refused():
    with pytest.raises(FirthError, match="sentences must be readable more than once"):
        Word2Vec(min_count=1, progress=False).fit(iter(planted_corpus(10)))


@pytest.mark.parametrize("sentences, min_count, message", [
    ([], 1, "the corpus has no words"),
    ([[], []], 1, "the corpus has no words"),
    ([["a", "b"]], 2, "no word occurs at least min_count=2 times"),
])
def test_corpus_errors(sentences, min_count, message):
    with pytest.raises(FirthError, match=message):
        Word2Vec(min_count=min_count, progress=False).fit(sentences)


def test_keep_probability_is_the_word2vec_formula_and_subsampling_follows_it():
    counts = np.array([100_000, 10_000, 1_000, 100, 10])
    t = 1e-3 * counts.sum()
    expected = np.minimum(1, (np.sqrt(counts / t) + 1) * t / counts)
    np.testing.assert_allclose(keep_probability(counts, 1e-3), expected, rtol=1e-6)
    assert keep_probability(counts, 0).tolist() == [1] * 5
    ids = np.repeat(np.arange(5, dtype=np.int32), 40_000)
    kept, _, reach = subsample(ids, np.zeros_like(ids), keep_probability(counts, 1e-3), 5, np.random.default_rng(0))
    rate = np.bincount(kept, minlength=5) / 40_000
    np.testing.assert_allclose(rate, expected, atol=0.01)
    assert set(np.unique(reach)) == {1, 2, 3, 4, 5}  # each survivor's window, uniform in 1..window


def test_negative_sampling_draws_count_to_the_three_quarters():
    counts = np.array([1000, 300, 50, 7, 1])
    table = NoiseTable(counts, 0.75)
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(table.probability, expected)
    # the alias table encodes the distribution exactly ...
    n = len(counts)
    encoded = table.accept.copy()
    np.add.at(encoded, table.alias, 1 - table.accept)
    np.testing.assert_allclose(encoded / n, expected, atol=1e-12)
    # ... and draws follow it
    draws = table.draw((200_000,), np.random.default_rng(0))
    np.testing.assert_allclose(np.bincount(draws, minlength=n) / 200_000, expected, atol=0.004)


def test_context_windows_stay_inside_sentences():
    sentence = np.array([0, 0, 0, 1, 1])
    positions, valid = context_windows(sentence, np.array([1, 3]), reach=2)
    assert positions.shape == (2, 4)  # offsets -2, -1, +1, +2
    assert [p for p, v in zip(positions[0], valid[0]) if v] == [0, 2]
    assert [p for p, v in zip(positions[1], valid[1]) if v] == [4]


def test_skipgram_pairs_with_window_one_are_the_neighbours():
    corpus = Corpus.encode([["a", "b", "c"], ["d", "e"]], min_count=1)
    config = Word2VecConfig(model="softmax", window=1, sample=0, min_count=1)
    centres, contexts = skipgram_pairs(corpus, config, np.random.default_rng(0))
    words = corpus.words
    pairs = sorted((words[c], words[x]) for c, x in zip(centres, contexts))
    assert pairs == sorted([("a", "b"), ("b", "a"), ("b", "c"), ("c", "b"), ("d", "e"), ("e", "d")])


@pytest.mark.parametrize("options, message", [
    ({"model": "cbow"}, "unknown word2vec model"),
    ({"input": "chars"}, "unknown word2vec input"),
    ({"model": "softmax", "input": "projection"}, "only with model='negative'"),
    ({"window": 0}, "window must be at least 1"),
    ({"negative": 0}, "negative must be at least 1"),
])
def test_config_errors(options, message):
    with pytest.raises(FirthError, match=message):
        Word2VecConfig(**options)


def test_defaults_depend_on_the_model():
    assert (Word2VecConfig().lr, Word2VecConfig().batch_size) == (0.025, 1024)
    assert (Word2VecConfig(model="softmax").lr, Word2VecConfig(model="softmax").batch_size) == (0.003, 512)
