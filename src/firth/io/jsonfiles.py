"""The JSON files of model and run directories: written readable, read with one clear error."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from firth.errors import FirthError


def json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_json(path: str | os.PathLike, data: Any) -> None:
    Path(path).write_text(json_text(data), encoding="utf-8")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file of a model directory; a missing or broken file is a FirthError."""
    path = Path(path)
    if not path.is_file():
        raise FirthError(f"{path}: no such file; is {path.parent} a firth model directory?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise FirthError(f"{path}: is not valid JSON ({e}).") from None
