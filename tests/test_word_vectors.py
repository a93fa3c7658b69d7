"""Word-vector files (word2vec text/binary, GloVe) and AveragedWordVectors."""

import numpy as np
import pytest

from firth.errors import FirthError
from firth.features.word_vectors import (
    AveragedWordVectors,
    read_glove_text,
    read_word2vec_binary,
    read_word2vec_text,
    write_word2vec_binary,
    write_word2vec_text,
)

WORDS = ["the", "cat", "sat", "café", "東京", "don't"]
VECTORS = np.array([
    [1.0, 0.0], [0.0, 2.0], [3.0, 3.0],
    [0.1, -1e-8], [3.4e38, -1.17549435e-38], [np.pi, -np.e],
], dtype=np.float32)


def write_glove(path, words, vectors):
    lines = (w + " " + " ".join(f"{v:.9g}" for v in row) for w, row in zip(words, vectors.tolist()))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("write, read, name", [
    (write_word2vec_text, read_word2vec_text, "v.vec"),
    (write_word2vec_binary, read_word2vec_binary, "v.bin"),
    (write_glove, read_glove_text, "v.txt"),
])
def test_round_trip_is_exact(tmp_path, write, read, name):
    write(tmp_path / name, WORDS, VECTORS)
    words, vectors = read(tmp_path / name)
    assert words == WORDS
    assert vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, VECTORS)


def test_binary_entries_without_newlines_and_text_trailing_spaces(tmp_path):
    body = b"".join(w.encode() + b" " + v.astype("<f4").tobytes() for w, v in zip(WORDS[:2], VECTORS[:2]))
    (tmp_path / "v.bin").write_bytes(b"2 2\n" + body)
    words, vectors = read_word2vec_binary(tmp_path / "v.bin")
    assert words == WORDS[:2]
    np.testing.assert_array_equal(vectors, VECTORS[:2])
    (tmp_path / "v.vec").write_text("1 2\nthe 1 0 \r\n", encoding="utf-8")
    assert read_word2vec_text(tmp_path / "v.vec")[0] == ["the"]


@pytest.mark.parametrize("content, message", [
    ("3 2\nthe 1 0\ncat 0 2 5\nsat 3 3\n", "line 3 has 3 values after the word, expected 2"),
    ("3 2\nthe 1 0\ncat 0 2\n", "the header says 3 words but the file has 2"),
    ("the 1 0\ncat 0 2\n", "line 1 is not a word2vec header"),
    ("2 2\nthe 1 0\ncat 0 x\n", "line 3 has a value that is not a number"),
    (b"2 2\nthe 1 0\ncaf\xe9 0 2\n", "line 3 is not valid UTF-8"),
    ("", "is empty"),
])
def test_malformed_word2vec_text(tmp_path, content, message):
    path = tmp_path / "bad.vec"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(FirthError, match=f"bad.vec: {message}"):
        read_word2vec_text(path)


