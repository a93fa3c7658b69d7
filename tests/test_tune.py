"""`TextClassifier.tune` and `firth classify tune`: a budgeted search on validation data carved from training."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from firth.config import SOFTMAX_DEFAULTS, ClassifierConfig
from firth.errors import FirthError
from firth.models.classifier import TextClassifier
from firth.models.search_space import (SGNN_LAYERS, SGNN_PROJECTIONS, SGNN_START, WIDE_SGNN_LAYERS, families,
                                       space)
from firth.models.sgnn import SGNNClassifierNet
from firth.train.search import BudgetedSearch, TrialRecord

TOPICS = {"sport": "match goal team coach league striker season cup win", "money": "shares bank profit market "
          "price stock trade investor rate", "tech": "phone software chip computer network data app screen code"}


def make_texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short texts of three topics: a few topic words among shared filler words, some labels flipped."""
    rng = np.random.default_rng(seed)
    filler = "the a of to in said it was on for with that by as at new year".split()
    texts, labels = [], []
    for i in range(n):
        label = list(TOPICS)[i % 3]
        words = list(rng.choice(TOPICS[label].split(), 3)) + list(rng.choice(filler, 6))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label if rng.random() > 0.1 else list(TOPICS)[(i + 1) % 3])
    return texts, labels


def write_tsv(path, texts, labels) -> str:
    path.write_text("".join(f"{y}\t{x}\n" for x, y in zip(texts, labels)), encoding="utf-8")
    return str(path)


FAST = dict(features=["counts"], models=["softmax"])  # the quickest family: each trial takes a second or two


def test_tune_searches_on_validation_and_refits_the_best_on_everything(tmp_path):
    texts, labels = make_texts(1200)
    clf = TextClassifier.tune(texts, labels, budget_s=None, n_trials=3, out_dir=tmp_path, device="cpu",
                              progress=False, **FAST)
    records = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    assert [r["number"] for r in records] == [0, 1, 2] and {r["state"] for r in records} <= {"complete", "pruned"}
    best = max((r for r in records if r["state"] == "complete"), key=lambda r: r["score"])
    assert clf.best_params_["C"] == best["params"]["C"] and clf.best_params_["epochs"] == best["attrs"]["best_epoch"]
    assert clf.card_["data"]["documents"] == 1200 and clf.card_["data"]["held out for early stopping"] == 0
    assert clf.card_["data"]["tuning"]["trials"] == 3
    assert np.mean(clf.predict(texts) == np.array(labels)) > 0.8


def test_the_search_begins_with_the_softmax_defaults_then_the_sgnn_defaults():
    import optuna

    texts, labels = make_texts(1200)
    clf = TextClassifier.tune(texts, labels, budget_s=None, n_trials=2, device="cpu", progress=False,
                              features=["counts", "projection"], models=["softmax", "sgnn"])
    first, second = (record.params for record in clf.search_)
    assert first == {"family": "counts+softmax", "C": SOFTMAX_DEFAULTS["C"], "softmax_lr": SOFTMAX_DEFAULTS["lr"],
                     "counts_ngrams": "1", "counts_min_df": "1"}  # CountFeatures' defaults
    assert second == {"family": "projection+softmax", "C": SOFTMAX_DEFAULTS["C"], "softmax_lr": SOFTMAX_DEFAULTS["lr"]}
    sgnn_only = TextClassifier.tune(texts, labels, budget_s=None, n_trials=2, device="cpu", progress=False,
                                    models=["sgnn"], max_steps=2)
    assert sgnn_only.search_[0].params == SGNN_START  # then TPE's picks
    assert sgnn_only.search_[1].params != SGNN_START
    start = ClassifierConfig(**space(["projection+sgnn"])(optuna.trial.FixedTrial(SGNN_START)))
    defaults = ClassifierConfig(model="sgnn")  # the SGNN start is `classify train`'s SGNN
    for name in ("feature_params", "hidden", "lr", "pooling", "dropout", "batch_norm", "epochs", "schedule", "warmup",
                 "clip_grad"):
        assert getattr(start, name) == getattr(defaults, name), name


