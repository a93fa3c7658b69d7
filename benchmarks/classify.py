"""Text classifiers: firth vs fastText and TF-IDF + LogisticRegression, side by side.

    pip install -e '.[bench]'
    python benchmarks/classify.py [--quick]

On the registry's fixed splits of rotten-tomatoes, bbc-news and (without
--quick) 20newsgroups, in one run: fastText supervised (epoch 25, wordNgrams 2,
dim 100, lr chosen from {0.1, 0.5, 1.0} on a 10% validation slice of train, then
trained on all of train), TF-IDF (1-2 grams, sublinear tf) + LogisticRegression,
and firth's softmax on TF-IDF, MLP on averaged GloVe, MLP on PPMI-SVD, and the
SGNN classifier. Every method starts from the raw texts: fastText and TF-IDF
+ LR read firth's tokens (`words`, lowercased, joined by spaces), made inside
their timed sections (fastText's also writes its training file), as firth's
models tokenize inside theirs. All get the same shuffled training set (20
Newsgroups is sorted by class). For each: test accuracy, macro-F1, training
wall seconds, prediction documents/second (the fastest of 3 passes over the
test set, tokenization included), model size on disk. The last line is one JSON object
{dataset: {method: {"acc", "macro_f1", "train_s", "docs_per_s", "size_bytes"}}}.

`--tuned` gives every method its settings from a search on the same
validation data, a stratified 20% of the training texts (seed 0; what
TextClassifier.tune holds out), within the same `--budget` per dataset
and method, and then trains the chosen settings on all of train: firth_best
(`TextClassifier.tune` over its default families) and firth_sgnn (the tune
restricted to the SGNN), fastText with its own autotune (the
validation file, `autotuneDuration`; the found settings retrained on all
of train; each tried again with the next seed where fastText's training
diverges, up to 3 times, and trained on the fitting 80% where every
retrain on all of train diverges), `fasttext_q` (that model quantized: `quantize(input=train,
cutoff=10000, retrain=True, qnorm=True)`, its quantization counted in its
training time) and TF-IDF + LogisticRegression with GridSearchCV over C on
that split. No choice sees the test set. `firth_sgnn_int8` is the tuned SGNN
exported to ONNX with 8-bit weights (`firth export --int8`) and run by
firth.runtime, the export's time counted in its training time. Rows gain
`tune_s`; the JSON object gains "tuned": true.

`--noise RATE [RATE ...]` (e.g. 0.05, 0.1) measures robustness: every method
is trained on the clean training texts as above and tested on the test texts
with seeded character and word noise at each rate (firth.text.noise:
insertions, deletions, substitutions and swaps of characters, case flips and
words run together; rate 0 is the clean test set). Each model is trained once
and scored at every rate; the run ends with one JSON object per rate, in the
order given, each gaining "noise": RATE (where RATE is not 0).

The process keeps freed memory for reuse, as `firth`'s commands do
(firth.train.memory), for every method run in it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import platform
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import firth
import firth.data
from firth.data.splits import stratified_split
from firth.evaluate.metrics import classification_scores
from firth.models.classifier import TextClassifier
from firth.text.noise import noise_texts
from firth.text.segment import words
from firth.train.memory import keep_freed_memory

FASTTEXT_LRS = (0.1, 0.5, 1.0)
FASTTEXT_ATTEMPTS = 3  # --tuned: tries of fastText's autotune, and of its retrain, with seeds 0, 1, 2
RETRAIN_SLACK = 0.05  # a retrain this far below the autotuned model's validation accuracy has failed
LR_CS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # GridSearchCV's grid for TF-IDF + LR under --tuned
PREDICT_REPEATS = 3  # a test set predicts in well under a second: one run is mostly noise
# the SGNN projection before the SGNN had defaults of its own: what the untuned rows and the studies built
# on them (sgnn_timing.py, sgnn_stability.py) measure
EARLIER_SGNN_PROJECTION = {"mode": "float", "n_hashes": 80, "bits": 14, "ngram_range": (1, 3)}
FIRTH_METHODS: dict[str, dict] = {
    # like LogisticRegression(C=30), trained on all of train (no early-stopping hold-out)
    "firth_softmax_tfidf": dict(features="tfidf", model="softmax", C=30.0, lr=1e-2, epochs=20, val_fraction=0.0),
    "firth_mlp_glove": dict(features="glove", model="mlp", lr=3e-3, epochs=30),
    "firth_mlp_ppmi": dict(features="ppmi", model="mlp", lr=3e-3, epochs=30),
    "firth_sgnn": dict(model="sgnn", feature_params=EARLIER_SGNN_PROJECTION, hidden=(256, 128), pooling="meanmax",
                       lr=3e-3, schedule="cosine", warmup=50, clip_grad=1.0, epochs=8, batch_size=64, patience=6,
                       monitor="val_acc"),
}


def tokens(texts: list[str]) -> list[str]:
    return [" ".join(words(t)) for t in texts]


def timed(fn: Callable, repeats: int = 1) -> tuple[object, float]:
    """fn's result and its fastest wall time over `repeats` calls (as timeit: the least disturbed run)."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


