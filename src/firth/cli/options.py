"""Command-line options built from the configuration dataclasses, so the CLI has no defaults of its own.

Each field of a firth.config dataclass becomes `--field-name` (or its
`flag`) with the field's type, default, choices and help; `config_from_args`
turns the parsed options back into the dataclass. A dict field (projection
or featurizer parameters) is given as repeated KEY=VALUE pairs over its default.
"""

from __future__ import annotations

import argparse
import json
import types
import typing
from dataclasses import Field, fields
from typing import Any

from firth.config import default_of
from firth.errors import FirthError


class Formatter(argparse.HelpFormatter):
    """Help that shows every option's default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help = action.help or ""
        if "(default" in help or not action.option_strings or action.required or action.default is argparse.SUPPRESS:
            return help
        return f"{help} (default: %(default)s)"


def add_parser(subparsers, name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
    """A sub-command whose --help shows the defaults."""
    return subparsers.add_parser(name, help=help, description=description or help, formatter_class=Formatter)


def add_config_options(parser: argparse.ArgumentParser, config_class: type) -> None:
    """One option per command-line field of `config_class`, with its type, default, choices and help."""
    hints = typing.get_type_hints(config_class)
    for f in fields(config_class):
        if f.metadata.get("cli", True):
            parser.add_argument(_flag(f), dest=f.name, **_argument(f, hints[f.name]))


def add_training_options(parser: argparse.ArgumentParser, config_class: type, out_default: str | None,
                         out_help: str = "run directory", resume: bool = True) -> None:
    """A `train` verb's options: the configuration's fields, then --out, --resume (where a run can resume),
    --overwrite and --quiet."""
    add_config_options(parser, config_class)
    parser.add_argument("--out", metavar="DIR", default=out_default, help=out_help)
    if resume:
        parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def config_from_args(config_class: type, args: argparse.Namespace, **fixed: Any) -> Any:
    """The configuration the parsed options describe (fields off the command line keep their defaults)."""
    values = dict(fixed)
    for f in fields(config_class):
        if not f.metadata.get("cli", True) or f.name in fixed:
            continue
        value = getattr(args, f.name)
        if _is_dict(f):
            value = {**(default_of(f) or {}), **key_values(value, _flag(f))} if value else default_of(f)
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return config_class(**values)


def key_values(pairs: list[str], flag: str) -> dict:
    """KEY=VALUE strings as a dict; values are read as JSON when they parse, else kept as text."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise FirthError(f"{flag} {pair!r} is not KEY=VALUE.")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _flag(f: Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _is_dict(f: Field) -> bool:
    return "dict" in str(f.type)


def _argument(f: Field, hint: Any) -> dict:
    """add_argument keywords for a field of type `hint`."""
    help, default = f.metadata.get("help", ""), default_of(f)
    if _is_dict(f):
        return {"action": "append", "metavar": "KEY=VALUE", "default": None,
                "help": f"{help}, repeatable (default: {default})"}
    kind = _unoptional(hint)
    argument: dict[str, Any] = {"default": default, "help": help}
    if f.metadata.get("choices"):
        argument["choices"] = f.metadata["choices"]
    if kind is bool:
        return {**argument, "action": argparse.BooleanOptionalAction}
    if typing.get_origin(kind) is tuple:
        items = typing.get_args(kind)
        nargs = "+" if items[-1] is Ellipsis else len(items)
        return {**argument, "type": items[0], "nargs": nargs, "metavar": items[0].__name__.upper()}
    return {**argument, "type": kind}


def _unoptional(hint: Any) -> Any:
    """X from `X | None`."""
    if typing.get_origin(hint) not in (typing.Union, types.UnionType):
        return hint
    return next(a for a in typing.get_args(hint) if a is not type(None))
