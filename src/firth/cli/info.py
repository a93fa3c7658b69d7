"""`firth info MODEL_DIR`: print a model directory's card, and what the command line adds to cards."""

from __future__ import annotations

import shlex
from pathlib import Path

from firth.cli.options import add_parser


def add(families) -> None:
    info = add_parser(families, "info", "Print the model card of a model directory (its README.md).")
    info.add_argument("model", metavar="MODEL")
    info.set_defaults(run=info_)


def info_(args) -> None:
    from firth.io.card import page

    print(page(args.model), end="")


def command_line(args) -> str:
    """The command that is running, as a person would type it again."""
    return "firth " + shlex.join(args.argv)


def describe_sources(sources: list[str], split: str | None = None) -> str:
    """Where training data came from: registry datasets by name and package, files by path and SHA-256."""
    from firth.data import DATASETS
    from firth.io.checksums import sha256_file

    described = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            described.append(f"{path} (SHA-256 {sha256_file(path)})")
        elif path.is_dir():
            described.append(f"the folder {path}")
        elif source in DATASETS:
            described.append(f"registry dataset {source}" + (f", {split} split" if split else "")
                             + f" ({DATASETS[source].source})")
    return "; ".join(described)
