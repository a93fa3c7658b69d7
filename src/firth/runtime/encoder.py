"""An exported sentence encoder: numpy word projections and IDF look-ups, then its ONNX graph."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from firth.config import ProjectionConfig
from firth.errors import FirthError
from firth.registry import check_choice
from firth.features.hashing import normalize_words, seeded_salts, splitmix64, word_keys
from firth.runtime.features import WordProjection
from firth.runtime.quantize import PRECISIONS, quantize_embeddings
from firth.runtime.session import EXPORTED_ENCODER, open_export
from firth.text.segment import words

ENCODE_MAX_WORDS = 256  # words of a text the export reads (SentenceEncoder.encode's default)
IDF_SEED = 0  # the seed of the encoder's HashedIDF


class HashedIDFTable:
    """firth.features.idf.HashedIDF's look-up with numpy: a word key's IDF is the largest over the table's rows."""

    def __init__(self, table: np.ndarray, seed: int):
        self.table = table.astype(np.float32)
        self.salts = seeded_salts(seed, len(table))

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        slots = (splitmix64(keys.view(np.uint64)[None, :] ^ self.salts[:, None]) % np.uint64(self.table.shape[1]))
        return np.take_along_axis(self.table, slots.astype(np.int64), axis=1).max(0)


class RuntimeEncoder:
    """`encode` of an exported SentenceEncoder, as the full model gives it."""

    def __init__(self, directory: str | os.PathLike):
        config, self.session = open_export(directory, EXPORTED_ENCODER)
        directory = Path(directory)
        self.width, self.max_words = config["width"], config["max_words"]
        self.projection = WordProjection(ProjectionConfig(**config["projection"]))
        self.idf = None
        if config["idf"] is not None:
            from safetensors.numpy import load_file

            idf = config["idf"]  # an int8 export keeps uint8 codes of the table: codes * scale + offset
            codes = load_file(str(directory / "features.safetensors"))["idf"]
            self.idf = HashedIDFTable(codes * np.float32(idf.get("scale", 1)) + np.float32(idf.get("offset", 0)),
                                      idf["seed"])
        self.inputs = [i.name for i in self.session.get_inputs()]  # a graph without a lexical channel takes no idf

    @property
    def dim(self) -> int:
        return self.width

    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize_embeddings: bool = False,
               precision: str = "float32", ranges: np.ndarray | None = None) -> np.ndarray:
        """One vector per text, [len(texts), dim], in input order; texts are cut at the export's max_words words.
        `precision` and `ranges` quantize them as the full model's encode does (firth.runtime.quantize)."""
        if isinstance(texts, str):
            raise FirthError("encode takes a list of texts, not one string.")
        check_choice("precision", precision, PRECISIONS)
        docs = [words(text, lowercase=False)[:self.max_words] for text in texts]
        order = sorted(range(len(docs)), key=lambda i: len(docs[i]))
        out = np.zeros((len(docs), self.width), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = self._batch([docs[i] for i in rows])
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return quantize_embeddings(out, precision, ranges)

    def _batch(self, docs: list[list[str]]) -> np.ndarray:
        table, distinct, index, mask = self.projection.index(docs)
        bag = np.zeros((len(docs), len(table)), dtype=np.float32)  # each text's IDF weight of each distinct word
        if self.idf is not None and distinct:
            idf = self.idf(word_keys(normalize_words(distinct, self.projection.config)))
            rows = np.repeat(np.arange(len(docs)), mask.sum(1).astype(np.int64))
            np.add.at(bag, (rows, index[mask > 0]), idf[index[mask > 0]])
        feeds = {"table": table, "index": index, "mask": mask, "bag": bag}
        return self.session.run(None, {name: feeds[name] for name in self.inputs})[0]
