"""The SGNN projection's character n-gram range and shape: clean accuracy against robustness to noise,
on validation data only.

    python benchmarks/sgnn_ngrams.py [--datasets rotten-tomatoes bbc-news] [--ranges 1-3 1-5 1-7]
                                     [--shapes 80x14:256-128 20x224:64-64] [--seeds 4] [--train-noise 0 0.1]

Longer n-grams carry more of each word's identity (with markers, a 5-gram holds any word of up to three
letters whole), which may help on clean text and hurt on misspelled text. A shape is the projection's
hash functions x bits and the word layers under it (HASHESxBITS:LAYER-LAYER): fewer, wider hash
functions spread a word's n-grams over more dimensions, so words collide less, and narrower layers keep
the number of weights. For each range and shape, the classify benchmark's SGNN (benchmarks/sgnn_timing.py's
settings: float projection, mean+max pooling, 8 epochs) is trained with several seeds on each dataset's
training split less a stratified 20% (seed 0), and scored on that 20% as it is and with 10% noise
(firth.text.noise, seed 0), with its training and prediction times. No test data is read.

`--train-noise RATE ...` also trains each range and shape on the training texts plus a copy of them
noised at RATE (seed 1, so the copy's noise is not the scored noise): does a model that has seen
misspelled words lose less on misspelled text? The last line is one JSON object {dataset: {"RANGE SHAPE
[+ noise RATE]": {"clean": [...], "noisy": [...], "clean_mean", "noisy_mean", "loss_mean", "fit_s",
"predict_s"}}}.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import firth
from firth.data import load
from firth.data.splits import stratified_split
from firth.models.classifier import TextClassifier
from firth.text.noise import noise_texts
from sgnn_timing import SETTINGS

NOISE = 0.1


def scores(name: str, ngram_range: tuple[int, int], shape: str, seeds: int, train_noise: float = 0.0) -> dict:
    """Clean and noisy validation accuracy of one n-gram range and shape, one per seed, and mean times;
    with `train_noise`, trained on the texts and a copy of them noised at that rate."""
    data = load(name)
    texts, labels = list(data.train.texts), [str(y) for y in data.train.labels]
    fit, held_out = stratified_split(labels, 0.2, 0)
    fit_texts, fit_labels = [texts[i] for i in fit], [labels[i] for i in fit]
    if train_noise:
        fit_texts, fit_labels = fit_texts + noise_texts(fit_texts, train_noise, seed=1), fit_labels * 2
    clean = [texts[i] for i in held_out]
    noisy, truth = noise_texts(clean, NOISE), np.array([labels[i] for i in held_out])
    projection, layers = shape.split(":")
    n_hashes, bits = (int(n) for n in projection.split("x"))
    row: dict = {"clean": [], "noisy": [], "fit_s": [], "predict_s": []}
    for seed in range(seeds):
        settings = {**SETTINGS, "seed": seed, "hidden": tuple(int(n) for n in layers.split("-")),
                    "feature_params": {"mode": "float", "ngram_range": ngram_range, "n_hashes": n_hashes, "bits": bits}}
        start = time.perf_counter()
        clf = TextClassifier(**settings).fit(fit_texts, fit_labels)
        row["fit_s"].append(time.perf_counter() - start)
        start = time.perf_counter()
        row["clean"].append(round(float((clf.predict(clean) == truth).mean()), 4))
        row["predict_s"].append(time.perf_counter() - start)
        row["noisy"].append(round(float((clf.predict(noisy) == truth).mean()), 4))
    row["clean_mean"], row["noisy_mean"] = _mean(row["clean"], 4), _mean(row["noisy"], 4)
    row["loss_mean"] = round(row["clean_mean"] - row["noisy_mean"], 4)
    row["fit_s"], row["predict_s"] = _mean(row["fit_s"], 2), _mean(row["predict_s"], 2)
    print(f"{name} {ngram_range[0]}-{ngram_range[1]} {shape} (training noise {train_noise}): "
          f"clean {row['clean']} (mean {row['clean_mean']:.4f}), "
          f"10% noise {row['noisy']} (mean {row['noisy_mean']:.4f}), loss {row['loss_mean']:.4f}, "
          f"fit {row['fit_s']:.1f} s, predict {row['predict_s']:.2f} s", flush=True)
    return row


def _mean(values: list[float], digits: int) -> float:
    return round(float(np.mean(values)), digits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["rotten-tomatoes", "bbc-news"])
    parser.add_argument("--ranges", nargs="+", default=["1-3", "1-5", "1-7"], help="n-gram ranges, LOW-HIGH")
    parser.add_argument("--shapes", nargs="+", default=["80x14:256-128"],
                        help="projection and word layers, HASHESxBITS:LAYER-LAYER")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--train-noise", nargs="+", type=float, default=[0.0],
                        help="noise rates of a noised copy of the training texts trained on beside them (0: none)")
    args = parser.parse_args()
    print(f"firth {firth.__version__}, {os.cpu_count()} cores, no test data read")
    results = {name: {f"{r} {shape}" + (f" + noise {rate}" if rate else ""):
                      scores(name, tuple(int(n) for n in r.split("-")), shape, args.seeds, rate)
                      for r in args.ranges for shape in args.shapes for rate in args.train_noise}
               for name in args.datasets}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
