"""Put a trained encoder into the package as a shipped model, and record its files' SHA-256.

    python scripts/ship_pretrained.py runs/firth-mini/model firth-mini

Copies the model directory to src/firth/pretrained/NAME (replacing what was
there) and writes the checksums that firth.io.pretrained checks at every load by name.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from firth.io.atomic import atomic_dir, write_text
from firth.io.checksums import sha256_file
from firth.models.encoder import SentenceEncoder
from firth.io.pretrained import HERE, SHIPPED, recorded_checksums

LIMIT = 10 * 10**6  # bytes a shipped model may take on disk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a trained encoder's model directory")
    parser.add_argument("name", choices=SHIPPED)
    args = parser.parse_args()
    SentenceEncoder.load(args.model)  # a readable encoder, or a clear error
    size = sum(p.stat().st_size for p in args.model.iterdir() if p.is_file())
    if size > LIMIT:
        raise SystemExit(f"error: {args.model} takes {size / 1e6:.2f} MB; a shipped model may take 10 MB.")
    with atomic_dir(HERE / args.name) as tmp:
        for file in args.model.iterdir():
            if file.is_file():
                shutil.copy2(file, tmp / file.name)
    checksums = {**recorded_checksums(), args.name: {p.name: sha256_file(p) for p in sorted((HERE / args.name).iterdir())}}
    write_text(HERE / "checksums.json", json.dumps(checksums, indent=2, sort_keys=True) + "\n")
    print(f"shipped {args.model} as {args.name} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
