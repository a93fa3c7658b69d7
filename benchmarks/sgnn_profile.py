"""Where an SGNN classifier's training time goes: cProfile of `fit` on one dataset, the top functions by
their own time.

    python benchmarks/sgnn_profile.py rotten-tomatoes 2 '{"feature_params": {"mode": "float", "n_hashes": 40}}'

Arguments: a registry dataset, the epochs, and a JSON object of settings replacing those of
benchmarks/sgnn_timing.py (the classify benchmark's SGNN). Prints the fit's wall seconds (imports
excluded) and the 15 costliest functions.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time

from firth.data import load
from firth.models.classifier import TextClassifier
from sgnn_timing import SETTINGS


def main() -> None:
    name, epochs = sys.argv[1], int(sys.argv[2])
    changes = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    settings = {**SETTINGS, **changes, "epochs": epochs}
    settings["hidden"] = tuple(settings["hidden"])
    data = load(name)
    clf = TextClassifier(**settings)
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    clf.fit(data.train.texts, data.train.labels)
    profile.disable()
    print(f"{name} {changes}, {epochs} epochs: fit {time.perf_counter() - start:.2f} s")
    pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
