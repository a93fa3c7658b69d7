"""An exported text classifier: numpy featurization, then its ONNX graph under onnxruntime."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from firth.config import PROJECTION_CACHE, ProjectionConfig
from firth.errors import FirthError
from firth.features.hashing import chunks
from firth.io.jsonfiles import read_json
from firth.runtime.features import AveragedWords, PooledProjection, Vectorizer, WordProjection
from firth.runtime.session import EXPORTED, graph_session, open_export
from firth.text.segment import words

BATCH_CHARS = 100_000  # characters of one batch of long texts: a batch is padded to its longest text


class RuntimeClassifier:
    """`predict` and `predict_proba` of an exported TextClassifier, as the full model gives them."""

    def __init__(self, directory: str | os.PathLike):
        config, self.session = open_export(directory, EXPORTED)
        self.classes_ = np.array(config["classes"])
        self.features = _featurizer(Path(directory), config["features"])

    def predict_proba(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Class probabilities, columns in `classes_` order."""
        if isinstance(texts, str):
            raise FirthError("predict_proba takes a list of texts, not one string.")
        texts = list(texts)
        out = np.zeros((len(texts), len(self.classes_)), np.float32)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        order = np.argsort(lengths, kind="stable")  # texts of similar lengths pad little in one batch
        for rows in chunks(order, lengths[order], BATCH_CHARS, batch_size) if texts else ():
            out[rows] = self._batch([texts[i] for i in rows.tolist()])
        return out

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def _batch(self, texts: list[str]) -> np.ndarray:
        if isinstance(self.features, WordProjection):
            table, _, index, mask = self.features.index([words(text, lowercase=False) for text in texts])
            return self.session.run(None, {"table": table, "index": index, "mask": mask})[0]
        if isinstance(self.features, Vectorizer):
            ids, values = self.features(texts)
            return self.session.run(None, {"ids": ids, "values": values})[0]
        return self.session.run(None, {"features": self.features(texts)})[0]


def _featurizer(directory: Path, spec: dict):
    """The numpy featurizer an export described in config.json (its arrays in features.safetensors)."""
    from safetensors.numpy import load_file

    kind = spec["kind"]
    arrays = load_file(str(directory / "features.safetensors")) if (directory / "features.safetensors").exists() else {}
    if kind == "vectorizer" and spec.get("rows") != "sparse":
        raise _earlier_export(directory, "a TF-IDF or counts graph read each text's nonzero cells")
    if kind == "vectorizer":
        return Vectorizer(read_json(directory / "features.json"), arrays.get("idf"))
    if kind == "averaged_words":
        return AveragedWords(read_json(directory / "features.json")["words"], arrays["vectors"], spec["lowercase"],
                             spec["normalize"])
    projection = ProjectionConfig(**spec["projection"])
    if kind == "pooled_projection":
        return PooledProjection(projection, spec["pooling"])
    if "word_graph" not in spec:
        raise _earlier_export(directory, "the SGNN's word layers had a graph of their own (words.onnx)")
    words_graph = graph_session(directory / Path(spec["word_graph"]).name)
    # as many words as the torch model keeps (SGNNClassifierNet's WordVectors): their vectors are narrow
    return WordProjection(projection, PROJECTION_CACHE, refine=lambda table: words_graph.run(None, {"table": table})[0])


def _earlier_export(directory: Path, since: str) -> FirthError:
    return FirthError(f"{directory}: was exported by an earlier firth, before {since}; export the model again.")