def test_small_data_is_tuned_on_three_folds():
    texts, labels = make_texts(300)
    clf = TextClassifier.tune(texts, labels, budget_s=None, n_trials=2, device="cpu", progress=False, **FAST)
    assert clf.card_["data"]["tuning"]["validation"] == "3 stratified folds"
    assert all(r.attrs["best_step"] == 1 for r in clf.search_ if r.state == "complete")


def test_the_budget_holds_within_ten_percent():
    texts, labels = make_texts(3000)
    started = time.perf_counter()
    clf = TextClassifier.tune(texts, labels, budget_s=20, device="cpu", progress=False, features=["tfidf"],
                              models=["softmax"])
    elapsed = time.perf_counter() - started
    assert len(clf.search_) >= 2 and 0.5 * 20 <= elapsed <= 1.1 * 20


def test_the_test_labels_play_no_part_in_the_choice(cli, tmp_path):
    texts, labels = make_texts(1200)
    train = write_tsv(tmp_path / "train.tsv", texts, labels)
    test_texts, test_labels = make_texts(300, seed=1)
    chosen = []
    for name, test_y in (("clean", test_labels), ("poisoned", [sorted(TOPICS)[0]] * len(test_labels))):
        test = write_tsv(tmp_path / f"{name}.tsv", test_texts, test_y)
        code, out, err = cli("classify", "tune", train, "--test", test, "--n-trials", "3", "--features", "counts",
                             "--model", "softmax", "--out", str(tmp_path / name), "--device", "cpu", "--quiet")
        assert code == 0, err
        assert "test: accuracy" in out and (tmp_path / name / "trials.png").stat().st_size > 0
        records = [json.loads(line) for line in (tmp_path / name / "trials.jsonl").read_text().splitlines()]
        chosen.append([(r["params"], r["score"]) for r in records])
        chosen.append(json.loads((tmp_path / name / "model" / "config.json").read_text())["config"])
    assert chosen[0] == chosen[2] and chosen[1] == chosen[3]  # the same trials, scores and final settings


