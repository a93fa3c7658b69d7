"""Where a sentence encoder's encode() spends its time: cProfile over the encoder benchmark's 2,000 retrieval
sentences, with a cold start (a fresh load: the static tier's word cache empty) and a warm one (the same
sentences again).

    python benchmarks/encode_profile.py firth-static firth-mini [--top 12]

Prints sentences/s cold and warm, then the functions with the most cumulative
time in the cold run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import torch

from firth.evaluate.retrieval import heldout_split
from firth.models.encoder import SentenceEncoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model directories or shipped names")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    split = heldout_split()
    texts = split.queries + split.targets
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), {len(texts):,} sentences")
    for name in args.models:
        encoder = SentenceEncoder.load(name)
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.runcall(encoder.encode, texts)
        cold = len(texts) / (time.perf_counter() - start)
        start = time.perf_counter()
        encoder.encode(texts)
        warm = len(texts) / (time.perf_counter() - start)
        print(f"\n{name}: {cold:,.0f} sentences/s cold (profiled), {warm:,.0f} warm")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