class TestSets:
    """The test texts at each noise rate, and the scoring of a trained model on every one of them."""

    def __init__(self, texts: list[str], labels: list[str], rates: list[float]):
        self.labels = labels
        self.texts = {rate: noise_texts(texts, rate) for rate in rates}

    def score(self, name: str, predict: Callable[[list[str]], list[str]], train_s: float, size: int,
              tune_s: float | None = None) -> dict[float, dict]:
        """One row per noise rate: accuracy, macro-F1 and docs/s of `predict`, with the training figures."""
        rows = {}
        for rate, texts in self.texts.items():
            predicted, predict_s = timed(lambda: predict(texts), PREDICT_REPEATS)
            scores = classification_scores(self.labels, predicted)
            row = rows[rate] = {"acc": round(scores["accuracy"], 4), "macro_f1": round(scores["macro_f1"], 4),
                                "train_s": round(train_s, 2), "docs_per_s": round(len(texts) / predict_s),
                                "size_bytes": size, **({} if tune_s is None else {"tune_s": round(tune_s, 1)})}
            tuning = "" if tune_s is None else f"  tune {tune_s:6.1f} s"
            noise = f" (noise {rate})" if rate else ""
            print(f"  {name + noise:22} acc {row['acc']:.4f}  macro-F1 {row['macro_f1']:.4f}{tuning}  "
                  f"train {row['train_s']:8.2f} s  {row['docs_per_s']:>9,} docs/s  {size / 1e6:10.2f} MB", flush=True)
        return rows


def run_fasttext(train_texts, train_y, tests: TestSets, tmp: Path) -> dict[float, dict]:
    import fasttext

    def fit(path: str, lr: float):
        return fasttext.train_supervised(path, epoch=25, wordNgrams=2, dim=100, lr=lr, thread=2,
                                         seed=0, verbose=0)

    fit_idx, val_idx = stratified_split(train_y, 0.1, seed=0)
    fit_file = write_fasttext(tmp / "fit.txt", [train_texts[i] for i in fit_idx], [train_y[i] for i in fit_idx])
    val_x, val_y = tokens([train_texts[i] for i in val_idx]), [train_y[i] for i in val_idx]

    def val_acc(lr: float) -> float:
        labels, _ = fit(fit_file, lr).predict(val_x)
        return float(np.mean([label[0][len("__label__"):] == y for label, y in zip(labels, val_y)]))

    best_lr = max(FASTTEXT_LRS, key=val_acc)
    model, train_s = timed(lambda: fit(write_fasttext(tmp / "train.txt", train_texts, train_y), best_lr))
    print(f"  (fastText lr {best_lr} chosen on the validation slice)")
    return _fasttext_rows("fasttext", model, tests, tmp, train_s)


