"""`firth classify`: train, evaluate and apply text classifiers."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from firth.cli.inputs import (
    add_reader_options,
    add_shard_option,
    check_output,
    duration,
    family,
    labelled,
    positive_int,
    prepare_run_dir,
    shard_path,
)
from firth.cli.options import add_parser, add_training_options, config_from_args
from firth.cli.ship import command_line, describe_sources
from firth.config import ClassifierConfig
from firth.errors import FirthError
from firth.text.readers import text_batches

FEATURE_NAMES = ("tfidf", "counts", "ppmi", "glove", "projection")  # firth.registry.FEATURES (a test keeps them equal)
MODEL_NAMES = ("softmax", "mlp", "sgnn")  # firth.registry.MODELS
MAX_CONFUSION_CLASSES = 50  # a confusion matrix plot with more classes is unreadable and costs n^2 memory


def add(families) -> None:
    verbs = family(families, "classify", "Text classifiers: train, evaluate, predict.")
    train = add_parser(
        verbs, "train", "Train a classifier on a dataset name or a labelled file/folder.",
        "Train on DATA (a registry name: its train split; or a labelled file/folder). "
        "For a registry name, the test split is evaluated at the end.")
    train.add_argument("data", metavar="DATA")
    add_reader_options(train)
    train.add_argument("--test", metavar="FILE", help="a labelled file to evaluate on after training")
    add_training_options(train, ClassifierConfig, None, "run directory (default: runs/<data>)")
    train.set_defaults(run=train_)

    tune = add_parser(
        verbs, "tune", "Search features, model and settings on validation data within a time budget, then train "
        "the best.",
        "Search on DATA's training texts only (a stratified 20% held out for validation, or 3 folds under 1,000 "
        "texts): classify train's softmax defaults first, then the SGNN settings measured best across "
        "datasets, then settings Optuna's TPE sampler proposes; "
        "trials that fall behind stop early, and the search ends in time to train the best settings on all of "
        "DATA. Writes trials.jsonl, trials.png and the model; a registry name's test split (or --test) is "
        "scored once, at the end.")
    tune.add_argument("data", metavar="DATA")
    add_reader_options(tune)
    tune.add_argument("--budget", type=duration, default=300.0, metavar="TIME",
                      help="wall-clock time for the whole job, search and final training: 300, 90s, 5m, 1h")
    tune.add_argument("--metric", choices=("acc", "macro_f1"), default="acc", help="the validation score to maximize")
    tune.add_argument("--features", nargs="+", choices=FEATURE_NAMES, metavar="NAME",
                      help=f"featurizers to search ({', '.join(FEATURE_NAMES)}; default: tfidf, and the sgnn's "
                           "projection)")
    tune.add_argument("--model", nargs="+", choices=MODEL_NAMES, metavar="NAME",
                      help=f"networks to search ({', '.join(MODEL_NAMES)}; default: softmax and sgnn)")
    tune.add_argument("--n-trials", type=positive_int, metavar="N", help="stop after N trials (default: the budget "
                                                                         "alone decides)")
    tune.add_argument("--seed", type=int, default=0, help="seed of the validation split, the sampler and training")
    tune.add_argument("--device", default="auto", help="auto, cpu or cuda (cuda:N)")
    tune.add_argument("--test", metavar="FILE", help="a labelled file to evaluate the final model on")
    tune.add_argument("--out", metavar="DIR", help="directory of the search (default: runs/<data>-tune)")
    tune.add_argument("--resume", action="store_true", help="continue the search in --out (its trials are kept)")
    tune.add_argument("--overwrite", action="store_true", help="replace an earlier search in --out")
    tune.add_argument("--quiet", action="store_true", help="no line per trial, no progress bars")
    tune.set_defaults(run=tune_)

    evaluate = add_parser(verbs, "eval", "Accuracy, macro-F1, per-class report, confusion matrix.")
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("data", metavar="DATA", help="a registry name (its test split) or a labelled file")
    add_reader_options(evaluate)
    evaluate.add_argument("--confusion", metavar="PNG",
                          help="where to draw the confusion matrix (default: beside MODEL)")
    evaluate.set_defaults(run=eval_)

    predict = add_parser(verbs, "predict", "Labels with probabilities as JSON lines.")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("input", metavar="FILE", nargs="?", default="-",
                         help="one text per line; - or nothing reads standard input")
    predict.add_argument("--output", metavar="FILE", default="-", help="where the JSON lines go (- : standard output)")
    add_shard_option(predict)
    predict.set_defaults(run=predict_)


def _report_scores(name: str, labels, predicted) -> dict[str, float]:
    """Print and return accuracy and macro-F1."""
    from firth.evaluate.metrics import classification_scores

    scores = classification_scores(labels, predicted)
    print(f"{name}: accuracy {scores['accuracy']:.4f}  macro-F1 {scores['macro_f1']:.4f}  ({len(labels)} documents)")
    return {"accuracy": scores["accuracy"], "macro-F1": scores["macro_f1"]}


def train_(args) -> None:
    from firth.models.classifier import TextClassifier
    from firth.train import distributed

    config = config_from_args(ClassifierConfig, args, progress=not args.quiet)
    out = Path(args.out or Path("runs") / Path(args.data).stem)
    prepare_run_dir(out, args.resume, args.overwrite)
    train = labelled(args.data, args, "train")
    clf = TextClassifier.from_config(config).fit(train.texts, train.labels, out_dir=out, resume=args.resume)
    with distributed.leaving_together():
        if not distributed.is_main():  # under torchrun, rank 0 reports, tests and saves
            return
        print(f"trained {config.model} on {config.features_name} features: {len(train.texts)} documents, "
              f"{len(clf.classes_)} classes, {len(clf.history_)} epochs")
        clf.card_["data"]["source"] = describe_sources([args.data], "train")
        clf.card_["command"] = command_line(args)
        _test_once(clf, args)
        clf.save(out / "model")
        print(f"model: {out / 'model'}  metrics: {out / 'metrics.jsonl'}  plot: {out / 'learning_curve.png'}")


def tune_(args) -> None:
    import shutil

    from firth.evaluate.plots import plot_trials
    from firth.models.classifier import TextClassifier
    from firth.train.search import JOURNAL, TRIALS

    out = Path(args.out or Path("runs") / f"{Path(args.data).stem}-tune")
    if out.exists() and not out.is_dir():
        raise FirthError(f"{out}: is a file, not a directory; give --out a directory.")
    if args.overwrite and not args.resume:
        for name in (JOURNAL, TRIALS, "trials.png"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "run", ignore_errors=True)
    train = labelled(args.data, args, "train")
    shown = None if args.quiet else _show_trial
    clf = TextClassifier.tune(train.texts, train.labels, budget_s=args.budget, metric=args.metric,
                              features=args.features, models=args.model, n_trials=args.n_trials, seed=args.seed,
                              out_dir=out, resume=args.resume, on_trial=shown, device=args.device,
                              progress=not args.quiet)
    print(_trials_table(clf.search_, args.metric))
    plot_trials(clf.search_, args.metric, out / "trials.png")
    tuning = clf.card_["data"]["tuning"]
    print(f"best: {clf.config_.model} on {clf.config_.features_name} features, validation {args.metric} "
          f"{tuning['best validation score']:.4f}; {tuning['trials']} trials in {tuning['seconds']:.0f} s "
          f"(budget {args.budget:.0f} s)")
    _test_once(clf, args)
    clf.card_["data"]["source"] = describe_sources([args.data], "train")
    clf.card_["command"] = command_line(args)
    clf.save(out / "model")
    print(f"model: {out / 'model'}  trials: {out / TRIALS}  plot: {out / 'trials.png'}")


def _show_trial(record) -> None:
    score = "-" if record.score is None else f"{record.score:.4f}"
    print(f"trial {record.number:3}: {record.state:8} {score}  {record.seconds:6.1f} s  "
          f"{record.params.get('family', '')}", flush=True)


def _trials_table(records, metric: str) -> str:
    """The trials, best first: state, score, seconds and settings."""
    lines = [f"{'trial':>5}  {'state':8}  {metric:>8}  {'seconds':>7}  settings"]
    ranked = sorted(records, key=lambda r: (r.state != "complete", -(r.score or 0), r.number))
    for r in ranked:
        score = "-" if r.score is None else f"{r.score:.4f}"
        settings = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.params.items())
        lines.append(f"{r.number:5}  {r.state:8}  {score:>8}  {r.seconds:7.1f}  {settings}")
    return "\n".join(lines)


def _test_once(clf, args) -> None:
    """Score the final model on the test data (a registry name's test split, or --test) into its card."""
    from firth.data import DATASETS

    test_source = args.test or (args.data if args.data in DATASETS and not Path(args.data).exists() else None)
    if test_source is None:
        return
    test = labelled(test_source, args, "test")
    scores = _report_scores("test", test.labels, clf.predict(test.texts))
    where = f"{test_source} test split" if test_source in DATASETS and not Path(test_source).exists() else test_source
    clf.card_["metrics"].update({f"test {name} ({where}, {len(test.labels)} documents)": value
                                 for name, value in scores.items()})


def eval_(args) -> None:
    from firth.evaluate.metrics import confusion, per_class_report
    from firth.evaluate.plots import plot_confusion
    from firth.models.classifier import TextClassifier

    png = Path(args.confusion or Path(args.model).resolve().parent / "confusion_matrix.png")
    check_output(png, args.model, args.data)
    clf = TextClassifier.load(args.model)
    data = labelled(args.data, args, "test")
    unknown = sorted(set(data.labels) - set(clf.classes_))
    if unknown:
        raise FirthError(f"{args.data}: has labels the model was not trained on ({', '.join(unknown[:5])}); "
                         f"the model knows {', '.join(map(str, clf.classes_[:20]))}.")
    predicted = clf.predict(data.texts)
    _report_scores("eval", data.labels, predicted)
    classes = sorted(set(clf.classes_) | set(data.labels))
    print(per_class_report(data.labels, predicted, classes))
    if len(classes) > MAX_CONFUSION_CLASSES:
        print(f"confusion matrix not drawn: {len(classes):,} classes (it is drawn up to {MAX_CONFUSION_CLASSES})")
        return
    plot_confusion(confusion(data.labels, predicted, classes), classes, png)
    print(f"confusion matrix: {png}")


def predict_(args) -> None:
    from firth.io.atomic import atomic_path
    from firth.models.classifier import TextClassifier

    output = shard_path(args.output, args.shard)
    if output != "-":
        check_output(output, args.input, args.model)
    clf = TextClassifier.load(args.model)
    with contextlib.nullcontext(None) if output == "-" else atomic_path(output) as tmp:
        with contextlib.nullcontext(sys.stdout) if tmp is None else open(tmp, "w", encoding="utf-8") as out:
            for texts in text_batches(args.input, shard=args.shard):
                for row in clf.predict_proba(texts):
                    best = int(row.argmax())
                    probabilities = {str(c): round(float(p), 6) for c, p in zip(clf.classes_, row)}
                    out.write(json.dumps({"label": str(clf.classes_[best]), "probability": round(float(row[best]), 6),
                                          "probabilities": probabilities}) + "\n")
                out.flush()