def test_a_killed_search_keeps_its_trials_and_resumes(tmp_path):
    texts, labels = make_texts(3000)
    train = write_tsv(tmp_path / "train.tsv", texts, labels)
    out = tmp_path / "search"
    command = [sys.executable, "-m", "firth", "classify", "tune", train, "--features", "tfidf", "--model", "softmax",
               "--budget", "10m", "--out", str(out), "--device", "cpu", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    trials = out / "trials.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not trials.exists() or len(trials.read_text().splitlines()) < 2):
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = [json.loads(line) for line in trials.read_text().splitlines()]
    assert len(kept) >= 2 and all(r["state"] in ("complete", "pruned") for r in kept)
    refused = subprocess.run(command, capture_output=True, text=True)
    assert refused.returncode == 1 and "holds an earlier search" in refused.stderr
    resumed = subprocess.run(command + ["--n-trials", str(len(kept) + 1), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    after = [json.loads(line) for line in trials.read_text().splitlines()]
    assert after[:len(kept)] == kept and len(after) >= len(kept) + 1  # the old trials, then new ones
    assert (out / "model" / "config.json").exists()


@pytest.mark.parametrize("features, models, message", [
    (["counts"], ["sgnn"], "no model family fits those features and models"),
    (["words"], None, "unknown features 'words'"),
])
def test_a_search_space_that_cannot_be_is_one_sentence(features, models, message):
    with pytest.raises(FirthError, match=message):
        families(features, models)


def test_a_search_needs_a_bound_and_a_positive_budget():
    with pytest.raises(FirthError, match="a search needs a time budget or a number of trials."):
        BudgetedSearch(lambda trial: {}, budget_s=None, n_trials=None)
    with pytest.raises(FirthError, match="the budget must be a positive number of seconds, got 0."):
        BudgetedSearch(lambda trial: {}, budget_s=0)


def test_a_trial_the_deadline_stopped_may_be_the_best_one_the_pruner_stopped_may_not():
    search = BudgetedSearch(lambda trial: {}, n_trials=1)
    slow_learner = TrialRecord(0, "complete", 0.76, 70.0, {}, {})
    cut_short = TrialRecord(1, "pruned", 0.84, 40.0, {}, {"stopped_by": "deadline"})
    behind = TrialRecord(2, "pruned", 0.90, 5.0, {}, {})  # a score at an early rung, not comparable
    search.records = [slow_learner, cut_short, behind]
    assert search.best() == cut_short
    search.records = [behind]
    assert search.best() == behind  # nothing finished: the best pruned trial


def test_the_deadline_marks_the_trial_it_stops():
    search = BudgetedSearch(lambda trial: {"x": trial.suggest_float("x", 0.0, 1.0)}, budget_s=1.0)

    def objective(params: dict, report) -> float:
        for step in range(1, 200):
            time.sleep(0.02)
            report(step, step / 200)
        return 1.0

    best = search.run(objective)
    assert best.state == "pruned" and best.attrs["stopped_by"] == "deadline" and 0 < best.score < 1


def test_the_families_searched_by_default_and_on_request():
    assert families() == ["tfidf+softmax", "projection+sgnn"]
    assert families(["tfidf", "counts"], ["softmax", "mlp"]) == ["tfidf+softmax", "counts+softmax", "tfidf+mlp",
                                                                 "counts+mlp"]
    assert families(None, ["sgnn"]) == ["projection+sgnn"]


@pytest.mark.parametrize("projection", list(SGNN_PROJECTIONS))
def test_every_sgnn_shape_the_search_can_choose_has_at_most_the_default_shapes_weights(projection):
    """A wide projection comes with narrow word layers: the search trades width for depth, not size."""
    import optuna

    layers = ("sgnn_layers", SGNN_LAYERS) if SGNN_PROJECTIONS[projection][1] == 14 else ("sgnn_wide_layers",
                                                                                       WIDE_SGNN_LAYERS)
    for choice in layers[1]:
        params = space(["projection+sgnn"])(optuna.trial.FixedTrial({
            "family": "projection+sgnn", "sgnn_projection": projection, layers[0]: choice, "sgnn_lr": 3e-3,
            "sgnn_pooling": "meanmax", "sgnn_dropout": 0.2, "sgnn_batch_norm": "yes", "sgnn_ngrams": "5",
            "sgnn_epochs": "8"}))
        net = SGNNClassifierNet.from_config(ClassifierConfig(**params), 2)
        weights = sum(p.numel() for p in net.word_layers[0].parameters())
        assert net.projection.dim * params["hidden"][0] + params["hidden"][0] == weights <= 1120 * 256 + 256


def test_a_half_written_journal_line_is_cut_before_resuming(tmp_path):
    texts, labels = make_texts(1200)
    TextClassifier.tune(texts, labels, budget_s=None, n_trials=1, out_dir=tmp_path, device="cpu", progress=False,
                        **FAST)
    journal = tmp_path / "study.journal"
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"op_code": 5, "worker_id": "x", "trial_id"')  # killed mid-append
    clf = TextClassifier.tune(texts, labels, budget_s=None, n_trials=2, out_dir=tmp_path, resume=True, device="cpu",
                              progress=False, **FAST)
    assert [r.number for r in clf.search_] == [0, 1] and journal.read_bytes().startswith(whole)


def test_the_cli_offers_the_registrys_features_and_models():
    from firth import registry
    from firth.cli.classify import FEATURE_NAMES, MODEL_NAMES

    assert FEATURE_NAMES == tuple(registry.FEATURES) and MODEL_NAMES == tuple(registry.MODELS)


def test_validation_data_given_apart_is_what_early_stopping_watches():
    texts, labels = make_texts(600)
    val_texts, val_labels = make_texts(90, seed=2)
    clf = TextClassifier(features="counts", epochs=3, patience=None, device="cpu", progress=False)
    clf.fit(texts, labels, validation=(val_texts, val_labels))
    assert clf.card_["data"]["documents"] == 600 and clf.card_["data"]["held out for early stopping"] == 90
    assert len(clf.history_) == 3
    assert all(abs(r["val_acc"] * 90 - round(r["val_acc"] * 90)) < 1e-4 for r in clf.history_)  # scored on the 90
    with pytest.raises(FirthError, match="validation needs as many labels as texts, and some; got 90 texts and 2"):
        clf.fit(texts, labels, validation=(val_texts, val_labels[:2]))
    with pytest.raises(FirthError, match=r"the validation data has labels the training data lacks \(weather\)"):
        clf.fit(texts, labels, validation=(val_texts, ["weather"] * 90))