def run_tfidf_lr(train_texts, train_y, tests: TestSets) -> dict[float, dict]:
    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                             LogisticRegression(max_iter=1000))
    _, train_s = timed(lambda: pipeline.fit(tokens(train_texts), train_y))
    return tests.score("tfidf_lr", lambda texts: pipeline.predict(tokens(texts)), train_s, len(pickle.dumps(pipeline)))


def run_firth(name: str, params: dict, train_texts, train_y, tests: TestSets, tmp: Path) -> dict[float, dict]:
    clf = TextClassifier(seed=0, device="cpu", progress=False, **params)
    _, train_s = timed(lambda: clf.fit(train_texts, train_y))
    clf.save(tmp / name)
    return tests.score(name, clf.predict, train_s, directory_size(tmp / name))


# --- --tuned: every method's settings from a search on the same validation split ---------------------


def validation_split(labels: list[str]) -> tuple[list[int], list[int]]:
    """The rows TextClassifier.tune fits on and validates on (a stratified 20%, seed 0): every method's."""
    from firth.models.classifier import _tuning_splits

    return _tuning_splits(labels, seed=0)[0]


def write_fasttext(path: Path, texts, labels) -> str:
    path.write_text("".join(f"__label__{y} {x}\n" for x, y in zip(tokens(texts), labels)), encoding="utf-8")
    return str(path)


def run_fasttext_tuned(train_texts, train_y, tests: TestSets, tmp: Path, budget: float) -> dict[str, dict]:
    """fastText's autotune on the validation split, the found settings retrained on all of train; and that
    model quantized (fasttext_q).

    fastText's training can diverge at the learning rates its autotune finds: the autotune's own last
    training has stopped with "Encountered NaN", and retrains have come out scoring far below the autotuned
    model. As a user would, the autotune and the retrain are each tried again with the next seed, up to
    FASTTEXT_ATTEMPTS times; a retrain has failed when it scores more than RETRAIN_SLACK below the autotuned
    model on the validation texts (in its own training data). Where every retrain on all of train fails, the
    model is trained on the fitting 80% as the autotune's own is. The times reported are those of the
    attempt that worked (failed ones are printed). No rows if every attempt fails: the other methods
    still run."""
    import fasttext

    fit, val = validation_split(train_y)
    fit_file = write_fasttext(tmp / "fit.txt", [train_texts[i] for i in fit], [train_y[i] for i in fit])
    val_file = write_fasttext(tmp / "val.txt", [train_texts[i] for i in val], [train_y[i] for i in val])
    tuned, tune_s = retried("fastText autotune", lambda seed: timed(lambda: fasttext.train_supervised(
        fit_file, autotuneValidationFile=val_file, autotuneDuration=int(budget), thread=2, seed=seed, verbose=0)))
    if tuned is None:
        return {}
    tuned_acc = tuned.test(val_file)[1]  # precision at 1: the accuracy, one label a text
    found = tuned.f.getArgs()
    settings = dict(lr=found.lr, dim=found.dim, ws=found.ws, epoch=found.epoch, minCount=found.minCount,
                    minn=found.minn, maxn=found.maxn, neg=found.neg, wordNgrams=found.wordNgrams,
                    loss=str(found.loss).split(".")[-1], bucket=found.bucket, thread=2, verbose=0)
    chosen = {k: v for k, v in settings.items() if k not in ("thread", "verbose")}
    print(f"  (fastText autotune chose {', '.join(f'{k} {v}' for k, v in chosen.items())}; "
          f"validation accuracy {tuned_acc:.4f})")
    train_file = write_fasttext(tmp / "train.txt", train_texts, train_y)

    def retrain(path: str, seed: int) -> tuple[object, float]:
        model, seconds = timed(lambda: fasttext.train_supervised(path, seed=seed, **settings))
        acc = model.test(val_file)[1]
        if acc < tuned_acc - RETRAIN_SLACK:
            raise RuntimeError(f"it scores {acc:.4f} on the validation texts, the autotuned model {tuned_acc:.4f}")
        return model, seconds

    model, train_s = retried("fastText retrain", lambda seed: retrain(train_file, seed))
    if model is None:  # the autotune's own model is trained on the fitting rows: a user of it gets that
        print("  (fastText: every retrain on all of train failed; trained on the fitting 80% instead, as the "
              "autotune's own model is)", flush=True)
        model, train_s = retried("fastText training on the fitting 80%", lambda seed: retrain(fit_file, seed))
    if model is None:
        return {}
    rows = {"fasttext": _fasttext_rows("fasttext", model, tests, tmp, train_s, tune_s)}
    try:
        _, quantize_s = timed(lambda: model.quantize(input=train_file, cutoff=10000, retrain=True, qnorm=True,
                                                     thread=2))
    except RuntimeError as e:
        print(f"  (fastText quantize failed: {e})", flush=True)
        return rows
    rows["fasttext_q"] = _fasttext_rows("fasttext_q", model, tests, tmp, train_s + quantize_s, tune_s)
    return rows


