"""PPMI features: the slides' worked example, window counting, smoothing, PPMI-SVD, transform, save/load."""

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from firth.errors import FirthError
from firth.features.ppmi import PPMIFeatures, cooccurrence_counts, ppmi_from_counts, ppmi_svd
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
    counts = sp.csr_matrix(SLIDE_COUNTS, dtype=np.float64)
    ppmi_from_counts(counts)
    np.testing.assert_array_equal(counts.toarray(), SLIDE_COUNTS)  # the input is left alone


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
    features = PPMIFeatures(window=2, min_count=1, alpha=1.0, dim=None).fit(["The cat saw the dog"])
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
    wide = PPMIFeatures(window=3, min_count=1, alpha=1.0, dim=None).fit(["The cat saw the dog"])
    np.testing.assert_array_equal(wide.ppmi_.toarray(), ppmi_from_counts(hand))


def test_cooccurrence_keeps_oov_positions_and_document_bounds():
    docs = [np.array([0, -1, 1]), np.array([1, 0, 0])]
    counts = cooccurrence_counts(docs, n_words=2, window=1).toarray()
    np.testing.assert_array_equal(counts, [[2, 1], [1, 0]])  # 0-0 twice (both orders), 1-0 once
    counts = cooccurrence_counts(docs, n_words=2, window=2).toarray()
    np.testing.assert_array_equal(counts, [[2, 3], [3, 0]])  # the OOV token still takes a position


def test_vocabulary_min_count_and_max_vocab_ties_alphabetical():
    features = PPMIFeatures(min_count=2, max_vocab=2, dim=None).fit(["b a c a b c d"])
    assert features.vocabulary_ == {"a": 0, "b": 1}
    assert features.n_features_out_ == 2 and features.ppmi_.shape == (2, 2)
    svd = PPMIFeatures(min_count=2, max_vocab=2, dim=300).fit(["b a c a b c d"])
    assert svd.vocabulary_ == features.vocabulary_
    assert svd.n_features_out_ == 2 and svd.word_vectors_.shape == (2, 2)  # dim clamped to V
    assert list(svd.get_feature_names_out()) == ["ppmifeatures0", "ppmifeatures1"]


def test_empty_vocabulary_is_a_firth_error():
    with pytest.raises(FirthError, match="no word occurs at least min_count=2 times"):
        PPMIFeatures().fit(["one two three", "four"])


def test_transform_is_the_mean_of_ppmi_rows():
    texts = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]
    features = PPMIFeatures(min_count=1, doc_norm=False, dim=None).fit(texts)
    ppmi, vocab = features.ppmi_.toarray(), features.vocabulary_
    X = features.transform(["the cat zebra", "unknown words only"])
    assert sp.isspmatrix_csr(X) and X.dtype == np.float32 and X.shape == (2, len(vocab))
    np.testing.assert_allclose(X[0].toarray()[0], (ppmi[vocab["the"]] + ppmi[vocab["cat"]]) / 2, rtol=1e-6)
    assert X[1].nnz == 0
    normed = PPMIFeatures(min_count=1, dim=None).fit(texts).transform(["the cat zebra", "zebra"])
    assert np.linalg.norm(normed[0].toarray()) == pytest.approx(1.0)
    assert normed[1].nnz == 0


def test_save_load_round_trip(tmp_path, fixtures):
    texts = read_labelled(fixtures / "rt_small.jsonl").texts
    features = PPMIFeatures(min_count=1, window=3, dim=None).fit(texts)
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


def test_legacy_model_without_dim_loads_as_sparse_ppmi(tmp_path, fixtures):
    texts = read_labelled(fixtures / "rt_small.jsonl").texts
    features = PPMIFeatures(min_count=1, dim=None).fit(texts)
    features.save(tmp_path)
    config = json.loads((tmp_path / "features.json").read_text())
    del config["params"]["dim"], config["params"]["eig"]  # as written before PPMI-SVD
    (tmp_path / "features.json").write_text(json.dumps(config))
    loaded = PPMIFeatures.load(tmp_path)
    assert loaded.dim is None and loaded.n_features_out_ == len(features.vocabulary_)
    np.testing.assert_array_equal(loaded.transform(texts).toarray(), features.transform(texts).toarray())


# ---- PPMI-SVD (dim set) -----------------------------------------------------

def rt_texts(fixtures) -> list[str]:
    return read_labelled(fixtures / "rt_small.jsonl").texts


