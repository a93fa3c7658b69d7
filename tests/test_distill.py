"""Distillation from a teacher's sentence vectors: the loss by hand, the teacher's cache (each sentence encoded
once, never again in later epochs or runs), training towards the teacher, and the static tier (no Transformer)."""

import math
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch

from firth.config import EncoderConfig
from firth.errors import FirthError
from firth.losses import make_loss
from firth.losses.distill import Distillation
from firth.losses.objective import EncoderObjective
from firth.models.encoder import EncoderOutput, SentenceEncoder
from firth.text.segment import words
from firth.train import teacher as teachers
from firth.train.paragraphs import SentenceTargets
from firth.train.teacher import TeacherVectors, teacher_vectors

DIM = 8


class CountingTeacher:
    """A fake sentence-transformers model: each sentence's vector is the sum of fixed random vectors of its
    lowercased words (so a student can learn it), and every sentence it is asked for is recorded."""

    def __init__(self):
        self.asked: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.asked.extend(texts)
        return np.stack([sum((self.word(w) for w in text.lower().split()), np.zeros(DIM)) for text in texts])

    @staticmethod
    def word(word: str) -> np.ndarray:
        return np.random.default_rng(zlib.crc32(word.encode())).standard_normal(DIM)


def paragraphs() -> list[list[str]]:
    topics = ["cats purr softly", "ships sail north", "rain falls hard", "bread bakes slowly", "bees hum loudly"]
    return [[f"Story {p} sentence {s}: {topics[p % 5]} today." for s in range(3)] for p in range(30)]


def test_the_distillation_measures_by_hand():
    student = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    teacher = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    # cosine: (1 - 1) and (1 - 1/sqrt 2), averaged
    assert Distillation("cosine")(student, teacher).item() == pytest.approx((1 - 1 / math.sqrt(2)) / 2)
    # similarity: the off-diagonal cosines are 0 (student) and 1/sqrt 2 (teacher): (1/sqrt 2)^2 each
    assert Distillation("similarity")(student, teacher).item() == pytest.approx(0.5)
    with pytest.raises(FirthError, match="unknown distillation measure 'mse'"):
        Distillation("mse")


def test_the_objective_mixes_the_sentence_loss_and_the_distillation():
    torch.manual_seed(0)
    vectors, teacher = torch.randn(4, 3), torch.randn(4, 3)
    groups = torch.tensor([0, 0, 1, 1])
    output = EncoderOutput(vectors, None, torch.zeros(4, 1, 3), torch.ones(4, 1, dtype=torch.bool))
    infonce, cosine = make_loss("infonce"), Distillation("cosine")
    objective = EncoderObjective(infonce, distillation=cosine, distill_weight=0.25)
    expected = 0.75 * infonce(vectors, groups) + 0.25 * cosine(vectors, teacher)
    assert torch.isclose(objective(output, SentenceTargets(groups, teacher)), expected)
    assert torch.isclose(objective(output, SentenceTargets(groups)), infonce(vectors, groups))  # no teacher vectors


def test_the_teacher_encodes_each_sentence_once_and_the_cache_serves_later_runs(tmp_path):
    teacher, cache = CountingTeacher(), tmp_path / "cache.safetensors"
    sentences = ["a b", "c d e", "a b", "f"]
    vectors = teacher_vectors(teacher, sentences, cache, chunk=2)
    assert sorted(teacher.asked) == ["a b", "c d e", "f"] and cache.exists()
    assert teacher.asked[:2] == ["c d e", "a b"]  # a chunk goes longest first: less padding in the teacher
    expected = teacher(["f", "a b"])
    teacher.asked.clear()
    found = vectors.lookup(["f", "a b"])
    assert found.shape == (2, DIM) and found.dtype == torch.float32
    assert np.allclose(found.numpy(), expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-3)
    again = CountingTeacher()
    teacher_vectors(again, sentences + ["g h"], cache)
    assert again.asked == ["g h"]  # only what the cache lacks
    assert len(TeacherVectors.load(cache)) == 4
    with pytest.raises(FirthError, match="the teacher's vectors lack the training sentence 'unseen'"):
        vectors.lookup(["unseen"])
    cache.write_bytes(b"not safetensors")
    with pytest.raises(FirthError, match="not a teacher-vector cache"):
        teacher_vectors(again, sentences, cache)


