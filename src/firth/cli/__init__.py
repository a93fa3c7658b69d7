"""`firth <family> <verb>`: the command line, one module per family.

Every problem a user can cause ends in one sentence on stderr and exit
status 1 (2 for bad command-line syntax, as argparse does); never a
traceback. Building the parser imports only the configuration and the
registries, so `firth --help` loads neither torch nor scikit-learn; each
verb imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys

import firth
from firth.cli import classify, data, encoder, ship, word2vec
from firth.errors import FirthError
from firth.train.memory import keep_freed_memory

EXIT_USER_ERROR = 1
FAMILIES = (data, classify, word2vec, encoder, ship)
EXTRAS = {  # a module a verb may miss -> the extra of pyproject.toml that installs it
    **dict.fromkeys(("torch", "numpy", "scipy", "sklearn", "safetensors", "tqdm", "matplotlib", "mwparserfromhell",
                     "platformdirs", "filelock", "pyarrow"), "train"),
    "onnx": "export", "onnxruntime": "runtime", "fastapi": "serve", "uvicorn": "serve", "pydantic": "serve",
    "sentence_transformers": "distill",
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for the model card
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    keep_freed_memory()
    try:
        args.run(args)
    except FirthError as e:
        return _fail(str(e))
    except OSError as e:
        if isinstance(e, BrokenPipeError):
            return 0
        return _fail(f"{e.filename}: {e.strerror.lower()}." if e.filename and e.strerror else f"{e}.")
    except KeyboardInterrupt:
        print("firth: interrupted.", file=sys.stderr)
        return 130
    except ModuleNotFoundError as e:
        extra = EXTRAS.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        return _fail(f"this command needs {e.name}, which is not installed; pip install 'firth[{extra}]'.")
    return 0


def _fail(message: str) -> int:
    print(f"firth: error: {message}", file=sys.stderr)
    return EXIT_USER_ERROR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firth", description="Text representations without vocabulary tables.")
    parser.add_argument("--version", action="version", version=f"firth {firth.__version__}")
    families = parser.add_subparsers(title="families", metavar="FAMILY")
    for family in FAMILIES:
        family.add(families)
    return parser