def test_svd_transform_is_dense_mean_of_word_vectors(fixtures):
    texts = rt_texts(fixtures)
    features = PPMIFeatures(min_count=2, dim=8, doc_norm=False).fit(texts)
    W, vocab = features.word_vectors_, features.vocabulary_
    assert W.dtype == np.float32 and W.shape == (len(vocab), 8) and features.n_features_out_ == 8
    assert not hasattr(features, "ppmi_")  # not kept once the SVD is taken
    top = features.get_feature_names_out()[0]
    assert top == "ppmifeatures0" and top not in vocab
    X = features.transform([f"the the {top} zebra", "unknown words only", ""])
    assert isinstance(X, np.ndarray) and X.dtype == np.float32 and X.shape == (3, 8)
    np.testing.assert_allclose(X[0], W[vocab["the"]], rtol=1e-6)  # OOV tokens don't count
    np.testing.assert_array_equal(X[1:], 0)  # no in-vocabulary token: the zero vector
    words = [w for w in vocab][:5]
    np.testing.assert_allclose(features.transform([" ".join(words)])[0],
                               W[[vocab[w] for w in words]].mean(axis=0), rtol=1e-5, atol=1e-7)
    normed = PPMIFeatures(min_count=2, dim=8).fit(texts).transform(texts + ["zebra"])
    np.testing.assert_allclose(np.linalg.norm(normed[:-1], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(normed[-1], 0)


def test_svd_is_deterministic_sorted_and_sign_fixed(fixtures):
    texts = rt_texts(fixtures)
    a = PPMIFeatures(min_count=1, dim=20).fit(texts)
    b = PPMIFeatures(min_count=1, dim=20).fit(texts)
    np.testing.assert_array_equal(a.word_vectors_, b.word_vectors_)
    np.testing.assert_array_equal(a.transform(texts), b.transform(texts))
    s = a.singular_values_
    assert np.all(np.diff(s) <= 0) and s[-1] > 0
    W = a.word_vectors_
    assert np.all(W[np.abs(W).argmax(axis=0), np.arange(20)] > 0)
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), np.sqrt(s), rtol=1e-4)  # eig = 0.5
    U = PPMIFeatures(min_count=1, dim=20, eig=0.0).fit(texts).word_vectors_
    np.testing.assert_allclose(U.T @ U, np.eye(20), atol=1e-4)  # eig = 0: orthonormal U
    np.testing.assert_allclose(U * np.sqrt(s), W, rtol=1e-4, atol=1e-6)


def test_svd_matches_exact_svd_of_the_ppmi_matrix(fixtures):
    texts = rt_texts(fixtures)
    M = PPMIFeatures(min_count=2, window=3, dim=None).fit(texts).ppmi_.toarray().astype(np.float64)
    n = M.shape[0]
    exact = np.linalg.svd(M, compute_uv=False)
    d = n - 1  # the case where svds would need k < V
    features = PPMIFeatures(min_count=2, window=3, dim=d, eig=1.0).fit(texts)
    W = features.word_vectors_.astype(np.float64)  # U_d S_d
    np.testing.assert_allclose(features.singular_values_, exact[:d], rtol=1e-4, atol=1e-4)
    # W = U S and U is orthonormal, so U U^T M = U S V^T: the best rank-d approximation
    U = W / np.linalg.norm(W, axis=0)
    residual = np.linalg.norm(M - U @ U.T @ M) ** 2
    assert residual == pytest.approx((exact[d:] ** 2).sum(), abs=1e-3 * (exact ** 2).sum())
    # and a small d on the same matrix keeps the top of the spectrum (d + 10 < V: approximate)
    small, _ = ppmi_svd(M.astype(np.float32), 5, eig=1.0)
    np.testing.assert_allclose(np.linalg.norm(small, axis=0), exact[:5], rtol=1e-3)


def test_full_rank_svd_keeps_document_cosines(fixtures):
    """With d = V and eig = 1, W W^T = M M^T: documents' cosines equal the sparse PPMI ones."""
    texts = rt_texts(fixtures)
    sparse = PPMIFeatures(min_count=2, dim=None).fit(texts)
    full = PPMIFeatures(min_count=2, dim=10**6, eig=1.0).fit(texts)  # clamped to V
    assert full.n_features_out_ == len(full.vocabulary_) == sparse.n_features_out_
    X_sparse, X_full = sparse.transform(texts).toarray(), full.transform(texts)
    np.testing.assert_allclose(X_full @ X_full.T, X_sparse @ X_sparse.T, atol=1e-4)
    half = PPMIFeatures(min_count=2, dim=10**6, eig=0.5).fit(texts).transform(texts)
    assert not np.allclose(half @ half.T, X_sparse @ X_sparse.T, atol=1e-2)  # eig matters


def test_svd_save_load_round_trip(tmp_path, fixtures):
    texts = rt_texts(fixtures)
    features = PPMIFeatures(min_count=1, window=3, dim=16, eig=0.0).fit(texts)
    features.save(tmp_path)
    from safetensors import safe_open
    with safe_open(tmp_path / "features.safetensors", framework="pt") as f:
        assert sorted(f.keys()) == ["singular_values", "word_vectors"]  # no PPMI matrix
    loaded = PPMIFeatures.load(tmp_path)
    assert loaded.get_params() == features.get_params()
    assert loaded.vocabulary_ == features.vocabulary_ and loaded.n_features_out_ == 16
    np.testing.assert_array_equal(loaded.word_vectors_, features.word_vectors_)
    np.testing.assert_array_equal(loaded.singular_values_, features.singular_values_)
    np.testing.assert_array_equal(loaded.transform(texts + ["zebra"]), features.transform(texts + ["zebra"]))


def test_refit_with_other_dim_drops_stale_state(fixtures):
    texts = rt_texts(fixtures)
    features = PPMIFeatures(min_count=2, dim=4).fit(texts)
    features.set_params(dim=None).fit(texts)
    assert not hasattr(features, "word_vectors_") and sp.issparse(features.transform(texts))
    features.set_params(dim=4).fit(texts)
    assert not hasattr(features, "ppmi_") and features.transform(texts).shape == (len(texts), 4)


@pytest.mark.parametrize("params, message", [
    ({"dim": 0}, "dim must be a positive integer or None"),
    ({"dim": 2.5}, "dim must be a positive integer or None"),
    ({"eig": -0.5}, "eig must be at least 0"),
])
def test_bad_svd_parameters_are_firth_errors(params, message):
    with pytest.raises(FirthError, match=message):
        PPMIFeatures(min_count=1, **params).fit(["a b a b"])
