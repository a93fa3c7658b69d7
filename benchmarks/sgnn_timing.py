"""One SGNN classifier setting on one dataset: training seconds, prediction docs/s and its best validation
accuracy (the 10% of the training split that fit holds out; no test data is scored).

    python benchmarks/sgnn_timing.py rotten-tomatoes '{"hidden": [256], "pooling": "mean"}'

The settings start from benchmarks/classify.py's SGNN (8 epochs) and the JSON object replaces any of
them; it prints one line. For trying a change to the SGNN's speed or settings quickly; the side-by-side
figures against fastText come from benchmarks/classify.py.
"""

from __future__ import annotations

import json
import sys
import time

from classify import EARLIER_SGNN_PROJECTION
from firth.data import load
from firth.models.classifier import TextClassifier

SETTINGS = dict(model="sgnn", feature_params=EARLIER_SGNN_PROJECTION,
                hidden=(256, 128), pooling="meanmax", lr=3e-3,
                schedule="cosine", warmup=50, clip_grad=1.0, epochs=8, batch_size=64, patience=6, monitor="val_acc",
                seed=0, device="cpu", progress=False)


def main() -> None:
    name, changes = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    settings = {**SETTINGS, **changes}
    settings["hidden"] = tuple(settings["hidden"])
    data = load(name)
    clf = TextClassifier(**settings)
    start = time.perf_counter()
    clf.fit(data.train.texts, data.train.labels)
    fit_s = time.perf_counter() - start
    best = float("inf")
    for _ in range(3):  # the fastest of 3 passes, as benchmarks/classify.py times prediction
        start = time.perf_counter()
        clf.predict(data.test.texts)
        best = min(best, time.perf_counter() - start)
    val = max(r.get("val_acc", 0.0) for r in clf.history_)
    print(f"{name} {changes}: fit {fit_s:.2f} s, predict {len(data.test.texts) / best:,.0f} docs/s, "
          f"best validation accuracy {val:.4f}")


if __name__ == "__main__":
    main()
