"""Quantized sentence vectors: 256 levels a dimension or its sign, as sentence-transformers' quantize_embeddings."""

import numpy as np
import pytest
import torch

import firth
from firth.errors import FirthError
from firth.runtime.quantize import calibration_ranges, dequantize_embeddings, quantize_embeddings

VECTORS = np.array([[-1.0, 0.0, 2.0, 5.0], [1.0, 0.5, -2.0, 5.0], [0.0, 1.0, 0.0, 5.0]], dtype=np.float32)


def test_eight_bits_cut_each_dimensions_range_into_256_levels():
    codes = quantize_embeddings(VECTORS, "uint8")
    assert codes.dtype == np.uint8 and codes[:, :3].min(0).tolist() == [0, 0, 0]
    assert codes[:, :3].max(0).tolist() == [255, 255, 255] and codes[:, 3].tolist() == [0, 0, 0]  # a constant one
    assert codes[2, 0] in (127, 128) and codes[1, 1] in (127, 128)  # the middles: 127.5, rounded in float32
    assert np.array_equal(quantize_embeddings(VECTORS, "int8"), (codes.astype(np.int16) - 128).astype(np.int8))
    fixed = quantize_embeddings(VECTORS, "uint8", ranges=np.array([[-4] * 4, [4] * 4]))
    assert fixed[0, [0, 2, 3]].tolist() == [96, 191, 255] and fixed[0, 1] in (127, 128)  # -1, 2, 5 (clipped), 0


def test_one_bit_keeps_each_dimensions_sign_eight_a_byte():
    vectors = np.array([[1, -1, 1, 1, -1, -1, -1, 1, 1, 0.0]], dtype=np.float32)
    ubinary = quantize_embeddings(vectors, "ubinary")
    assert ubinary.dtype == np.uint8 and ubinary.tolist() == [[0b10110001, 0b10000000]]
    assert quantize_embeddings(vectors, "binary").tolist() == [[0b10110001 - 128, 0b10000000 - 128]]


@pytest.mark.parametrize("precision", ["int8", "uint8"])
def test_eight_bit_codes_come_back_within_half_a_level(precision):
    vectors = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    ranges = calibration_ranges(vectors)
    back = dequantize_embeddings(quantize_embeddings(vectors, precision, ranges), precision, ranges)
    step = (ranges[1] - ranges[0]) / 255
    assert back.dtype == np.float32 and np.all(np.abs(back - vectors) <= step / 2 + 1e-6)
    outside = dequantize_embeddings(quantize_embeddings(vectors * 3, precision, ranges), precision, ranges)
    assert np.allclose(outside.min(0), ranges[0]) and np.allclose(outside.max(0), ranges[1])  # clipped to range
    with pytest.raises(FirthError, match="need the ranges they were cut with"):
        dequantize_embeddings(quantize_embeddings(vectors, precision, ranges), precision)


@pytest.mark.parametrize("precision", ["binary", "ubinary"])
def test_bits_come_back_as_signs_and_rank_by_hamming_distance(precision):
    vectors = np.random.default_rng(1).normal(size=(20, 10)).astype(np.float32)
    signs = dequantize_embeddings(quantize_embeddings(vectors, precision), precision, dim=10)
    assert signs.shape == (20, 10) and np.array_equal(signs, np.where(vectors > 0, 1.0, -1.0))
    hamming = (signs[:, None, :] != signs[None, :, :]).sum(-1)
    assert np.array_equal(signs @ signs.T, 10 - 2 * hamming)  # dot product = dim - 2 x Hamming distance


@pytest.mark.parametrize("precision, ranges, message", [
    ("int4", None, "unknown precision 'int4'; choose one of float32, int8, uint8, binary, ubinary."),
    ("int8", np.zeros((2, 3)), "ranges must be [2, 4] (minima, then maxima), got [2, 3]."),
])
def test_bad_precisions_and_ranges_are_one_sentence(precision, ranges, message):
    with pytest.raises(FirthError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        quantize_embeddings(VECTORS, precision, ranges)


def test_encoders_quantize_their_vectors_alike(tmp_path):
    from firth.models.export import export

    torch.manual_seed(0)
    encoder = firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32)
    texts = ["Cats sleep all day.", "Dogs bark at night.", "The market fell sharply.", "Shares rose."]
    vectors = encoder.encode(texts, normalize_embeddings=True)
    for precision in ("int8", "ubinary"):
        assert np.array_equal(encoder.encode(texts, normalize_embeddings=True, precision=precision),
                              quantize_embeddings(vectors, precision))
    ranges = calibration_ranges(vectors[:2])  # calibrated on other texts: the others' codes clip, as an index's would
    assert np.array_equal(encoder.encode(texts, normalize_embeddings=True, precision="int8", ranges=ranges),
                          quantize_embeddings(vectors, "int8", ranges))
    encoder.save(tmp_path / "encoder")
    export(tmp_path / "encoder", tmp_path / "onnx")
    runtime = firth.runtime.load(tmp_path / "onnx")
    assert np.array_equal(runtime.encode(texts, precision="binary"), encoder.encode(texts, precision="binary"))
    assert np.abs(runtime.encode(texts, precision="uint8", ranges=ranges).astype(int)
                  - encoder.encode(texts, precision="uint8", ranges=ranges).astype(int)).max() <= 1
    with pytest.raises(FirthError, match="unknown precision 'half'"):
        runtime.encode(texts, precision="half")


def test_encode_does_not_depend_on_the_batch_size():
    torch.manual_seed(0)
    encoder = firth.SentenceEncoder(d_model=16, n_layers=2, n_heads=2, d_ff=32)
    texts = ["A short one.", "A somewhat longer sentence with more words in it.", "x", "Two words.",
             "The market fell sharply after the central bank raised its rates again."] * 3
    whole = encoder.encode(texts, batch_size=64)
    for batch_size in (1, 2, 7):
        assert np.abs(encoder.encode(texts, batch_size=batch_size) - whole).max() <= 1e-5


def test_the_compact_head_sets_the_vectors_width_whatever_the_pooled_width():
    torch.manual_seed(0)
    encoder = firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32, head_dim=24)  # lexical bag included
    assert encoder.config.pooled_width == 16 * 2 + 5120 and encoder.dim == 24
    vectors = encoder.encode(["A sentence.", "Another one here."])
    assert vectors.shape == (2, 24)
    assert encoder.encode(["A sentence."], precision="ubinary").shape == (1, 3)  # 24 bits in 3 bytes
    for name in ("firth-mini", "firth-static"):
        assert firth.SentenceEncoder.load(name).dim <= 512
