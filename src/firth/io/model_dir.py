"""A model is a directory of JSON and safetensors files, never a pickle.

Every family writes its directory through `model_writer` and reads it back
through `read_model_config`: `config.json` holds the firth version, the
object's type and its configuration; `model.safetensors` its tensors; a
family may add files beside them (a classifier's labels and featurizer).
`firth.load(directory)` (`load` here) returns the right object from the type
stamped in the directory. Loading reads JSON with `json` and tensors with
`safetensors`, neither of which can execute code, so an untrusted model
directory is safe to open.

Directories written before the type and configuration were stamped this way
(firth 0.1.0 before this layout: a classifier's "params", word vectors' flat
keys) are read by `read_model_config` as they are.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

import firth
from firth import registry
from firth.config import check_bytes
from firth.errors import FirthError
from firth.io.atomic import atomic_dir, write_text
from firth.io.card import write_card
from firth.io.checksums import CHECKSUMS, sha256_file, verify_checksums
from firth.io.jsonfiles import json_text, read_json, write_json  # noqa: F401 (model directories' JSON files)

CONFIG = "config.json"
WEIGHTS = "model.safetensors"


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


def skeleton(build: Callable[[], torch.nn.Module]) -> torch.nn.Module:
    """The module `build` makes, on the meta device: its shapes, without allocating its memory."""
    with torch.device("meta"):
        return build()


def _check_size(shell: torch.nn.Module, what: str, options: str, bytes_per_value: int) -> None:
    values = sum(t.numel() for t in shell.state_dict().values())
    check_bytes(what, values * bytes_per_value, options)


def build_for_training(build: Callable[[], torch.nn.Module], options: str) -> torch.nn.Module:
    """`build()`, once its weights with their gradients and Adam moments are known to fit the memory limit."""
    _check_size(skeleton(build), "the network's weights with their gradients and Adam moments", options, 16)
    return build()


def load_module(build: Callable[[], torch.nn.Module], path: str | os.PathLike, options: str) -> torch.nn.Module:
    """`build()` filled from a safetensors file, checked before anything is allocated.

    The configuration's module is sized on the meta device and its shapes
    compared with the file's header; weights that do not fit, a module over
    the memory limit, or NaN or infinite values are a FirthError naming the file.
    """
    shell = skeleton(build)
    _check_size(shell, f"the model in {Path(path).parent}", options, 4)
    expected = {k: tuple(v.shape) for k, v in shell.state_dict().items()}
    found = header_shapes(path)
    if expected != found:
        name = next(k for k in sorted(set(expected) | set(found)) if expected.get(k) != found.get(k))
        raise FirthError(f"{path}: its weights do not fit the configuration beside them, perhaps written by another "
                         f"firth version ({name}: the configuration needs {expected.get(name)}, the file has "
                         f"{found.get(name)}).")
    tensors = load_tensors(path)
    damaged = next((k for k, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()), None)
    if damaged is not None:
        raise FirthError(f"{path}: tensor {damaged!r} holds NaN or infinite values; the file is damaged.")
    module = build()
    module.load_state_dict(tensors)
    return module


def header_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor in a safetensors file, read from its header alone."""
    path = Path(path)
    if not path.is_file():
        raise FirthError(f"{path}: no such file; is {path.parent} a firth model directory?")
    try:
        with safe_open(str(path), "pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise FirthError(f"{path}: is not a valid safetensors file ({e}).") from None


def load_weights(module: torch.nn.Module, path: str | os.PathLike) -> None:
    """Fill `module` from a safetensors file; weights that do not fit its configuration are a FirthError."""
    try:
        module.load_state_dict(load_tensors(path))
    except RuntimeError as e:
        first = str(e).split("\n\t", 2)[1] if "\n\t" in str(e) else str(e)
        raise FirthError(f"{path}: its weights do not fit the configuration beside them, perhaps written by "
                         f"another firth version ({first.strip()})") from None


@contextlib.contextmanager
def model_writer(directory: str | os.PathLike, kind: str, config: dict, card: dict) -> Iterator[Path]:
    """Yield a temporary directory holding `config.json` (version, type, configuration), for the caller
    to add its tensors and files to; it replaces `directory` atomically on success.

    The SHA-256 of every tensor and graph file is written next, into `checksums.json`,
    so that reading notices damaged bytes (JSON files are checked by meaning),
    and the model card last (firth.io.card), once the size is known.
    """
    with atomic_dir(directory) as tmp:
        write_json(tmp / CONFIG, {"firth_version": firth.__version__, "type": kind, "config": config})
        yield tmp
        write_json(tmp / CHECKSUMS, {p.name: sha256_file(p) for p in sorted(tmp.iterdir())
                                     if p.suffix in (".safetensors", ".onnx")})
        write_card(tmp, kind, card, config)


def read_model_config(directory: str | os.PathLike, kinds: tuple[str, ...] | dict) -> tuple[str, dict]:
    """The (type, configuration) stamped in a model directory; a missing, damaged or foreign one is a FirthError.

    `kinds` are the types the caller can read.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FirthError(f"{directory}: no such model directory.")
    verify_checksums(directory)
    saved = read_json(directory / CONFIG)
    kind = saved.get("type") if isinstance(saved, dict) else None
    if kind not in kinds:
        wanted = " or ".join(kinds)
        raise FirthError(f"{directory}: is not a firth {wanted} directory ({CONFIG} says type {kind!r}).")
    config = _migrated(saved)
    if not isinstance(config, dict):
        raise FirthError(f"{directory / CONFIG}: its configuration is not a JSON object.")
    return kind, config


@contextlib.contextmanager
def damaged_as_error(path: str | os.PathLike) -> Iterator[None]:
    """Within it, the KeyError, TypeError or ValueError of reading a tampered file is a FirthError naming the file."""
    try:
        yield
    except FirthError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise FirthError(f"{path}: is damaged or was written by another firth version "
                         f"({type(e).__name__}: {e}).") from None


def _migrated(saved: dict) -> Any:
    """The configuration of a config.json, in the layout of any firth version so far."""
    if "config" in saved:
        return saved["config"]
    if "params" in saved:  # classifiers before the shared layout
        return saved["params"]
    return {k: v for k, v in saved.items() if k not in ("type", "firth_version")}  # word vectors before it


def load(directory: str | os.PathLike):
    """The model in `directory`, as the object of the type stamped in it (TextClassifier, SentenceEncoder,
    Word2Vec or KeyedVectors), or the shipped model of that name (firth.io.pretrained); nothing is unpickled."""
    from firth.io.pretrained import model_path

    directory = model_path(directory)
    kind, _ = read_model_config(directory, registry.MODEL_TYPES)
    return registry.resolve(registry.MODEL_TYPES, kind, "model type").load(directory)


def write_run_config(out_dir: str | os.PathLike, config: Any) -> None:
    """Write the resolved configuration of a run (a dataclass) as out_dir/config.json, atomically."""
    stamped = {"firth_version": firth.__version__, "type": type(config).__name__, "config": asdict(config)}
    write_text(Path(out_dir) / CONFIG, json_text(stamped))
