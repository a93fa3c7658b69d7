"""Quantized sentence vectors for indexes: 8 bits or 1 bit a dimension, as sentence-transformers'
`quantize_embeddings` makes them.

- "int8" / "uint8": each dimension's range (`ranges`, [2, dim]: minima then maxima; by default
  those of the vectors given) cut into 256 levels; a vector takes 1 byte a dimension, a quarter of
  float32. Search them with a dot product of the codes, or rescore the top hits in float32.
- "binary" / "ubinary": the sign of each dimension, 8 dimensions a byte (np.packbits, int8 shifted
  by -128 or uint8); a 32nd of float32. Search them by Hamming distance.

Codes of a corpus and of its queries must share the 8-bit ranges: compute them once on calibration
vectors (`calibration_ranges`) and pass them to every call. `dequantize_embeddings` maps codes back
to float vectors (each level's value, or +-1 a bit), whose cosine ranks as the index would.
"""

from __future__ import annotations

import numpy as np

from firth.errors import FirthError
from firth.registry import check_choice

PRECISIONS = ("float32", "int8", "uint8", "binary", "ubinary")


def calibration_ranges(vectors: np.ndarray) -> np.ndarray:
    """[2, dim]: each dimension's minimum and maximum over `vectors`, the 8-bit codes' ranges."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if not len(vectors):
        raise FirthError("calibration needs at least one vector.")
    return np.stack([vectors.min(0), vectors.max(0)])


def quantize_embeddings(vectors: np.ndarray, precision: str, ranges: np.ndarray | None = None) -> np.ndarray:
    """`vectors` [n, dim] at `precision` (one of PRECISIONS)."""
    check_choice("precision", precision, PRECISIONS)
    vectors = np.asarray(vectors, dtype=np.float32)
    if precision == "float32":
        return vectors
    if precision in ("binary", "ubinary"):
        bits = np.packbits(vectors > 0, axis=-1)
        return bits if precision == "ubinary" else (bits.astype(np.int16) - 128).astype(np.int8)
    if ranges is None:
        ranges = calibration_ranges(vectors) if len(vectors) else np.zeros((2, vectors.shape[1]))
    ranges, steps = _levels(ranges, vectors.shape[1])
    codes = np.clip(np.round((vectors - ranges[0]) / steps), 0, 255)
    return codes.astype(np.uint8) if precision == "uint8" else (codes - 128).astype(np.int8)


def dequantize_embeddings(codes: np.ndarray, precision: str, ranges: np.ndarray | None = None,
                          dim: int | None = None) -> np.ndarray:
    """Float32 vectors from codes made by quantize_embeddings: each 8-bit code's level in `ranges` (the
    ones the codes were cut with; required), or +1 / -1 for each bit of the first `dim` (default: all)."""
    check_choice("precision", precision, PRECISIONS)
    codes = np.asarray(codes)
    if precision == "float32":
        return codes.astype(np.float32)
    if precision in ("binary", "ubinary"):
        bits = np.unpackbits(codes.view(np.uint8) if precision == "ubinary" else
                             (codes.astype(np.int16) + 128).astype(np.uint8), axis=-1)
        return bits[:, :dim].astype(np.float32) * 2 - 1
    if ranges is None:
        raise FirthError(f"{precision} codes need the ranges they were cut with to be turned back into vectors.")
    ranges, steps = _levels(ranges, codes.shape[1])
    levels = codes.astype(np.float32) + (0 if precision == "uint8" else 128)
    return ranges[0] + levels * steps


def _levels(ranges: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Checked float32 `ranges` [2, dim] and the width of one of their 255 steps in each dimension."""
    ranges = np.asarray(ranges, dtype=np.float32)
    if ranges.shape != (2, dim):
        raise FirthError(f"ranges must be [2, {dim}] (minima, then maxima), got {list(ranges.shape)}.")
    steps = (ranges[1] - ranges[0]) / 255
    steps[steps <= 0] = 1  # a constant dimension: one level
    return ranges, steps
