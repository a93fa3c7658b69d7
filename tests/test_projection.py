"""The SGNN projection: stable hashing, modes, cache, pooling, save/load, sklearn use."""

import hashlib
import math
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from firth.errors import FirthError
from firth.features.projection import Projection, ProjectionConfig, ProjectionFeatures
from firth.text.readers import read_labelled

WORDS = ["start", "started", "starting", "banana", "zebra", "Élodie", "начало", "東京", "a"]
MASK64 = (1 << 64) - 1


def reference_projection(word: str, config: ProjectionConfig) -> np.ndarray:
    """A pure-Python reimplementation from the module docstring alone."""
    def splitmix(x):
        z = (x + 0x9E3779B97F4A7C15) & MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    word = unicodedata.normalize("NFKC", word[:100]).lower()[:100]
    marked = config.markers[0] + word + config.markers[1]
    sums = np.zeros(config.dim, dtype=np.int64)
    for n in range(config.ngram_range[0], config.ngram_range[1] + 1):
        for i in range(len(marked) - n + 1):
            key = 0xCBF29CE484222325
            for ch in marked[i:i + n]:
                key = ((key ^ ord(ch)) * 0x100000001B3) & MASK64
            for t in range(config.n_hashes):
                j, m = divmod(t, 4)
                w = splitmix(key ^ splitmix(config.seed * (1 << 20) + j))
                f = (w >> (16 * m)) & 0xFFFF
                sums[t * config.bits + (((f & 0x7FFF) * config.bits) >> 15)] += 1 if f & 0x8000 else -1
    sums = np.clip(sums, -127, 127)
    if config.mode == "binary":
        return (sums > 0).astype(np.float64)
    if config.mode == "ternary":
        return np.sign(sums).astype(np.float64)
    return sums / math.sqrt(config.n_hashes)


@pytest.mark.parametrize("mode", ["binary", "ternary", "float"])
def test_matches_the_documented_algorithm(mode):
    config = ProjectionConfig(mode=mode, n_hashes=6, bits=14, seed=3)
    got = Projection(config).project_words(WORDS).double().numpy()
    for word, row in zip(WORDS, got):
        assert np.allclose(row, reference_projection(word, config)), word


def test_known_answer_vectors_are_pinned():
    """A change of hashing changes these digests; update them only on purpose."""
    vectors = Projection().project_words(["firth", "company", "keeps"]).numpy()
    assert vectors.shape == (3, 1120) and vectors.dtype == np.int8
    assert [int(v.sum()) for v in vectors] == KNOWN_SUMS
    assert hashlib.sha256(vectors.tobytes()).hexdigest()[:16] == KNOWN_DIGEST


KNOWN_SUMS = [342, 368, 359]
KNOWN_DIGEST = "e0f1dc5dd5ed4696"

CHILD = """
import hashlib, sys
from firth.features.projection import Projection
v = Projection(seed=7, mode="ternary").project_words(sys.argv[1:]).numpy()
print(hashlib.sha256(v.tobytes()).hexdigest())
"""


def test_same_seed_same_vectors_in_another_process():
    here = Projection(seed=7, mode="ternary").project_words(WORDS).numpy()
    child = subprocess.run([sys.executable, "-c", CHILD, *WORDS], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""})
    assert child.stdout.strip() == hashlib.sha256(here.tobytes()).hexdigest()


def test_seed_changes_the_vectors():
    a = Projection(seed=0).project_words(WORDS)
    b = Projection(seed=1).project_words(WORDS)
    assert (a != b).float().mean() > 0.3


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return float(a @ b / (a.norm() * b.norm()))


@pytest.mark.parametrize("mode", ["binary", "ternary", "float"])
def test_similar_words_are_closer(mode):
    start, started, starting, banana, zebra = Projection(mode=mode).project_words(WORDS[:5])
    assert cosine(start, started) > cosine(start, banana) + 0.1
    assert cosine(starting, started) > cosine(starting, zebra) + 0.1


def test_mode_values():
    assert set(Projection(mode="binary").project_words(WORDS).unique().tolist()) == {0, 1}
    assert set(Projection(mode="ternary").project_words(WORDS).unique().tolist()) == {-1, 0, 1}
    floats = Projection(mode="float").project_words(WORDS)
    assert floats.dtype == torch.float32 and floats.abs().max() > 0


def test_cache_gives_the_same_vectors_as_no_cache():
    cold = Projection(cache_size=0)
    warm = Projection(cache_size=4)
    warm.project_words(WORDS[:3])  # cached
    mixed = WORDS + WORDS[::-1] + ["start"] * 5
    assert torch.equal(warm.project_words(mixed), cold.project_words(mixed))
    assert torch.equal(warm.project_words(WORDS[:3]), cold.project_words(WORDS[:3]))  # all hits
    assert len(warm._cache_ids) == 4 and len(cold._cache_ids) == 0  # bounded