def test_malformed_glove(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("the 1 0\ncat 0 2\nsat 3\n", encoding="utf-8")
    with pytest.raises(FirthError, match="bad.txt: line 3 has 1 values after the word, expected 2"):
        read_glove_text(path)


def test_malformed_word2vec_binary(tmp_path):
    path = tmp_path / "bad.bin"
    write_word2vec_binary(path, WORDS[:2], VECTORS[:2])
    data = path.read_bytes()
    path.write_bytes(data[:-6])
    with pytest.raises(FirthError, match="bad.bin: is truncated in entry 2"):
        read_word2vec_binary(path)
    path.write_bytes(b"two 2\n" + data[4:])
    with pytest.raises(FirthError, match="bad.bin: line 1 is not a word2vec header"):
        read_word2vec_binary(path)
    path.write_bytes(data.replace(b"cat", b"c\xfft"))
    with pytest.raises(FirthError, match="bad.bin: the word of entry 2 .* is not valid UTF-8"):
        read_word2vec_binary(path)
    path.write_bytes(data + b"extra")
    with pytest.raises(FirthError, match="bad.bin: has data after the 2 vectors"):
        read_word2vec_binary(path)


def test_writer_rejects_words_it_cannot_store(tmp_path):
    with pytest.raises(FirthError, match="contains a space"):
        write_word2vec_text(tmp_path / "v.vec", ["new york"], VECTORS[:1])
    assert not (tmp_path / "v.vec").exists()


@pytest.fixture
def glove_file(tmp_path):
    return write_glove(tmp_path / "tiny.txt", WORDS, VECTORS)


def test_averaging_hand_checked(glove_file):
    features = AveragedWordVectors(vectors=str(glove_file)).fit(["anything"])
    X = features.transform(["The cat sat.", "the dog", "zebra quagga"])
    assert X.dtype == np.float32 and X.shape == (3, 2) and features.n_features_out_ == 2
    np.testing.assert_allclose(X[0], [4 / 3, 5 / 3], rtol=1e-6)  # (the + cat + sat) / 3
    np.testing.assert_array_equal(X[1], [1.0, 0.0])  # "dog" is skipped
    np.testing.assert_array_equal(X[2], [0.0, 0.0])  # no known token: zero vector
    assert features.oov_rate_ == pytest.approx(3 / 7)


def test_lowercase_false_keeps_case(glove_file):
    features = AveragedWordVectors(vectors=str(glove_file), lowercase=False).fit([])
    np.testing.assert_array_equal(features.transform(["The cat"]), [[0.0, 2.0]])
    assert features.oov_rate_ == 0.5


@pytest.mark.parametrize("write, name, format", [
    (write_word2vec_text, "v.vec", None),
    (write_word2vec_text, "v.txt", None),  # a "V D" first line means word2vec text
    (write_word2vec_binary, "v.bin", None),
    (write_word2vec_binary, "v.data", "word2vec-binary"),
])
def test_formats_are_detected_or_forced(tmp_path, write, name, format):
    write(tmp_path / name, WORDS, VECTORS)
    features = AveragedWordVectors(vectors=str(tmp_path / name), format=format).fit([])
    np.testing.assert_array_equal(features.transform(["sat"]), VECTORS[2:3])


def test_duplicate_words_keep_the_first_vector(tmp_path):
    path = write_glove(tmp_path / "dup.txt", ["the", "the"], VECTORS[:2])
    features = AveragedWordVectors(vectors=str(path)).fit([])
    np.testing.assert_array_equal(features.transform(["the"]), VECTORS[:1])


def test_bad_arguments_are_firth_errors(glove_file):
    with pytest.raises(FirthError, match="unknown oov policy"):
        AveragedWordVectors(vectors=str(glove_file), oov="zero").fit([])
    with pytest.raises(FirthError, match="unknown word-vector format"):
        AveragedWordVectors(vectors=str(glove_file), format="fasttext").fit([])
    with pytest.raises(FirthError, match="is a paragraphs dataset, not word vectors"):
        AveragedWordVectors(vectors="wiki-sample").fit([])
    with pytest.raises(FirthError, match="unknown dataset"):
        AveragedWordVectors(vectors="no-such-vectors").fit([])


def test_save_keeps_only_the_training_words(tmp_path, glove_file):
    features = AveragedWordVectors(vectors=str(glove_file)).fit(["the cat", "café cat"])
    features.save(tmp_path, prefix="wv")
    loaded = AveragedWordVectors.load(tmp_path, prefix="wv")
    assert loaded.get_params() == features.get_params()
    assert sorted(loaded.index_) == ["café", "cat", "the"]
    texts = ["the cat", "café the dog"]
    np.testing.assert_array_equal(loaded.transform(texts), features.transform(texts))
    # "sat" is in the table but not in the training texts: the loaded model treats it as OOV
    np.testing.assert_array_equal(loaded.transform(["sat the"]), [[1.0, 0.0]])
    np.testing.assert_allclose(features.transform(["sat the"]), [[2.0, 1.5]])