def retried(what: str, attempt: Callable[[int], tuple[object, float]]) -> tuple[object | None, float]:
    """`attempt(seed)`, a (model, seconds its training took) pair, for the first seed 0, 1, ... whose attempt
    raises no RuntimeError, within FASTTEXT_ATTEMPTS; (None, 0.0) if none does. Failures are printed."""
    for seed in range(FASTTEXT_ATTEMPTS):
        try:
            return attempt(seed)
        except RuntimeError as e:
            print(f"  ({what} with seed {seed} failed: {e})", flush=True)
    return None, 0.0


def _fasttext_rows(name: str, model, tests: TestSets, tmp: Path, train_s: float,
                   tune_s: float | None = None) -> dict[float, dict]:
    """Test scores, prediction speed (tokenization included) and size on disk of a trained fastText model."""
    path = tmp / f"{name}.bin"
    model.save_model(str(path))
    size = os.path.getsize(path)
    path.unlink()

    def predict(texts: list[str]) -> list[str]:
        return [label[0][len("__label__"):] for label in model.predict(tokens(texts))[0]]

    return tests.score(name, predict, train_s, size, tune_s)


def run_tfidf_lr_tuned(train_texts, train_y, tests: TestSets) -> dict[float, dict]:
    """TF-IDF + LR with C chosen by GridSearchCV on the validation split, refit on all of train."""
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    fit, val = validation_split(train_y)
    fold = np.full(len(train_y), -1)
    fold[val] = 0
    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                             LogisticRegression(max_iter=1000))
    search = GridSearchCV(pipeline, {"logisticregression__C": list(LR_CS)}, cv=PredefinedSplit(fold), n_jobs=1)
    _, tune_s = timed(lambda: search.fit(tokens(train_texts), train_y))
    best_c = search.best_params_["logisticregression__C"]
    final = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                          LogisticRegression(C=best_c, max_iter=1000))
    _, train_s = timed(lambda: final.fit(tokens(train_texts), train_y))
    print(f"  (TF-IDF + LR: C {best_c} chosen on the validation split)")
    return tests.score("tfidf_lr", lambda texts: final.predict(tokens(texts)), train_s, len(pickle.dumps(final)),
                       tune_s)


def run_firth_tuned(name: str, train_texts, train_y, tests: TestSets, tmp: Path, budget: float,
                    int8: bool = False, **search) -> dict[str, dict[float, dict]]:
    """TextClassifier.tune within the budget; its search time and the refit's time reported apart. With
    `int8`, also the chosen model exported to ONNX with 8-bit weights and run by firth.runtime (row
    NAME_int8; the export's time counted in its training time)."""
    started = time.perf_counter()
    clf = TextClassifier.tune(train_texts, train_y, budget_s=budget, seed=0, device="cpu", progress=False, **search)
    total_s = time.perf_counter() - started
    refit_s = sum(r.get("seconds", 0.0) for r in clf.history_)
    clf.save(tmp / name)
    chosen = {k: v for k, v in clf.best_params_.items() if k not in ("device", "progress", "seed", "val_fraction")}
    print(f"  ({name}: {len(clf.search_)} trials; chose {chosen})")
    rows = {name: tests.score(name, clf.predict, refit_s, directory_size(tmp / name), total_s - refit_s)}
    if int8:
        from firth import runtime
        from firth.models.export import export

        _, export_s = timed(lambda: export(tmp / name, tmp / f"{name}_int8", int8=True))
        exported = runtime.load(tmp / f"{name}_int8")
        rows[f"{name}_int8"] = tests.score(f"{name}_int8", exported.predict, refit_s + export_s,
                                           directory_size(tmp / f"{name}_int8"), total_s - refit_s)
    return rows


