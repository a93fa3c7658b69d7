"""Why the SGNN classifier's validation accuracy swings between epochs, and what steadies it.

    python benchmarks/sgnn_stability.py [--datasets bbc-news rotten-tomatoes] [--epochs 12]

The SGNN `make run` trained when this was measured (an 80 x 14 float projection of 1-3-grams, hidden 256
128, mean+max pooling, lr 3e-3, cosine schedule after 50 warm-up steps, gradient clipping at 1, batches of
64) is trained on each dataset's training split (its own
stratified 10% held out for early stopping, which is what is scored here: no test data is read)
with every epoch run (no early stopping), once per variant:

- `batch_norm`: the head's BatchNorm1d, as `make run` trained it; each epoch's validation is also
  scored with the same weights and the BatchNorm statistics recomputed over the whole training
  set (what the running averages should hold): if that score is steady, the swings come from
  stale running statistics, not from the weights;
- `no_batch_norm`: the head without BatchNorm;
- `batch_norm_low_lr`: BatchNorm at a third of the learning rate.

For each: the validation accuracy per epoch, its largest drop from one epoch to the next, and the
standard deviation over the second half of training. The last line is one JSON object
{dataset: {variant: {"val_acc": [...], "max_drop", "late_std", "best"[, "recomputed": {...}]}}}.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

import firth
from classify import EARLIER_SGNN_PROJECTION
from firth.data import load
from firth.data.splits import stratified_split
from firth.models.classifier import TextClassifier
from firth.text.segment import words

STUDIED = dict(model="sgnn", feature_params=EARLIER_SGNN_PROJECTION,
                hidden=(256, 128), pooling="meanmax", lr=3e-3,
                schedule="cosine", warmup=50, clip_grad=1.0, batch_size=64, monitor="val_acc", patience=None,
                seed=0, device="cpu", progress=False)
VARIANTS = {"batch_norm": {}, "no_batch_norm": {"batch_norm": False}, "batch_norm_low_lr": {"lr": 1e-3}}


def recomputed_accuracy(model: torch.nn.Module, train_docs: list[list[str]], val_docs: list[list[str]],
                        val_y: np.ndarray) -> float:
    """Validation accuracy with every BatchNorm's statistics recomputed over the training texts (one pass,
    cumulative averages; weights, running statistics and random state left as they were)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone(), m.momentum)
             for m in norms]
    with torch.random.fork_rng(), torch.no_grad():
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the pass
        model.train()
        for start in range(0, len(train_docs), 256):
            model(train_docs[start:start + 256])
        model.eval()
        predicted = torch.cat([model(val_docs[s:s + 256]).argmax(1) for s in range(0, len(val_docs), 256)])
    for m, (mean, var, count, momentum) in zip(norms, saved):
        m.running_mean.copy_(mean), m.running_var.copy_(var), m.num_batches_tracked.copy_(count)
        m.momentum = momentum
    return float((predicted.numpy() == val_y).mean())


def run_variant(settings: dict, texts: list[str], labels: list[str], epochs: int) -> dict:
    """Train every epoch; per epoch, the Trainer's validation accuracy and, with BatchNorm, the accuracy with
    its statistics recomputed (the same weights)."""
    clf = TextClassifier(**{**STUDIED, **settings, "epochs": epochs})
    train_rows, val_rows = stratified_split(labels, 0.1, STUDIED["seed"])  # the split fit() holds out
    classes = np.array(sorted(set(labels)))
    train_docs = [words(texts[i], lowercase=False) for i in train_rows]
    val_docs = [words(texts[i], lowercase=False) for i in val_rows]
    val_y = np.searchsorted(classes, [labels[i] for i in val_rows])
    recomputed = []

    def watch(record: dict) -> None:
        if "val_acc" in record and clf.config.batch_norm:
            recomputed.append(recomputed_accuracy(clf.model_, train_docs, val_docs, val_y))

    clf.fit(texts, labels, on_record=watch)
    row = summary([r["val_acc"] for r in clf.history_ if "val_acc" in r])
    if recomputed:
        row["recomputed"] = summary(recomputed)
    return row


def summary(val_acc: list[float]) -> dict:
    drops = [a - b for a, b in zip(val_acc, val_acc[1:])]
    late = val_acc[len(val_acc) // 2:]
    return {"val_acc": [round(a, 4) for a in val_acc], "max_drop": round(max(drops, default=0.0), 4),
            "late_std": round(float(np.std(late)), 4), "best": round(max(val_acc), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["bbc-news", "rotten-tomatoes"])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--variants", nargs="+", help="run only these")
    args = parser.parse_args()
    print(f"firth {firth.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"{os.cpu_count()} cores", flush=True)
    results = {}
    for name in args.datasets:
        train = load(name).train
        results[name] = {}
        for variant, settings in VARIANTS.items():
            if args.variants and variant not in args.variants:
                continue
            row = run_variant(settings, train.texts, [str(y) for y in train.labels], args.epochs)
            results[name][variant] = row
            for label, shown in ((variant, row), ("  statistics recomputed", row.get("recomputed"))):
                if shown:
                    print(f"  {name:16} {label:24} best {shown['best']:.4f}  largest drop {shown['max_drop']:.4f}  "
                          f"late std {shown['late_std']:.4f}  {shown['val_acc']}", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
