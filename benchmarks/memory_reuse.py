"""Freed memory kept for reuse (firth.train.memory, as `firth`'s commands do) against glibc's defaults.

    python benchmarks/memory_reuse.py [--dataset 20newsgroups] [--epochs 2]

Each setting trains in a process of its own (the allocator is process-wide): the SGNN search's starting
point (firth.models.search_space.SGNN_START: the 20 x 224 projection under 64-64) for `--epochs` epochs
on the training split less a stratified 20%. Reported: each epoch's wall seconds (the first one also
projects every word for the first time), the process's minor page faults and its peak resident size.
The last line is one JSON object {"default": {...}, "kept": {...}}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SETTINGS = ("default", "kept")


def train(dataset: str, epochs: int, setting: str) -> dict:
    """Train in this process under `setting`; the epoch times, page faults and peak size."""
    if setting == "kept":
        from firth.train.memory import keep_freed_memory

        assert keep_freed_memory(), "this C library is not glibc"
    import optuna

    from firth.data import load
    from firth.data.splits import stratified_split
    from firth.models.classifier import TextClassifier
    from firth.models.search_space import SGNN_START, space

    data = load(dataset)
    texts, labels = list(data.train.texts), [str(y) for y in data.train.labels]
    fit, _ = stratified_split(labels, 0.2, 0)
    params = {**space(["projection+sgnn"])(optuna.trial.FixedTrial(SGNN_START)), "epochs": epochs}
    clf = TextClassifier(**params, val_fraction=0.0, seed=0, device="cpu", progress=False)
    ends = [time.perf_counter()]
    clf.fit([texts[i] for i in fit], [labels[i] for i in fit], on_record=lambda _: ends.append(time.perf_counter()))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"epoch_s": [round(b - a, 2) for a, b in zip(ends, ends[1:])], "minor_faults": usage.ru_minflt,
            "peak_rss_mib": round(usage.ru_maxrss / 1024)}  # ru_maxrss: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="20newsgroups")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--setting", choices=SETTINGS, help=argparse.SUPPRESS)  # the child process's
    args = parser.parse_args()
    if args.setting:
        print(json.dumps(train(args.dataset, args.epochs, args.setting)))
        return
    env = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}  # glibc's defaults
    results = {}
    for setting in SETTINGS:
        out = subprocess.run([sys.executable, __file__, "--dataset", args.dataset, "--epochs", str(args.epochs),
                              "--setting", setting], capture_output=True, text=True, check=True, env=env)
        results[setting] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{setting:8} epochs {results[setting]['epoch_s']} s  {results[setting]['minor_faults']:,} page faults  "
              f"peak {results[setting]['peak_rss_mib']:,} MiB", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
