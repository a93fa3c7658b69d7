"""TextClassifier: features + a torch model + the firth trainer, behind scikit-learn's API.

    clf = TextClassifier(features="tfidf", model="softmax").fit(texts, labels)
    clf.predict(["Shares rose on Monday"]); clf.save("model/"); TextClassifier.load("model/")

Models: "softmax" (softmax regression) and "mlp" read the feature vectors of a
featurizer ("tfidf", "counts", "ppmi", "glove", "projection"); "sgnn" (the SGNN
classifier) reads the words themselves through its projection. `fit` holds
out a stratified `val_fraction` of the training data for early stopping.
Regularization is `weight_decay` on the weight matrices, or `C` as in
LogisticRegression (the decay 1/(C n_train)). The saved model directory
holds `config.json` (the resolved ClassifierConfig), `labels.json`, the
featurizer's `features.json` + `features.safetensors` (feature models) and
`model.safetensors`.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from firth import registry
from firth.registry import check_choice
from firth.config import ClassifierConfig, ProjectionConfig, check_bytes, config_from_saved, configured
from firth.data.splits import stratified_split
from firth.errors import FirthError
from firth.evaluate.evaluators import LossEvaluator
from firth.features import feature_class
from firth.io.card import new_card, read_card
from firth.io.model_dir import (CONFIG, WEIGHTS, build_for_training, load_module, model_writer, read_json,
                                read_model_config, save_tensors, write_json, write_run_config)
from firth.text.segment import words
from firth.train.data import ArrayDataset, TokenDataset
from firth.train import distributed
from firth.train.trainer import Trainer

LABELS = "labels.json"
NET_OPTIONS = "--hidden (or the features' size)"
TUNE_METRICS = ("acc", "macro_f1")
SMALL_DATA = 1000  # fewer training texts than this are tuned by 3-fold cross-validation
VALIDATION_SHARE = 0.2


@configured(ClassifierConfig)
class TextClassifier(ClassifierMixin, BaseEstimator):
    """A text classifier trained end to end by firth's Trainer.

    Its keywords are the fields of `firth.config.ClassifierConfig`, where
    every default lives (`TextClassifier(features="tfidf", C=30)`).
    """

    # ---- training -----------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[str], out_dir: str | Path | None = None,
            resume: bool = False, validation: tuple[Sequence[str], Sequence[str]] | None = None,
            on_record: Callable[[dict], None] | None = None) -> "TextClassifier":
        """Fit the featurizer and train the network.

        With `out_dir` the run writes its configuration, metrics, learning
        curve and checkpoints there; `resume` continues from that checkpoint.
        `validation` (texts, labels) is what early stopping watches instead of
        a `val_fraction` carved from the training data (as Keras' validation_data);
        `on_record` is told every record the Trainer logs.
        """
        texts, labels = list(texts), [str(y) for y in labels]
        _check_fit_data(texts, labels)
        self.config_ = config = self.config
        self.classes_ = np.array(sorted(set(labels)))
        given = len(texts)  # the training data, its early-stopping share included (validation data apart)
        if validation is not None:
            _check_validation(validation, self.classes_)
            train_idx = list(range(len(texts)))
            val_idx = list(range(len(texts), len(texts) + len(validation[0])))
            texts, labels = texts + list(validation[0]), labels + [str(y) for y in validation[1]]
        else:
            train_idx, val_idx = self._validation_split(labels)
        y = np.searchsorted(self.classes_, labels)
        counts = Counter(labels[:given])
        self.card_ = new_card(self._summary(), {
            "documents": given, "classes": dict(sorted(counts.items())) if len(counts) <= 20 else len(counts),
            "held out for early stopping": len(val_idx)})
        data = (self._dataset(texts, y) if self._net_class().reads_words
                else self._fit_features(texts, y, train_idx, val_idx))
        torch.manual_seed(config.seed)
        self.model_ = build_for_training(self._build_net, NET_OPTIONS)
        if out_dir and distributed.is_main():
            write_run_config(out_dir, config)
        engine = dataclasses.replace(config, weight_decay=self._weight_decay(len(train_idx)))
        trainer = Trainer(self.model_, engine, out_dir=out_dir, on_record=on_record)
        val = LossEvaluator(data.subset(val_idx), config.monitor.removeprefix("val_"), batch_size=config.batch_size)
        self.history_ = trainer.fit(data.subset(train_idx), val if val_idx else None, resume=resume)  # none: tiny data
        self.model_ = trainer.model.cpu().eval()
        scores = [record[config.monitor] for record in self.history_ if config.monitor in record]
        if scores:
            self.card_["metrics"][f"best validation {config.monitor.removeprefix('val_')} (early stopping)"] = \
                (max if val.greater_is_better else min)(scores)
        return self

    # ---- tuning -------------------------------------------------------------

    @classmethod
    def tune(cls, texts: Sequence[str], labels: Sequence[str], budget_s: float | None = 300.0, metric: str = "acc",
             features: Sequence[str] | None = None, models: Sequence[str] | None = None,
             n_trials: int | None = None, seed: int = 0, out_dir: str | Path | None = None,
             resume: bool = False, on_trial: Callable | None = None, **fixed) -> "TextClassifier":
        """Search features, model and training settings on validation data carved from `texts`, within
        `budget_s` seconds (and/or `n_trials`), then refit the best on all of them: fastText's autotune,
        scikit-learn's search-then-refit.

        The validation data is a stratified 20% (seed `seed`), or with fewer than SMALL_DATA texts each
        of 3 stratified folds in turn; `metric` ("acc" or "macro_f1") scores it. Each trial stops early
        on it, the pruner stops trials that fall behind (firth.train.search), and the refit trains
        for the best trial's best epoch count. `fixed` keywords hold for every trial (device="cpu").
        The returned classifier has `best_params_` (its settings) and `search_` (every trial's
        record); with `out_dir`, trials.jsonl and Optuna's journal (for `resume`) go there. `on_trial`
        is told each finished trial's record.
        """
        from firth.models.search_space import families, space, starting_points
        from firth.train.search import BudgetedSearch

        check_choice("metric", metric, TUNE_METRICS)
        if not isinstance(seed, int) or seed < 0:
            raise FirthError(f"seed must be a whole number of at least 0, got {seed!r}.")
        texts, labels = list(texts), [str(y) for y in labels]
        _check_fit_data(texts, labels)
        splits = _tuning_splits(labels, seed)
        fitted_share = sum(len(fit) for fit, _ in splits) / len(splits) / len(texts)
        candidates = families(features, models)
        search = BudgetedSearch(space(candidates), budget_s, n_trials, seed, out_dir, resume,
                                refit_factor=1 / fitted_share, on_trial=on_trial,
                                start_with=starting_points(candidates))

        def objective(params: dict, report) -> float:
            trial = {**fixed, **params, "seed": seed, "progress": False, "monitor": f"val_{metric}",
                     "val_fraction": 0.0}
            scores, epochs, started = [], [], time.perf_counter()
            for fold, (fit, val) in enumerate(splits):
                watch = _epoch_watch(report if len(splits) == 1 else None, search.past_deadline, f"val_{metric}")
                clf = cls(**trial).fit([texts[i] for i in fit], [labels[i] for i in fit], on_record=watch,
                                       validation=([texts[i] for i in val], [labels[i] for i in val]))
                best = max(clf.history_, key=lambda r: r.get(f"val_{metric}", -1))
                scores.append(best[f"val_{metric}"])
                epochs.append(best["epoch"])
                report.note(best_epoch=int(np.median(epochs)))  # before a report the deadline may stop at
                if len(splits) > 1:
                    report(fold + 1, float(np.mean(scores)))
            if len(splits) > 1:  # a refit costs about one fold's fit (times the refit factor), whatever fold was best
                report.note(step_seconds=(time.perf_counter() - started) / len(splits), best_step=1)
            return float(np.mean(scores))

        best = search.run(objective)
        settings = {**fixed, **search.space(_FixedTrial(best.params)), "seed": seed}
        epochs = best.attrs.get("best_epoch", best.attrs.get("best_step", settings["epochs"]))  # stopped: its best
        settings.update(epochs=max(1, int(epochs)), val_fraction=0.0, patience=None)
        clf = cls(**settings).fit(texts, labels, out_dir=Path(out_dir) / "run" if out_dir else None)
        clf.best_params_, clf.search_ = settings, search.records
        clf.card_["data"]["tuning"] = {
            "metric": metric, "trials": len(search.records), "best validation score": best.score,
            "validation": f"{len(splits)} stratified folds" if len(splits) > 1
            else "a stratified 20% of the training texts",
            "seconds": round(search.elapsed(), 1)}
        return clf

    def _summary(self) -> str:
        return f"{self.config_.model} network on {self.config_.features_name} features, {len(self.classes_)} classes"

    def _validation_split(self, labels: list[str]) -> tuple[list[int], list[int]]:
        """Rows to train on and rows for early stopping (none when val_fraction is 0)."""
        if self.config_.val_fraction == 0:
            return list(range(len(labels))), []
        return stratified_split(labels, self.config_.val_fraction, self.config_.seed)

    def _weight_decay(self, n_train: int) -> float:
        """`weight_decay`, or LogisticRegression's C as one: its penalty |w|^2 / 2C on the summed loss.

        On the mean loss that firth trains on, the penalty is |w|^2 / (2 C n),
        whose gradient is w / (C n): the weight decay. So one C suits every
        training-set size, as in scikit-learn, where a fixed decay does not
        (exactly so with sgd and adam; adamw's decoupled decay is no L2 penalty).
        """
        if self.config_.C is None:
            return self.config_.weight_decay
        return 1.0 / (self.config_.C * n_train)

    def _fit_features(self, texts: list[str], y: np.ndarray, train_idx: list[int],
                      val_idx: list[int]) -> ArrayDataset:
        """Fit the featurizer on the training rows and featurize every text: the training rows in the same
        pass as the fit (a vectorizer's fit_transform tokenizes them once, not twice), then the held-out ones."""
        config = self.config_
        self.features_ = _construct(feature_class(config.features_name), config.feature_params,
                                    f"features {config.features_name!r}")
        try:
            fitted = self.features_.fit_transform([texts[i] for i in train_idx])
        except ValueError as e:  # scikit-learn's "empty vocabulary; perhaps the documents ..."
            raise FirthError(f"features {config.features_name!r} could not be fitted on the training texts: "
                             f"{e}.") from None
        rows = [fitted, self.features_.transform([texts[i] for i in val_idx])] if val_idx else [fitted]
        stacked = sp.vstack(rows, format="csr") if sp.issparse(fitted) else np.concatenate(rows)
        if not sp.issparse(stacked):
            check_bytes("a batch of dense feature rows", 4 * config.batch_size * stacked.shape[1], "--batch-size")
        return ArrayDataset(stacked[np.argsort(np.array(train_idx + val_idx, dtype=np.int64))], y)

    def _net_class(self) -> type:
        return registry.resolve(registry.MODELS, self.config_.model, "model")

    def _dataset(self, texts: list[str], y: np.ndarray) -> ArrayDataset | TokenDataset:
        """What the network reads: word lists (word models) or feature rows."""
        if self._net_class().reads_words:
            return TokenDataset([words(t, lowercase=False) for t in texts], y)
        return ArrayDataset(self.features_.transform(texts), y)

    def _build_net(self) -> torch.nn.Module:
        n_features = None if self._net_class().reads_words else self.features_.n_features_out_
        return self._net_class().from_config(self.config_, len(self.classes_), n_features)

    # ---- prediction ---------------------------------------------------------

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Class probabilities, columns in `classes_` order."""
        check_is_fitted(self, "model_")
        texts = list(texts)
        data = self._dataset(texts, np.zeros(len(texts), dtype=np.int64))
        self.model_.eval()
        chunks = [torch.softmax(self.model_(data[list(range(i, min(i + batch_size, len(data))))][0]), dim=1)
                  for i in range(0, len(data), batch_size)]
        return torch.cat(chunks).numpy() if chunks else np.zeros((0, len(self.classes_)), np.float32)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    # ---- model directory ----------------------------------------------------

    def save(self, directory: str | Path) -> None:
        """Write the model directory atomically: config.json, labels.json, the featurizer, model.safetensors."""
        check_is_fitted(self, "model_")
        config = {k: v for k, v in dataclasses.asdict(self.config_).items() if k != "progress"}
        with model_writer(directory, "TextClassifier", config, self.card_) as tmp:
            write_json(tmp / LABELS, self.classes_.tolist())
            if not self._net_class().reads_words:
                self.features_.save(tmp)
            save_tensors(tmp / WEIGHTS, self.model_.state_dict())

    @classmethod
    def load(cls, directory: str | Path) -> "TextClassifier":
        """Read a model directory written by `save`; nothing is unpickled."""
        directory = Path(directory)
        _, saved = read_model_config(directory, ("TextClassifier",))
        saved = _projection_saved_in_full(saved)
        clf = cls.from_config(config_from_saved(ClassifierConfig, saved, directory / CONFIG))
        clf.config_ = clf.config
        clf.classes_ = _read_labels(directory / LABELS)
        clf.card_ = read_card(directory) or new_card(clf._summary(), {})
        if not clf._net_class().reads_words:
            clf.features_ = feature_class(clf.config_.features_name).load(directory)
        clf.model_ = load_module(clf._build_net, directory / WEIGHTS, NET_OPTIONS)
        clf.model_.eval()
        return clf


def _projection_saved_in_full(saved: dict) -> dict:
    """A saved SGNN configuration with every projection parameter: directories written before the SGNN had
    its own projection defaults (config.SGNN_PROJECTION) left out those at ProjectionConfig's defaults,
    and every save since writes them all."""
    given = saved.get("feature_params") or {}
    if saved.get("model") != "sgnn" or not isinstance(given, dict):
        return saved
    return {**saved, "feature_params": {**dataclasses.asdict(ProjectionConfig()), **given}}


def _construct(cls: type, params: dict | None, what: str):
    """`cls(**params)`, with an unknown parameter reported as a FirthError."""
    try:
        return cls(**(params or {}))
    except TypeError as e:
        raise FirthError(f"bad parameter for {what}: {e}.") from None


def _read_labels(path: Path) -> np.ndarray:
    """The class labels of a model directory: a JSON list of two or more distinct strings."""
    labels = read_json(path)
    if not isinstance(labels, list) or len(labels) < 2 or len(set(map(str, labels))) != len(labels) \
            or not all(isinstance(label, str) for label in labels):
        raise FirthError(f"{path}: is not a list of two or more distinct class labels.")
    return np.array(labels)


def _tuning_splits(labels: list[str], seed: int) -> list[tuple[list[int], list[int]]]:
    """(rows to fit, rows to score) pairs: a stratified 20% held out, or 3 stratified folds for small data."""
    if len(labels) >= SMALL_DATA:
        return [stratified_split(labels, VALIDATION_SHARE, seed)]
    from sklearn.model_selection import StratifiedKFold

    smallest = min(Counter(labels).values())
    if smallest < 3:
        raise FirthError(f"tuning needs at least 3 texts of every class (for 3 folds); the rarest class has {smallest}.")
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels)
    return [(fit.tolist(), val.tolist()) for fit, val in folds]


def _epoch_watch(report, past_deadline: Callable[[], bool], monitor: str) -> Callable[[dict], None]:
    """What a trial's Trainer calls after each epoch: the score goes to the search's `report` (which may
    prune the trial), or, across folds, only the deadline is checked."""
    def watch(record: dict) -> None:
        if monitor not in record:
            return
        if report is not None:
            report(int(record["epoch"]), float(record[monitor]))
        elif past_deadline():
            import optuna

            raise optuna.TrialPruned()
    return watch


class _FixedTrial:
    """Replays a finished trial's parameters through the search space (as optuna.trial.FixedTrial, without
    its warnings), to rebuild the best trial's keywords."""

    def __init__(self, params: dict):
        self.params = params

    def suggest_categorical(self, name, choices):
        return self.params[name]

    def suggest_float(self, name, low, high, log=False):
        return self.params[name]


def _check_validation(validation: tuple[Sequence[str], Sequence[str]], classes: np.ndarray) -> None:
    """Validation texts and labels that line up, are not empty, and hold only training classes."""
    texts, labels = validation
    if len(texts) != len(labels) or not len(texts):
        raise FirthError(f"validation needs as many labels as texts, and some; got {len(texts)} texts and "
                         f"{len(labels)} labels.")
    unknown = sorted(set(map(str, labels)) - set(classes))
    if unknown:
        raise FirthError(f"the validation data has labels the training data lacks ({', '.join(unknown[:5])}).")


def _check_fit_data(texts: list[str], labels: list[str]) -> None:
    if len(texts) != len(labels):
        raise FirthError(f"got {len(texts)} texts but {len(labels)} labels.")
    if not texts:
        raise FirthError("the training data is empty.")
    if len(set(labels)) < 2:
        raise FirthError(f"the training data has only one class ({labels[0]!r}); a classifier needs at least two.")
