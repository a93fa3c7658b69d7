"""An exported text classifier: numpy featurization, then its ONNX graph under onnxruntime."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from firth.config import ProjectionConfig
from firth.errors import FirthError
from firth.io.jsonfiles import read_json
from firth.runtime.features import PooledProjection, Vectorizer, WordProjection
from firth.runtime.session import EXPORTED, open_export
from firth.text.segment import words


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
        rows = [self._batch(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.concatenate(rows) if rows else np.zeros((0, len(self.classes_)), np.float32)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def _batch(self, texts: list[str]) -> np.ndarray:
        if isinstance(self.features, WordProjection):
            table, _, index, mask = self.features.index([words(text, lowercase=False) for text in texts])
            return self.session.run(None, {"table": table, "index": index, "mask": mask})[0]
        return self.session.run(None, {"features": self.features(texts)})[0]


def _featurizer(directory: Path, spec: dict):
    """The numpy featurizer an export described in config.json (its arrays in features.safetensors)."""
    kind = spec["kind"]
    if kind == "vectorizer":
        from safetensors.numpy import load_file

        arrays = load_file(str(directory / "features.safetensors")) if spec.get("tfidf") else {}
        return Vectorizer(read_json(directory / "features.json"), arrays.get("idf"))
    projection = ProjectionConfig(**spec["projection"])
    return WordProjection(projection) if kind == "word_projection" else PooledProjection(projection, spec["pooling"])
