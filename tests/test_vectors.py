"""KeyedVectors: gensim's verbs on hand-made vectors, the evaluations against gensim's figures, files."""

import numpy as np
import pytest
from scipy import stats

from firth.data.loaders import Analogy, WordPair
from firth.errors import FirthError
from firth.evaluate.word_similarity import evaluate_word_analogies, evaluate_word_pairs
from firth.features.projection import ProjectionConfig
from firth.vectors import KeyedVectors, ProjectionEncoder


def tiny_vectors() -> tuple[list[str], np.ndarray]:
    """24 words in 6 dims: b_k = a_k + one offset (analogies), x_k others, and "B0", a case
    variant of b0 placed exactly on the 3CosAdd query of "a0 : b0 :: a1 : ?"."""
    i, j = np.arange(24)[:, None], np.arange(6)[None, :]
    vectors = (np.sin(1.3 * i * (j + 1) + 0.5 * j) + 0.3 * np.cos(0.7 * i + j)).astype(np.float32)
    vectors[8:16] = vectors[:8] + np.array([1.5, -1.0, 0.5, 0.0, 1.0, -0.5], np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[22] = unit[8] + unit[1] - unit[0]
    words = [f"a{k}" for k in range(8)] + [f"b{k}" for k in range(8)] + [f"x{k}" for k in range(6)] + ["B0", "b2B"]
    return words, vectors


ANALOGIES = """: pairs
a0 b0 a1 b1
a1 b1 a2 b2
a2 b2 a3 b3
a3 b3 a4 b4
a4 b4 a5 b5
a5 b5 a6 b6
a6 b6 a7 b7
a7 b7 a0 b0
a0 b0 x0 x1
b3 a3 b5 a5
: mixed
A0 B0 A2 B2
a0 b0 zz b1
x0 x1 x2 x3
a1 b1 x4 x5
a2 b2 a3 b2B
"""

PAIRS = "# word1\tword2\tscore\n" + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in [
    ("a0", "b0", 9.0), ("a1", "b1", 8.5), ("a0", "a1", 3.0), ("x0", "x1", 1.0), ("a2", "x3", 2.0),
    ("b4", "a4", 7.5), ("A5", "B5", 8.0), ("x4", "x5", 5.0), ("zz", "a0", 4.0), ("b6", "x2", 0.5)])

# Computed once with gensim 4.4.0's KeyedVectors on tiny_vectors() and these files:
# options -> (analogy accuracy, [(section, correct, incorrect)], pair Pearson, Spearman, pair OOV %)
GENSIM = {
    (): (0.5714285714285714, [("pairs", 7, 3), ("mixed", 1, 3), ("Total accuracy", 8, 6)],
         0.9312061646347158, 0.8333333333333333, 10.0),
    (("restrict_vocab", 20),): (0.6666666666666666, [("pairs", 7, 3), ("mixed", 1, 1), ("Total accuracy", 8, 4)],
                                0.9512541464918949, 0.8095238095238096, 20.0),
    (("dummy4unknown", True),): (0.5333333333333333, [("pairs", 7, 3), ("mixed", 1, 4), ("Total accuracy", 8, 7)],
                                 0.9166724024966821, 0.7939393939393938, 10.0),
    (("case_insensitive", False),): (0.46153846153846156,
                                     [("pairs", 6, 4), ("mixed", 0, 3), ("Total accuracy", 6, 7)],
                                     0.9220508467100558, 0.8095238095238096, 20.0),
}


@pytest.fixture
def kv() -> KeyedVectors:
    return KeyedVectors(*tiny_vectors())


@pytest.fixture
def benchmark_files(tmp_path):
    (tmp_path / "analogies.txt").write_text(ANALOGIES, encoding="utf-8")
    (tmp_path / "pairs.tsv").write_text(PAIRS, encoding="utf-8")
    return tmp_path / "analogies.txt", tmp_path / "pairs.tsv"


def cosines(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    return vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))


# ---- queries -------------------------------------------------------------------


def test_most_similar_is_cosine_to_the_mean_of_unit_vectors_without_the_inputs(kv):
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    expected = cosines(kv.vectors, unit[8] + unit[1] - unit[0])
    expected[[0, 1, 8]] = -np.inf
    order = np.argsort(-expected)[:3]
    got = kv.most_similar(positive=["b0", "a1"], negative=["a0"], topn=3)
    assert [w for w, _ in got] == [kv.index_to_key[i] for i in order] == ["B0", "b1", "b6"]
    np.testing.assert_allclose([s for _, s in got], expected[order], rtol=1e-5)
    assert kv.most_similar("a3", topn=2) == kv.most_similar(["a3"], topn=2)
    assert all(w != "a3" for w, _ in kv.most_similar("a3", topn=30))
    assert len(kv.most_similar("a3", topn=30)) == 23