@pytest.fixture
def fake_teacher(tmp_path, monkeypatch) -> CountingTeacher:
    """--teacher DIR served by a CountingTeacher, its cache under a fresh FIRTH_HOME."""
    teacher = CountingTeacher()
    monkeypatch.setenv("FIRTH_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(teachers, "load_teacher", lambda directory: teacher)
    (tmp_path / "teacher").mkdir()
    (tmp_path / "teacher" / "modules.json").write_text("[]")
    return teacher


def student(tmp_path, **kw) -> SentenceEncoder:
    return SentenceEncoder(**{"d_model": 16, "n_layers": 0, "d_ff": 16, "n_heads": 2, "head_dim": DIM,
                              "teacher": str(tmp_path / "teacher"), "distill_weight": 1.0, "batch_size": 16,
                              "max_per_paragraph": 3, "val_paragraphs": 0, "epochs": 3, "lr": 1e-2,
                              "schedule": "constant", "warmup": 0, "eval_every": None, "num_workers": 0,
                              "progress": False, "projection": {"mode": "float", "n_hashes": 8, "bits": 16},
                              **kw})


def test_training_moves_the_student_to_the_teacher_which_is_asked_once(fake_teacher, tmp_path):
    corpus = paragraphs()
    sentences = [s for p in corpus for s in p]
    target = fake_teacher(sentences)
    fake_teacher.asked.clear()

    def agreement(encoder: SentenceEncoder) -> float:
        vectors = encoder.encode(sentences, normalize_embeddings=True)
        return float(np.mean(np.sum(vectors * target / np.linalg.norm(target, axis=1, keepdims=True), axis=1)))

    encoder = student(tmp_path)
    before = agreement(encoder)
    encoder.fit(corpus)
    assert sorted(fake_teacher.asked) == sorted(sentences)  # once each, over 3 epochs
    assert agreement(encoder) > before + 0.3
    assert encoder.history_[-1]["train_loss"] < 0.5 * encoder.history_[0]["train_loss"]
    fake_teacher.asked.clear()
    student(tmp_path, seed=1).fit(corpus)
    assert fake_teacher.asked == []  # the next run reads the cache


def test_a_student_of_another_width_needs_the_similarity_measure(fake_teacher, tmp_path):
    with pytest.raises(FirthError, match="distill cosine compares the sentence vectors with the teacher's 8-wide "
                                         "ones, but they are 16 wide; set head_dim to 8"):
        student(tmp_path, head_dim=16).fit(paragraphs())
    trained = student(tmp_path, head_dim=None, lexical=False, distill="similarity", epochs=1).fit(paragraphs())
    assert trained.dim == 16


def test_the_static_tier_pools_projected_words_with_no_transformer(tmp_path):
    encoder = SentenceEncoder(d_model=16, n_layers=0, n_heads=2, d_ff=16, lexical=True, progress=False)
    assert not any("layers" in name for name, _ in encoder.net.named_parameters())
    texts = ["Cats purr.", "Ships sail north today.", ""]
    vectors = encoder.encode(texts)
    assert vectors.shape == (3, 16 + encoder.net.projection.dim) and np.isfinite(vectors).all()
    shuffled = encoder.encode(["Purr cats.", "today north sail Ships."])  # a bag: word order does not count
    assert np.allclose(vectors[:2], shuffled, atol=1e-5)
    encoder.save(tmp_path / "static")
    assert np.array_equal(SentenceEncoder.load(tmp_path / "static").encode(texts), vectors)


def test_a_missing_teacher_directory_is_one_sentence(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(" ".join(p) for p in paragraphs()), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "firth", "encoder", "train", str(corpus), "--teacher",
                             str(tmp_path / "nowhere"), "--out", str(tmp_path / "run"), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == f"firth: error: teacher {tmp_path / 'nowhere'}: no such directory.\n"


def test_the_static_tier_s_cached_word_vectors_give_what_forward_gives():
    encoder = SentenceEncoder(d_model=16, n_layers=0, n_heads=2, d_ff=16, lexical=False, pooling="meanmax",
                              head_dim=8, progress=False)
    texts = ["Cats purr.", "Ships sail north today, and cats purr.", "", "Purr."]
    cached = encoder.encode(texts, batch_size=2)
    assert encoder.net.word_cache.size == len({w for t in texts for w in words(t, lowercase=False)})  # once each
    again = encoder.encode(texts[::-1], batch_size=3)[::-1]
    net = encoder.net
    net.word_cache = None  # the uncached path: forward on projected texts
    assert np.allclose(cached, encoder.encode(texts), atol=1e-6) and np.allclose(again, cached, atol=1e-6)
    net.word_cache = type(SentenceEncoder(n_layers=0, lexical=False).net.word_cache)(capacity=3)
    assert np.allclose(encoder.encode(texts, batch_size=1), cached, atol=1e-6)  # starting over every 3 words
    net.word_cache = type(net.word_cache)()
    encoder.encode(texts)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1, fused=True)  # as the Trainer steps: uncounted
    net.embed.weight.sum().backward()
    optimizer.step()  # the weights change: the cache must start over
    stepped = encoder.encode(texts, batch_size=1)
    net.word_cache = None
    assert np.allclose(stepped, encoder.encode(texts), atol=1e-6) and not np.allclose(stepped, cached, atol=1e-3)


def test_the_static_tier_s_cache_follows_training():
    corpus = paragraphs()
    encoder = SentenceEncoder(d_model=16, n_layers=0, n_heads=2, d_ff=16, lexical=False, val_paragraphs=10,
                              batch_size=16, max_per_paragraph=3, epochs=3, lr=1e-2, schedule="constant", warmup=0,
                              num_workers=0, progress=False, projection={"mode": "float", "n_hashes": 8, "bits": 16})
    texts = [s for p in corpus[:5] for s in p]
    encoder.encode(texts)  # the cache holds the initial weights' word vectors
    encoder.fit(corpus)  # steps (fused Adam), validations (which fill the cache), the best weights restored
    cached = encoder.encode(texts)
    encoder.net.word_cache = None
    assert np.allclose(cached, encoder.encode(texts), atol=1e-6)


def test_bad_teacher_settings_are_one_sentence(tmp_path):
    with pytest.raises(FirthError, match="not a sentence-transformers model directory"):
        teachers.load_teacher(tmp_path)  # a directory, but no model in it
    with pytest.raises(FirthError, match="distill_weight must be at least 0 and at most 1, got 1.5"):
        EncoderConfig(distill_weight=1.5)
    with pytest.raises(FirthError, match="unknown distill 'mse'"):
        EncoderConfig(distill="mse")
    with pytest.raises(FirthError, match="n_layers"):
        EncoderConfig(n_layers=-1)
