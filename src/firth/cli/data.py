"""`firth data`: list and fetch the registry's datasets."""

from __future__ import annotations

from firth.cli.inputs import family
from firth.cli.options import add_parser
from firth.errors import FirthError


def add(families) -> None:
    verbs = family(families, "data", "Real public datasets: list and fetch them by name.")
    add_parser(verbs, "list", "Show every dataset, what it is, and whether it is cached.").set_defaults(run=list_)
    get = add_parser(verbs, "get", "Fetch datasets into the cache (nothing is done for cached ones).")
    get.add_argument("names", nargs="*", metavar="NAME")
    get.add_argument("--all", action="store_true", help="fetch every dataset in the registry")
    get.set_defaults(run=get_)


def _format_counts(counts: dict) -> str:
    return ", ".join(f"{k} {len(v) if isinstance(v, dict) else v:,}" for k, v in counts.items())


def list_(args) -> None:
    from firth.data import DATASETS, firth_home, read_manifest

    print(f"datasets cached under {firth_home()} (set FIRTH_HOME to move it)\n")
    for name, spec in DATASETS.items():
        manifest = read_manifest(name)
        print(f"{name:16} {spec.kind:15} {'cached' if manifest else 'not cached'}")
        print(f"    {spec.description}")
        if manifest:
            print(f"    counts: {_format_counts(manifest['counts'])}")
        print(f"    source: {spec.source}")
        print(f"    licence: {spec.licence}")


def get_(args) -> None:
    from firth.data import DATASETS, get, read_manifest

    names = list(DATASETS) if args.all else args.names
    if not names:
        raise FirthError("name at least one dataset, or pass --all (see `firth data list`).")
    for name in names:
        path = get(name)
        print(f"{name}: {_format_counts(read_manifest(name)['counts'])} ({path})")