def test_restrict_vocab_limits_the_candidates(kv):
    assert {w for w, _ in kv.most_similar("a0", topn=50, restrict_vocab=5)} == {"a1", "a2", "a3", "a4"}


def test_cosmul_and_analogy_methods(kv):
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    shifted = (1 + unit @ unit.T) / 2  # column k: every word's cosine with word k, shifted to [0, 1]
    expected = shifted[:, 8] * shifted[:, 1] / (shifted[:, 0] + 1e-6)
    best = [w for w, _ in kv.most_similar_cosmul(positive=["b0", "a1"], negative=["a0"], topn=2)]
    assert best == ["B0", "b1"]
    np.testing.assert_allclose(kv.most_similar_cosmul(["b0", "a1"], ["a0"], topn=1)[0][1], expected[22], rtol=1e-5)
    assert kv.analogy("a2", "b2", "a4", method="3cosadd")[0][0] == "b4"
    assert kv.analogy("a2", "b2", "a4", method="3cosmul")[0][0] == "b4"
    with pytest.raises(FirthError, match="unknown analogy method"):
        kv.analogy("a2", "b2", "a4", method="3coswhat")


def test_similarity_doesnt_match_and_lookup(kv):
    assert kv.similarity("a0", "b0") == pytest.approx(cosines(kv.vectors[[8]], kv.vectors[0])[0], rel=1e-6)
    assert kv.similarity("a5", "a5") == pytest.approx(1.0)
    odd = ["a0", "b0", "a1", "b1", "x3"]
    units = np.stack([kv.get_vector(w, norm=True) for w in odd])
    assert kv.doesnt_match(odd) == odd[int(np.argmin(units @ units.mean(0)))]
    assert kv["a2"].shape == (6,) and kv[["a2", "b2"]].shape == (2, 6)
    assert "a2" in kv and "zz" not in kv and len(kv) == 24 and kv.vector_size == 6


@pytest.mark.parametrize("call", [
    lambda kv: kv.most_similar("zz"),
    lambda kv: kv.similarity("a0", "zz"),
    lambda kv: kv["zz"],
])
def test_an_unknown_word_is_a_clear_error(kv, call):
    with pytest.raises(FirthError, match="word 'zz' is not in the vocabulary"):
        call(kv)


def test_bad_vector_tables_are_refused():
    with pytest.raises(FirthError, match="one vector per word"):
        KeyedVectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(FirthError, match="a word twice"):
        KeyedVectors(["a", "a"], np.zeros((2, 2)))


# ---- evaluation: gensim's figures ------------------------------------------------


@pytest.mark.parametrize("options", list(GENSIM))
def test_evaluations_agree_with_gensim(kv, benchmark_files, options):
    analogies, pairs = benchmark_files
    accuracy, sections, pearson, spearman, pair_oov = GENSIM[options]
    result = kv.evaluate_word_analogies(analogies, **dict(options))
    assert result.score == pytest.approx(accuracy)
    assert [(s["section"], len(s["correct"]), len(s["incorrect"])) for s in result.sections] == sections
    scores = kv.evaluate_word_pairs(pairs, **dict(options))
    assert scores.pearson[0] == pytest.approx(pearson, abs=1e-6)
    assert scores.spearman[0] == pytest.approx(spearman, abs=1e-9)
    assert scores.oov_ratio == pytest.approx(pair_oov)


def test_a_case_variant_of_an_input_is_never_the_answer(kv):
    question = [Analogy("s", "a0", "b0", "a1", "b1")]
    assert kv.evaluate_word_analogies(question).score == 1.0  # "B0" is skipped as a variant of b0
    assert kv.evaluate_word_analogies(question, case_insensitive=False).score == 0.0  # "B0" answers


def test_analogy_oov_ratio_and_3cosmul(kv):
    questions = [Analogy("s", "a0", "b0", "a2", "b2"), Analogy("s", "a0", "b0", "zz", "b2"),
                 Analogy("t", "a1", "b1", "a3", "b3"), Analogy("t", "A1", "B1", "A3", "B3")]
    result = evaluate_word_analogies(kv, questions, method="3cosmul")
    assert result.oov_ratio == 25.0
    assert [s["section"] for s in result.sections] == ["s", "t", "Total accuracy"]
    assert len(result.sections[-1]["correct"]) + len(result.sections[-1]["incorrect"]) == 3


