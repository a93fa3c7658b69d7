"""Shipping a model: `firth info MODEL_DIR` prints its card, `firth export MODEL_DIR OUT_DIR` writes its ONNX export;
and what the command line adds to cards."""

from __future__ import annotations

import shlex
from pathlib import Path

from firth.cli.options import add_parser
from firth.errors import FirthError


def add(families) -> None:
    info = add_parser(families, "info", "Print the model card of a model directory (its README.md).")
    info.add_argument("model", metavar="MODEL")
    info.set_defaults(run=info_)
    export = add_parser(families, "export", "Export a classifier or sentence encoder to ONNX, for firth.runtime.",
                        "Write MODEL's network as ONNX and its featurizer's state into OUT, which "
                        "`firth.runtime.load(OUT)` runs with numpy and onnxruntime alone.")
    export.add_argument("model", metavar="MODEL")
    export.add_argument("out", metavar="OUT")
    export.add_argument("--int8", action="store_true", help="quantize the weights to 8 bits")
    export.set_defaults(run=export_)


def info_(args) -> None:
    from firth.io.card import page

    print(page(args.model), end="")


def export_(args) -> None:
    from firth.cli.inputs import check_output

    check_output(args.out, args.model)
    try:
        from firth.models.export import export
    except ImportError as e:
        raise FirthError(f"exporting needs onnx and onnxruntime ({e}); pip install 'firth[export]'.") from None
    out = export(args.model, args.out, int8=args.int8)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"exported {args.model} to {out} ({size / 1e6:,.1f} MB{', int8 weights' if args.int8 else ''}); "
          f"run it with firth.runtime.load({str(out)!r})")


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
