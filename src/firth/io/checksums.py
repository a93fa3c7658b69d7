"""SHA-256 of files: how the dataset cache and model directories notice changed or truncated bytes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from firth.errors import FirthError
from firth.io.jsonfiles import read_json

CHECKSUMS = "checksums.json"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksums(directory: Path) -> None:
    """A FirthError when a tensor file's bytes differ from those written (directories from before have none)."""
    if not (directory / CHECKSUMS).is_file():
        return
    recorded = read_json(directory / CHECKSUMS)
    if not isinstance(recorded, dict):
        raise FirthError(f"{directory / CHECKSUMS}: is not a JSON object of file names to SHA-256 digests.")
    for name, digest in recorded.items():
        path = directory / Path(str(name)).name
        if not path.is_file():
            raise FirthError(f"{path}: no such file, though {CHECKSUMS} lists it; the model directory is incomplete.")
        if sha256_file(path) != digest:
            raise FirthError(f"{path}: its bytes differ from those written (SHA-256 in {CHECKSUMS}); the file is "
                             "damaged or was edited.")
