"""Shipping a model: `firth info` prints its card, `firth export` writes its ONNX export, `firth serve` serves it
over HTTP; and what the command line adds to cards."""

from __future__ import annotations

import shlex
from pathlib import Path

from firth.cli.inputs import positive_int
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
    serve = add_parser(families, "serve", "Serve a classifier or sentence encoder over HTTP, with a page to try it.",
                       "Serve MODEL (a model directory or an exported one) at http://HOST:PORT: POST /predict, "
                       "/embed, /similar; GET /health, /info, / (a page), /docs.")
    serve.add_argument("model", metavar="MODEL")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument("--port", type=positive_int, default=8000, help="the port to listen on")
    serve.add_argument("--corpus", metavar="FILE", help="one sentence a line, for /similar (encoders)")
    serve.add_argument("--max-texts", type=positive_int, default=256, help="texts in one request")
    serve.add_argument("--max-text-bytes", type=positive_int, default=100_000, help="UTF-8 bytes of one text")
    serve.add_argument("--max-batch", type=positive_int, default=256, help="texts of one model call")
    serve.add_argument("--batch-wait-ms", type=float, default=5.0, help="how long a request waits for company")
    serve.add_argument("--workers", type=positive_int, default=1,
                       help="server processes, each with its own model (about one a core)")
    serve.set_defaults(run=serve_)


def info_(args) -> None:
    from firth.io.card import page
    from firth.io.pretrained import model_path

    print(page(model_path(args.model)), end="")


def export_(args) -> None:
    from firth.cli.inputs import check_output

    from firth.models.export import export
    from firth.io.pretrained import model_path

    model = model_path(args.model)
    check_output(args.out, model)
    out = export(model, args.out, int8=args.int8)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"exported {args.model} to {out} ({size / 1e6:,.1f} MB{', int8 weights' if args.int8 else ''}); "
          f"run it with firth.runtime.load({str(out)!r})")


def serve_(args) -> None:
    from firth.serve import Limits, serve

    limits = Limits(args.max_texts, args.max_text_bytes, args.max_batch, args.batch_wait_ms)  # checked here
    if args.port > 65535:
        raise FirthError(f"--port must be at most 65535, got {args.port}.")
    serve(args.model, args.corpus, limits, args.host, args.port, args.workers)


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
