"""Quantized sentence vectors for indexes: 8 bits or 1 bit a dimension, as sentence-transformers'
`quantize_embeddings` makes them.

- "int8" / "uint8": each dimension's range (`ranges`, [2, dim]: minima then maxima; by default
  those of the vectors given) cut into 256 levels; a vector takes 1 byte a dimension, a quarter of
  float32. Search them with a dot product of the codes, or rescore the top hits in float32.
- "binary" / "ubinary": the sign of each dimension, 8 dimensions a byte (np.packbits, int8 shifted
  by -128 or uint8); a 32nd of float32. Search them by Hamming distance.
"""

from __future__ import annotations

import numpy as np

from firth.errors import FirthError
from firth.registry import check_choice

PRECISIONS = ("float32", "int8", "uint8", "binary", "ubinary")


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
        ranges = np.stack([vectors.min(0), vectors.max(0)]) if len(vectors) else np.zeros((2, vectors.shape[1]))
    ranges = np.asarray(ranges, dtype=np.float32)
    if ranges.shape != (2, vectors.shape[1]):
        raise FirthError(f"ranges must be [2, {vectors.shape[1]}] (minima, then maxima), got {list(ranges.shape)}.")
    steps = (ranges[1] - ranges[0]) / 255
    steps[steps <= 0] = 1  # a constant dimension: one level
    codes = np.clip(np.round((vectors - ranges[0]) / steps), 0, 255)
    return codes.astype(np.uint8) if precision == "uint8" else (codes - 128).astype(np.int8)
