"""PPMI features: the slides' worked example, window counting, smoothing, transform, save/load."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from firth.errors import FirthError
from firth.features.ppmi import PPMIFeatures, cooccurrence_counts, ppmi_from_counts
from firth.text.readers import read_labelled

# The slides' co-occurrence matrix F (rows: words, columns: contexts), N = 15.
SLIDE_WORDS = ["mr", "brown", "jumps", "over", "fox"]
SLIDE_COUNTS = np.array([
    [0, 1, 1, 0, 0],
    [0, 0, 1, 1, 2],
    [1, 0, 0, 2, 1],
    [2, 1, 0, 0, 1],
    [0, 0, 1, 0, 0],
])


def slide_ppmi_log2(counts: np.ndarray) -> np.ndarray:
    """The slides' PPMI_ij = max(log2(p_ij / (p_i* p_*j)), 0), entry by entry."""
    total, rows, cols = counts.sum(), counts.sum(axis=1), counts.sum(axis=0)
    expected = np.zeros(counts.shape)
    for i, j in zip(*np.nonzero(counts)):
        pmi = math.log2((counts[i, j] / total) / ((rows[i] / total) * (cols[j] / total)))
        expected[i, j] = max(pmi, 0.0)
    return expected


def test_slides_worked_example():
    ppmi = ppmi_from_counts(SLIDE_COUNTS) / math.log(2)  # the slides use log2; firth uses ln
    jumps, over = SLIDE_WORDS.index("jumps"), SLIDE_WORDS.index("over")
    assert ppmi[jumps, over] == pytest.approx(1.321, abs=1e-3)  # log2(2.5) = 1.3219, printed 1.321
    np.testing.assert_allclose(ppmi, slide_ppmi_log2(SLIDE_COUNTS), rtol=1e-6)
    over_fox = ppmi[over, SLIDE_WORDS.index("fox")]
    assert over_fox == 0.0  # log2(15/16) < 0 is clipped


def test_sparse_input_gives_the_same_sparse_result():
    dense = ppmi_from_counts(SLIDE_COUNTS)
    sparse = ppmi_from_counts(sp.csr_matrix(SLIDE_COUNTS))
    assert isinstance(dense, np.ndarray) and sp.issparse(sparse)
    assert dense.dtype == sparse.dtype == np.float32
    np.testing.assert_array_equal(sparse.toarray(), dense)
    assert sparse.nnz == np.count_nonzero(dense)


def test_alpha_smooths_the_context_distribution_and_shift_subtracts():
    counts = SLIDE_COUNTS.astype(float)
    rows, cols = counts.sum(axis=1), counts.sum(axis=0)
    smoothed = cols**0.75 / (cols**0.75).sum()
    i, j = SLIDE_WORDS.index("jumps"), SLIDE_WORDS.index("over")
    expected = math.log((counts[i, j] / 15) / ((rows[i] / 15) * smoothed[j]))
    assert ppmi_from_counts(counts, alpha=0.75)[i, j] == pytest.approx(expected, rel=1e-6)
    assert expected != pytest.approx(math.log(2.5))  # smoothing does change the value
    shifted = ppmi_from_counts(counts, shift=math.log(2))
    np.testing.assert_allclose(shifted, np.maximum(ppmi_from_counts(counts) - math.log(2), 0), atol=1e-6)


def test_window_counts_a_five_word_sentence():
    features = PPMIFeatures(window=2, min_count=1, alpha=1.0).fit(["The cat saw the dog"])
    assert list(features.get_feature_names_out()) == ["the", "cat", "dog", "saw"]
    # pairs at distance <= 2: the-cat (0,1) (1,3); the-saw (0,2) (2,3); cat-saw; saw-dog; the-dog
    the, cat, dog, saw = 0, 1, 2, 3
    hand = np.zeros((4, 4))
    for a, b, n in [(the, cat, 2), (the, saw, 2), (cat, saw, 1), (saw, dog, 1), (the, dog, 1)]:
        hand[a, b] = hand[b, a] = n
    ids = np.array([the, cat, saw, the, dog])
    np.testing.assert_array_equal(cooccurrence_counts([ids], 4, window=2).toarray(), hand)
    np.testing.assert_array_equal(features.ppmi_.toarray(), ppmi_from_counts(hand))
    # window 3 adds distance 3: the-the (0,3), counted in both orders, and cat-dog (1,4)
    hand[the, the] = 2
    hand[cat, dog] = hand[dog, cat] = 1
    wide = PPMIFeatures(window=3, min_count=1, alpha=1.0).fit(["The cat saw the dog"])
    np.testing.assert_array_equal(wide.ppmi_.toarray(), ppmi_from_counts(hand))


def test_cooccurrence_keeps_oov_positions_and_document_bounds():
    docs = [np.array([0, -1, 1]), np.array([1, 0, 0])]
    counts = cooccurrence_counts(docs, n_words=2, window=1).toarray()
    np.testing.assert_array_equal(counts, [[2, 1], [1, 0]])  # 0-0 twice (both orders), 1-0 once
    counts = cooccurrence_counts(docs, n_words=2, window=2).toarray()
    np.testing.assert_array_equal(counts, [[2, 3], [3, 0]])  # the OOV token still takes a position


def test_vocabulary_min_count_and_max_vocab_ties_alphabetical():
    features = PPMIFeatures(min_count=2, max_vocab=2).fit(["b a c a b c d"])
    assert features.vocabulary_ == {"a": 0, "b": 1}
    assert features.n_features_out_ == 2 and features.ppmi_.shape == (2, 2)


def test_empty_vocabulary_is_a_firth_error():
    with pytest.raises(FirthError, match="no word occurs at least min_count=2 times"):
        PPMIFeatures().fit(["one two three", "four"])


def test_transform_is_the_mean_of_ppmi_rows():
    texts = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]
    features = PPMIFeatures(min_count=1, doc_norm=False).fit(texts)
    ppmi, vocab = features.ppmi_.toarray(), features.vocabulary_
    X = features.transform(["the cat zebra", "unknown words only"])
    assert sp.isspmatrix_csr(X) and X.dtype == np.float32 and X.shape == (2, len(vocab))
    np.testing.assert_allclose(X[0].toarray()[0], (ppmi[vocab["the"]] + ppmi[vocab["cat"]]) / 2, rtol=1e-6)
    assert X[1].nnz == 0
    normed = PPMIFeatures(min_count=1).fit(texts).transform(["the cat zebra", "zebra"])
    assert np.linalg.norm(normed[0].toarray()) == pytest.approx(1.0)
    assert normed[1].nnz == 0


def test_save_load_round_trip(tmp_path, fixtures):
    texts = read_labelled(fixtures / "rt_small.jsonl").texts
    features = PPMIFeatures(min_count=1, window=3).fit(texts)
    features.save(tmp_path, prefix="ppmi")
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != "firth-home")
    assert written == ["ppmi.json", "ppmi.safetensors"]  # no pickle
    loaded = PPMIFeatures.load(tmp_path, prefix="ppmi")
    assert loaded.get_params() == features.get_params()
    assert loaded.vocabulary_ == features.vocabulary_
    np.testing.assert_array_equal(loaded.transform(texts).toarray(), features.transform(texts).toarray())


def test_in_a_scikit_learn_pipeline(fixtures):
    data = read_labelled(fixtures / "rt_small.jsonl")
    model = make_pipeline(PPMIFeatures(min_count=1), LogisticRegression()).fit(data.texts, data.labels)
    predictions = model.predict(data.texts)
    assert len(predictions) == len(data.texts) and set(predictions) <= set(data.labels)
