"""Saving and loading a fitted featurizer, shared by every featurizer (as scikit-learn shares behaviour in mixins).

A featurizer writes `{prefix}.json` (its type, its parameters and any JSON
state such as a vocabulary) and `{prefix}.safetensors` (its arrays) into a
model directory. Each class says what its state is with `_state` and how to
take it back with `_restore`; saving, loading and their errors live here once.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.io.model_dir import damaged_as_error, load_tensors, read_json, save_tensors, write_json


class FeaturizerStateMixin:
    """`save(directory)` and `load(directory)` for a scikit-learn transformer with `get_params`."""

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What a fitted featurizer knows beyond its parameters: (JSON-able dict, named arrays)."""
        return {}, {}

    def _restore(self, saved: dict, tensors: dict) -> None:
        """Take back the state `_state` gave (`saved` is the whole JSON file)."""

    def save(self, directory: str | Path, prefix: str = "features") -> None:
        """Write `{prefix}.json` (type, parameters, JSON state) and `{prefix}.safetensors` (arrays)."""
        directory = Path(directory)
        extra, tensors = self._state()
        write_json(directory / f"{prefix}.json", {"type": type(self).__name__, "params": self.get_params(), **extra})
        save_tensors(directory / f"{prefix}.safetensors", tensors)

    @classmethod
    def load(cls, directory: str | Path, prefix: str = "features"):
        """Read what `save` wrote; another featurizer's files are a FirthError."""
        path = Path(directory) / f"{prefix}.json"
        saved = read_json(path)
        if not isinstance(saved, dict) or saved.get("type") != cls.__name__ or not isinstance(saved.get("params"), dict):
            found = saved.get("type") if isinstance(saved, dict) else None
            raise FirthError(f"{path}: holds no {cls.__name__} featurizer (type {found!r}).")
        weights = Path(directory) / f"{prefix}.safetensors"
        with damaged_as_error(path):
            features = cls(**_tuples_as_declared(cls, saved["params"]))
            features._restore(saved, load_tensors(weights) if weights.exists() else {})
        return features


def _tuples_as_declared(cls: type, params: dict) -> dict:
    """JSON turns tuples into lists: give back tuples where the constructor's default is one."""
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    return {k: tuple(v) if isinstance(defaults.get(k), tuple) and isinstance(v, list) else v
            for k, v in params.items()}
