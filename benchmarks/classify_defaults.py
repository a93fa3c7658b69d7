"""How `firth classify train`'s defaults were chosen: tuned on every dataset, kept where they carry across
all of them, and never scored on a test split.

    python benchmarks/classify_defaults.py [--budget 300] [--datasets rotten-tomatoes bbc-news 20newsgroups]

1. On each dataset, `TextClassifier.tune` searches the default family (softmax on TF-IDF) for `--budget`
   seconds on its training split (a stratified 20% of it for validation, seed 0).
2. Each search's best settings (C and the learning rate to two significant digits) become a candidate
   default, as `classify train` would run them: without the tuned epoch count, stopping early on its own
   10% of what it trains on. The current defaults are a candidate too.
3. Every candidate trains on every dataset's tuning share (the same 80%) and is scored on its validation
   20%. A candidate's regret on a dataset is the best candidate's validation accuracy there minus its
   own; the chosen defaults have the least mean regret (then the least largest regret).

It prints the search results, the table of validation accuracies and regrets, and one JSON object:
{"candidates": [{"from", "settings", "val_acc": {dataset: acc}, "mean_regret", "max_regret"}], "chosen"}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform

import numpy as np
import sklearn
import torch

import firth
from firth.config import ClassifierConfig
from firth.data import load
from firth.models.classifier import TextClassifier, _tuning_splits

DATASETS = ("rotten-tomatoes", "bbc-news", "20newsgroups")
DEFAULT_KEYS = ("C", "lr", "feature_params")  # what a tuned softmax-on-TF-IDF setting can give the defaults
RUN = dict(features="tfidf", model="softmax", seed=0, device="cpu", progress=False)


def tuned_candidate(name: str, budget: float) -> dict:
    """The best settings `tune` finds on one dataset's training split, as a candidate default."""
    data = load(name)
    clf = TextClassifier.tune(data.train.texts, data.train.labels, budget_s=budget, features=["tfidf"],
                              models=["softmax"], seed=0, device="cpu", progress=False)
    tuning = clf.card_["data"]["tuning"]
    settings = {k: clf.best_params_[k] for k in DEFAULT_KEYS}
    settings.update(C=significant(settings["C"]), lr=significant(settings["lr"]))  # a default people can read
    print(f"{name}: {tuning['trials']} trials in {tuning['seconds']} s, best validation accuracy "
          f"{tuning['best validation score']:.4f}: {settings}", flush=True)
    return {"from": f"tuned on {name}", "settings": settings}


def significant(value: float, digits: int = 2) -> float:
    """`value` to `digits` significant digits."""
    return float(f"{value:.{digits - 1}e}")


def current_defaults() -> dict:
    """`classify train`'s defaults as they stand (TextClassifier's, with the featurizer's own)."""
    defaults = ClassifierConfig()
    return {"from": "current defaults", "settings": {"C": defaults.C, "lr": defaults.lr, "feature_params": {}}}


def validation_accuracy(settings: dict, texts: list[str], labels: list[str]) -> float:
    """Trained as `classify train` trains (early stopping on 10% of what it fits) on the tuning share,
    scored on the tuning validation share."""
    fit, val = _tuning_splits(labels, seed=0)[0]
    clf = TextClassifier(**RUN, **settings).fit([texts[i] for i in fit], [labels[i] for i in fit])
    predicted = clf.predict([texts[i] for i in val])
    return float(np.mean(predicted == np.array([labels[i] for i in val])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, metavar="SECONDS", help="each dataset's search")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    args = parser.parse_args()
    print(f"firth {firth.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"scikit-learn {sklearn.__version__}, {os.cpu_count()} cores, {platform.machine()}", flush=True)
    candidates = [tuned_candidate(name, args.budget) for name in args.datasets] + [current_defaults()]
    for name in args.datasets:
        data = load(name)
        for candidate in candidates:
            acc = validation_accuracy(candidate["settings"], data.train.texts, data.train.labels)
            candidate.setdefault("val_acc", {})[name] = round(acc, 4)
            print(f"  {name:16} {candidate['from']:28} validation accuracy {acc:.4f}", flush=True)
    for name in args.datasets:
        best = max(c["val_acc"][name] for c in candidates)
        for candidate in candidates:
            candidate.setdefault("regret", {})[name] = round(best - candidate["val_acc"][name], 4)
    for candidate in candidates:
        regrets = list(candidate["regret"].values())
        candidate.update(mean_regret=round(float(np.mean(regrets)), 4), max_regret=round(max(regrets), 4))
    chosen = min(candidates, key=lambda c: (c["mean_regret"], c["max_regret"]))
    print("\n| candidate | " + " | ".join(args.datasets) + " | mean regret | largest regret |")
    print("|---|" + "---|" * (len(args.datasets) + 2))
    for c in candidates:
        cells = " | ".join(f"{c['val_acc'][n]:.4f} ({-c['regret'][n]:+.4f})" for n in args.datasets)
        print(f"| {c['from']} | {cells} | {c['mean_regret']:.4f} | {c['max_regret']:.4f} |")
    print(f"\nchosen: {chosen['from']}: {chosen['settings']}")
    print(json.dumps({"candidates": candidates, "chosen": chosen["from"]}, default=list))


if __name__ == "__main__":
    main()
