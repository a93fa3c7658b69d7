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
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from firth import registry
from firth.config import ClassifierConfig, check_bytes, config_from_saved, configured
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


@configured(ClassifierConfig)
class TextClassifier(ClassifierMixin, BaseEstimator):
    """A text classifier trained end to end by firth's Trainer.

    Its keywords are the fields of `firth.config.ClassifierConfig`, where
    every default lives (`TextClassifier(features="tfidf", C=30)`).
    """

    # ---- training -----------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[str], out_dir: str | Path | None = None,
            resume: bool = False) -> "TextClassifier":
        """Fit the featurizer and train the network.

        With `out_dir` the run writes its configuration, metrics, learning
        curve and checkpoints there; `resume` continues from that checkpoint.
        """
        texts, labels = list(texts), [str(y) for y in labels]
        _check_fit_data(texts, labels)
        self.config_ = config = self.config
        self.classes_ = np.array(sorted(set(labels)))
        y = np.searchsorted(self.classes_, labels)
        train_idx, val_idx = self._validation_split(labels)
        counts = Counter(labels)
        self.card_ = new_card(self._summary(), {
            "documents": len(texts), "classes": dict(sorted(counts.items())) if len(counts) <= 20 else len(counts),
            "held out for early stopping": len(val_idx)})
        if not self._net_class().reads_words:
            self.features_ = _construct(feature_class(config.features_name), config.feature_params,
                                        f"features {config.features_name!r}")
            try:
                self.features_.fit([texts[i] for i in train_idx])
            except ValueError as e:  # scikit-learn's "empty vocabulary; perhaps the documents ..."
                raise FirthError(f"features {config.features_name!r} could not be fitted on the training texts: "
                                 f"{e}.") from None
        data = self._dataset(texts, y)
        if isinstance(data, ArrayDataset):
            check_bytes("a batch of dense feature rows", 4 * config.batch_size * data.features.shape[1], "--batch-size")
        torch.manual_seed(config.seed)
        self.model_ = build_for_training(self._build_net, NET_OPTIONS)
        if out_dir and distributed.is_main():
            write_run_config(out_dir, config)
        engine = dataclasses.replace(config, weight_decay=self._weight_decay(len(train_idx)))
        trainer = Trainer(self.model_, engine, out_dir=out_dir)
        val = LossEvaluator(data.subset(val_idx), config.monitor.removeprefix("val_"), batch_size=config.batch_size)
        self.history_ = trainer.fit(data.subset(train_idx), val if val_idx else None, resume=resume)  # none: tiny data
        self.model_ = trainer.model.cpu().eval()
        scores = [record[config.monitor] for record in self.history_ if config.monitor in record]
        if scores:
            self.card_["metrics"][f"best validation {config.monitor.removeprefix('val_')} (early stopping)"] = \
                (max if val.greater_is_better else min)(scores)
        return self

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
        clf = cls.from_config(config_from_saved(ClassifierConfig, saved, directory / CONFIG))
        clf.config_ = clf.config
        clf.classes_ = _read_labels(directory / LABELS)
        clf.card_ = read_card(directory) or new_card(clf._summary(), {})
        if not clf._net_class().reads_words:
            clf.features_ = feature_class(clf.config_.features_name).load(directory)
        clf.model_ = load_module(clf._build_net, directory / WEIGHTS, NET_OPTIONS)
        clf.model_.eval()
        return clf


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


def _check_fit_data(texts: list[str], labels: list[str]) -> None:
    if len(texts) != len(labels):
        raise FirthError(f"got {len(texts)} texts but {len(labels)} labels.")
    if not texts:
        raise FirthError("the training data is empty.")
    if len(set(labels)) < 2:
        raise FirthError(f"the training data has only one class ({labels[0]!r}); a classifier needs at least two.")
