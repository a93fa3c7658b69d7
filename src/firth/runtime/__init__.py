"""Run exported firth models without torch or scikit-learn: numpy and onnxruntime alone.

    pip install 'firth[runtime]'          # numpy, onnxruntime, safetensors
    import firth.runtime
    model = firth.runtime.load("exported/")   # written by `firth export MODEL_DIR exported/ [--int8]`
    model.predict(["The striker scored twice"]); model.predict_proba([...])   # a classifier
    encoder = firth.runtime.load("exported-encoder/"); encoder.encode(["A sentence."])

An exported directory holds `model.onnx` (the network, after featurization; for the
SGNN classifier after its word layers too, which are `words.onnx`, each word's vector
kept across calls as in the torch model), the featurizer's state (`features.json`,
`features.safetensors`), `config.json`, `checksums.json` and the model card. Featurization that is no graph (string
hashing, tokenization, vocabulary look-up) runs here in numpy
(firth.runtime.features) and gives the numbers the full model gives.
"""

from __future__ import annotations

import os

from firth.runtime.classifier import RuntimeClassifier
from firth.runtime.encoder import RuntimeEncoder
from firth.runtime.session import EXPORTED, exported_kind

__all__ = ["RuntimeClassifier", "RuntimeEncoder", "load"]


def load(directory: str | os.PathLike) -> RuntimeClassifier | RuntimeEncoder:
    """The exported model in `directory` (written by `firth export`): a classifier or a sentence encoder."""
    return RuntimeClassifier(directory) if exported_kind(directory) == EXPORTED else RuntimeEncoder(directory)