def test_unicode_and_empty_input():
    projection = Projection()
    assert projection.project_words([]).shape == (0, 1120)
    assert projection.project_words(["東京", "مرحبا", "😀"]).abs().sum(1).min() > 0
    vectors, mask = projection(["", "Это начало. Ça va?"])
    assert vectors.shape == (2, 4, 1120)
    assert mask.tolist() == [[False] * 4, [True] * 4]
    assert vectors[0].abs().sum() == 0
    for how in ("mean", "max"):
        pooled = projection.pool(["", "hello world"], how)
        assert pooled.shape == (2, 1120) and pooled[0].abs().sum() == 0 and pooled[1].abs().sum() > 0
    assert projection.pool([], "max").shape == (0, 1120)


def test_padding_never_changes_a_text_vector():
    projection = Projection(mode="float")
    alone = projection.pool(["the cat sat"], "max")
    padded = projection.pool(["the cat sat", "a much longer text with many more words in it"], "max")
    assert torch.equal(alone[0], padded[0])


def test_save_load_reproduces_bit_for_bit(tmp_path):
    projection = Projection(mode="ternary", n_hashes=20, bits=16, seed=5, ngram_range=(2, 4))
    projection.save(tmp_path)
    loaded = Projection.load(tmp_path)
    assert loaded.config == projection.config
    assert torch.equal(loaded.project_words(WORDS), projection.project_words(WORDS))


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(FirthError, match="unknown projection mode 'bits'"):
        Projection(mode="bits")
    with pytest.raises(FirthError, match="ngram_range"):
        Projection(ngram_range=(3, 1))


def test_sklearn_pipeline(fixtures):
    data = read_labelled(fixtures / "bbc")
    pipeline = make_pipeline(ProjectionFeatures(mode="float"), LogisticRegression(max_iter=1000))
    pipeline.fit(data.texts, data.labels)
    assert pipeline.score(data.texts, data.labels) >= 8 / 9
    assert ProjectionFeatures().fit_transform(["a b", ""]).shape == (2, 1120)


def test_moves_with_to_device():
    projection = Projection().to("cpu")
    assert projection.device.type == "cpu" and list(projection.parameters()) == []


def test_public_names_import_lazily():
    import firth.features

    assert firth.features.Projection is Projection
    assert firth.features.feature_class("projection") is ProjectionFeatures


def test_large_batches_match_small_ones():
    """Many distinct words are hashed in length-sorted chunks; the order must come back."""
    rng = np.random.default_rng(0)
    letters = list("abcdefghijklmnopqrstuvwxyzéßж")
    vocabulary = ["".join(rng.choice(letters, size=rng.integers(1, 25))) for _ in range(5000)]
    vocabulary += ["ΟΔΟΣ", "Ὀδυσσεύς", "ﬁne", "x\0y"]  # final sigma, NFKC ligature, a NUL inside
    whole = Projection(cache_size=0).project_words(vocabulary)
    pieces = torch.cat([Projection(cache_size=0).project_words(vocabulary[i:i + 1000])
                        for i in range(0, len(vocabulary), 1000)])
    assert torch.equal(whole, pieces)
    single = Projection(cache_size=0)
    for i in (5000, 5001, 5002, 5003):
        assert torch.equal(whole[i], single.project_words([vocabulary[i]])[0])
    config = ProjectionConfig()
    assert np.allclose(whole[5000].double().numpy(), reference_projection("ΟΔΟΣ", config))


def test_total_dimension_sets_bits_per_hash():
    projection = Projection(dim=256, n_hashes=16)
    assert (projection.config.n_hashes, projection.config.bits, projection.dim) == (16, 16, 256)
    assert projection.project_words(["word"]).shape == (1, 256)
    with pytest.raises(FirthError, match="dim 100 is not a positive multiple of n_hashes 80"):
        Projection(dim=100)


def test_very_long_words_and_words_without_ngrams():
    """A word counts up to 100 code points; over 2048 n-grams it is summed in float32 instead of half
    precision, and both are exact."""
    config = ProjectionConfig(n_hashes=6, bits=14, mode="float", ngram_range=(1, 32))
    long_word = "ab" * 400 + "x" * 200  # 1002 characters: its first 100 count, 2,768 n-grams
    got = Projection(config).project_words([long_word, "short", long_word[:100]]).double().numpy()
    assert np.allclose(got[0], reference_projection(long_word, config))
    assert np.allclose(got[1], reference_projection("short", config))
    assert np.array_equal(got[0], got[2])
    bare = Projection(markers=("", ""), ngram_range=(2, 3))
    assert bare.project_words(["", "a"]).abs().sum() == 0  # no n-grams at all: a zero vector