def test_word_pairs_spearman_is_scipys_on_the_cosines(kv):
    pairs = [WordPair("a0", "b0", 9.0), WordPair("a1", "x2", 1.0), WordPair("b3", "a3", 6.0),
             WordPair("x0", "x5", 2.5), WordPair("A4", "B4", 7.0), WordPair("a0", "nope", 3.0)]
    result = evaluate_word_pairs(kv, pairs)
    known = pairs[:5]
    model = [kv.similarity(a.lower(), b.lower()) for a, b, _ in known]
    assert result.spearman[0] == pytest.approx(stats.spearmanr([p.score for p in known], model)[0])
    assert result.oov_ratio == pytest.approx(100 / 6)


def test_bad_benchmarks_are_clear_errors(kv, tmp_path):
    with pytest.raises(FirthError, match="no such file"):
        kv.evaluate_word_pairs(tmp_path / "missing.tsv")
    with pytest.raises(FirthError, match="no word pair"):
        kv.evaluate_word_pairs([WordPair("zz", "yy", 1.0)])
    (tmp_path / "bad.txt").write_text(": s\na b\n", encoding="utf-8")
    with pytest.raises(FirthError, match="bad.txt"):
        kv.evaluate_word_analogies(tmp_path / "bad.txt")


# ---- files ----------------------------------------------------------------------


def test_model_directory_round_trip(kv, tmp_path):
    kv = KeyedVectors(kv.index_to_key, kv.vectors, counts=np.arange(24, 0, -1))
    kv.save(tmp_path / "vectors")
    assert sorted(p.name for p in (tmp_path / "vectors").iterdir()) == [
        "README.md", "card.json", "checksums.json", "config.json", "model.safetensors"]
    loaded = KeyedVectors.load(tmp_path / "vectors")
    assert loaded.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)
    np.testing.assert_array_equal(loaded.counts, kv.counts)
    assert loaded.encoder is None


def test_loading_what_is_not_a_vectors_directory_fails_clearly(tmp_path):
    with pytest.raises(FirthError, match="no such model directory"):
        KeyedVectors.load(tmp_path / "nothing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"type": "classifier"}', encoding="utf-8")
    with pytest.raises(FirthError, match="not a firth KeyedVectors or Word2Vec directory"):
        KeyedVectors.load(tmp_path / "other")


@pytest.mark.parametrize("binary, name", [(False, "v.txt"), (True, "v.bin")])
def test_word2vec_format_round_trip(kv, tmp_path, binary, name):
    kv.save_word2vec_format(tmp_path / name, binary=binary)
    loaded = KeyedVectors.load_word2vec_format(tmp_path / name)
    assert loaded.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)
    assert KeyedVectors.load_word2vec_format(tmp_path / name, binary=binary).index_to_key == kv.index_to_key


def test_word2vec_text_with_a_repeated_word_keeps_the_first(tmp_path):
    (tmp_path / "v.txt").write_text("3 2\ncat 1 0\ndog 0 1\ncat 5 5\n", encoding="utf-8")
    loaded = KeyedVectors.load_word2vec_format(tmp_path / "v.txt")
    assert loaded.index_to_key == ["cat", "dog"]
    np.testing.assert_array_equal(loaded["cat"], [1, 0])


# ---- vectors for unknown words ------------------------------------------------------


def test_an_encoder_gives_any_word_a_vector_and_survives_save(tmp_path):
    config = ProjectionConfig(n_hashes=8, bits=4, mode="float")
    weight = np.random.default_rng(0).normal(size=(config.dim, 3)).astype(np.float32)
    encoder = ProjectionEncoder(config, weight)
    kv = KeyedVectors(["cat", "dog"], encoder(["cat", "dog"]), encoder=encoder)
    vector = kv.get_vector("catz")
    assert "catz" not in kv and vector.shape == (3,)
    np.testing.assert_allclose(vector, encoder.features(["catz"]).numpy()[0] @ weight, rtol=1e-5)
    assert kv.most_similar("catz", topn=2)[0][0] in {"cat", "dog"}
    kv.save(tmp_path / "m")
    loaded = KeyedVectors.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.get_vector("catz"), vector)
