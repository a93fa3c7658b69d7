"""A model is a directory of JSON and safetensors files, never a pickle.

Loading reads JSON with `json` and tensors with `safetensors`, neither of which
can execute code, so an untrusted model directory is safe to open.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from firth.errors import FirthError

CONFIG = "config.json"


def write_json(path: str | os.PathLike, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file of a model directory; a missing or broken file is a FirthError."""
    path = Path(path)
    if not path.is_file():
        raise FirthError(f"{path}: no such file; is {path.parent} a firth model directory?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise FirthError(f"{path}: is not valid JSON ({e}).") from None


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor | np.ndarray]) -> None:
    """Save named tensors (torch or numpy) as safetensors."""
    tensors = {k: torch.as_tensor(v).detach().cpu().contiguous() for k, v in tensors.items()}
    Path(path).write_bytes(save(tensors))


def load_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load named tensors from a safetensors file; a missing or broken file is a FirthError."""
    path = Path(path)
    if not path.is_file():
        raise FirthError(f"{path}: no such file; is {path.parent} a firth model directory?")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise FirthError(f"{path}: is not a valid safetensors file ({e}).") from None


def load_weights(module: torch.nn.Module, path: str | os.PathLike) -> None:
    """Fill `module` from a safetensors file; weights that do not fit its configuration are a FirthError."""
    try:
        module.load_state_dict(load_tensors(path))
    except RuntimeError as e:
        first = str(e).split("\n\t", 2)[1] if "\n\t" in str(e) else str(e)
        raise FirthError(f"{path}: its weights do not fit the configuration beside them, perhaps written by "
                         f"another firth version ({first.strip()})") from None
