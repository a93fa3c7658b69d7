"""Sentence encoders shipped inside the package, loadable by name where a directory is taken:

    SentenceEncoder.load("firth-mini");  firth.load("firth-static")
    firth encoder similar firth-mini --corpus sentences.txt

Each is a model directory in the package's pretrained/ folder (config,
safetensors weights, model card); `checksums.json` records the SHA-256 of every file of each, and
a model is checked against it whenever it is loaded by name. A path that
exists is always taken as a path, so a local directory called firth-mini
wins over the shipped one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from firth.errors import FirthError
from firth.io.checksums import sha256_file

HERE = Path(__file__).parent.parent / "pretrained"  # the models themselves: data files of the package
SHIPPED = ("firth-mini", "firth-static")


def recorded_checksums() -> dict[str, dict[str, str]]:
    """{model name: {file name: SHA-256}} as recorded when the models were added to the package."""
    path = HERE / "checksums.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def pretrained_dir(name: str | os.PathLike) -> Path | None:
    """The verified directory of the shipped model `name`; None when `name` is a path that exists, or no
    shipped model's name."""
    if Path(name).exists() or str(name) not in SHIPPED:
        return None
    directory, recorded = HERE / str(name), recorded_checksums().get(str(name))
    if recorded is None or not directory.is_dir():
        raise FirthError(f"{name}: this installation of firth does not include the shipped model "
                         "(reinstall firth, or train one: make firth-mini / make firth-static).")
    files = {p.name for p in directory.iterdir() if p.is_file()}
    if files != set(recorded):
        raise FirthError(f"{name}: the shipped model's files ({', '.join(sorted(files))}) are not those recorded; "
                         "reinstall firth.")
    for file, digest in recorded.items():
        if sha256_file(directory / file) != digest:
            raise FirthError(f"{name}: {file} does not match its recorded SHA-256; reinstall firth.")
    return directory


def model_path(model: str | os.PathLike) -> Path:
    """Where the model called `model` lies: a shipped model's verified directory, else the path as given."""
    return pretrained_dir(model) or Path(model)