def shuffled(texts: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="rotten-tomatoes and bbc-news only")
    parser.add_argument("--methods", nargs="+", help="run only these methods")
    parser.add_argument("--datasets", nargs="+", help="run only these datasets")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0], metavar="RATE",
                        help="test on noised test texts (train on clean ones), noise at each rate (0: clean)")
    parser.add_argument("--tuned", action="store_true", help="every method's settings from a search on the same "
                                                             "validation split, within --budget")
    parser.add_argument("--budget", type=float, default=300.0, metavar="SECONDS",
                        help="--tuned: each method's search time per dataset")
    args = parser.parse_args()
    keep_freed_memory()
    names = args.datasets or ["rotten-tomatoes", "bbc-news"] + ([] if args.quick else ["20newsgroups"])
    print(f"firth {firth.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"scikit-learn {sklearn.__version__}, {os.cpu_count()} cores, {platform.machine()}", flush=True)
    results: dict[float, dict[str, dict]] = {rate: {} for rate in args.noise}
    for name in names:
        data = firth.data.load(name)
        train_texts, train_y = shuffled(data.train.texts, data.train.labels)
        tests = TestSets(data.test.texts, data.test.labels, args.noise)
        print(f"{name}: {len(train_texts):,} train, {len(data.test.texts):,} test, {len(set(train_y))} classes"
              + (f"; tested at noise {', '.join(map(str, args.noise))}" if args.noise != [0.0] else ""), flush=True)
        rows: dict[str, dict[float, dict]] = {}  # method → noise rate → row
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            wanted = lambda method: not args.methods or method in args.methods  # noqa: E731
            if args.tuned:
                if wanted("fasttext"):
                    rows.update(run_fasttext_tuned(train_texts, train_y, tests, tmp, args.budget))
                if wanted("tfidf_lr"):
                    rows["tfidf_lr"] = run_tfidf_lr_tuned(train_texts, train_y, tests)
                if wanted("firth_sgnn"):
                    rows.update(run_firth_tuned("firth_sgnn", train_texts, train_y, tests, tmp, args.budget,
                                                int8=True, models=["sgnn"]))
                if wanted("firth_best"):  # the search over every default family: no pick among rows by test score
                    rows.update(run_firth_tuned("firth_best", train_texts, train_y, tests, tmp, args.budget))
            else:
                if wanted("fasttext"):
                    rows["fasttext"] = run_fasttext(train_texts, train_y, tests, tmp)
                if wanted("tfidf_lr"):
                    rows["tfidf_lr"] = run_tfidf_lr(train_texts, train_y, tests)
                for method, params in FIRTH_METHODS.items():
                    if wanted(method):
                        rows[method] = run_firth(method, params, train_texts, train_y, tests, tmp)
        for rate in args.noise:
            results[rate][name] = at_rate = {method: by_rate[rate] for method, by_rate in rows.items()}
            firth_rows = {k: v for k, v in at_rate.items() if k.startswith("firth_")}
            if firth_rows and not args.tuned:  # the best firth row by test score: reported, never a tuned choice
                best = max(firth_rows, key=lambda k: firth_rows[k]["acc"])
                at_rate["firth_best"] = dict(firth_rows[best], method=best)
    for rate in args.noise:
        print(json.dumps({**results[rate], **({"noise": rate} if rate else {}),
                          **({"tuned": True} if args.tuned else {})}))


if __name__ == "__main__":
    main()
