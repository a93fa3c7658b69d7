"""Opening an exported model directory: its checks, its configuration and its ONNX session, once for every kind."""

from __future__ import annotations

import os
from pathlib import Path

from firth.errors import FirthError
from firth.io.checksums import verify_checksums
from firth.io.jsonfiles import read_json

EXPORTED = "ExportedTextClassifier"
EXPORTED_ENCODER = "ExportedSentenceEncoder"
GRAPH = "model.onnx"
WORD_GRAPH = "words.onnx"  # the SGNN classifier's word layers, beside its model.onnx


def exported_kind(directory: str | os.PathLike) -> str:
    """The type stamped in an exported directory; a missing or foreign directory is a FirthError."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FirthError(f"{directory}: no such exported model directory.")
    saved = read_json(directory / "config.json")
    kind = saved.get("type") if isinstance(saved, dict) else None
    if kind not in (EXPORTED, EXPORTED_ENCODER) or not isinstance(saved.get("config"), dict):
        raise FirthError(f"{directory}: is not an exported firth model (type {kind!r}); `firth export` writes one.")
    return kind


def open_export(directory: str | os.PathLike, kind: str):
    """(the configuration, an onnxruntime session of its graph) of an exported directory of type `kind`."""
    if exported_kind(directory) != kind:
        raise FirthError(f"{directory}: is an exported {exported_kind(directory)}, not an {kind}.")
    verify_checksums(Path(directory))
    return read_json(Path(directory) / "config.json")["config"], graph_session(Path(directory) / GRAPH)


def graph_session(path: Path):
    """An onnxruntime session of one graph of an exported directory, on the CPU, quiet."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
