"""Run exported firth models without torch or scikit-learn: numpy and onnxruntime alone.

    pip install 'firth[runtime]'          # numpy, onnxruntime, safetensors
    import firth.runtime
    model = firth.runtime.load("exported/")   # written by `firth export MODEL_DIR exported/ [--int8]`
    model.predict(["The striker scored twice"]); model.predict_proba([...])   # a classifier
    encoder = firth.runtime.load("exported-encoder/"); encoder.encode(["A sentence."])

An exported directory holds `model.onnx` (the network, after featurization),
the featurizer's state (`features.json`, `features.safetensors`), `config.json`,
`checksums.json` and the model card. Featurization that is no graph (string
hashing, tokenization, vocabulary look-up) runs here in numpy
(firth.runtime.features) and gives the numbers the full model gives.
"""

from __future__ import annotations

import os
from pathlib import Path

from firth.errors import FirthError
from firth.io.jsonfiles import read_json
from firth.runtime.classifier import EXPORTED, RuntimeClassifier
from firth.runtime.encoder import EXPORTED_ENCODER, RuntimeEncoder

__all__ = ["RuntimeClassifier", "RuntimeEncoder", "load"]


def load(directory: str | os.PathLike) -> RuntimeClassifier | RuntimeEncoder:
    """The exported model in `directory` (written by `firth export`): a classifier or a sentence encoder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FirthError(f"{directory}: no such exported model directory.")
    saved = read_json(directory / "config.json")
    kind = saved.get("type") if isinstance(saved, dict) else None
    if kind not in (EXPORTED, EXPORTED_ENCODER):
        raise FirthError(f"{directory}: is not an exported firth model (type {kind!r}); `firth export` writes one.")
    return RuntimeClassifier(directory) if kind == EXPORTED else RuntimeEncoder(directory)
