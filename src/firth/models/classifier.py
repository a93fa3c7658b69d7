"""TextClassifier: features + a torch model + the firth trainer, behind scikit-learn's API.

    clf = TextClassifier(features="tfidf", model="softmax").fit(texts, labels)
    clf.predict(["Shares rose on Monday"]); clf.save("model/"); TextClassifier.load("model/")

`fit` holds out a stratified `val_fraction` of the training data for early
stopping. The saved model directory holds `config.json`, `labels.json`, the
featurizer's `features.json` + `features.safetensors` and `model.safetensors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

import firth
from firth.data.splits import stratified_split
from firth.errors import FirthError
from firth.features import FEATURES, feature_class
from firth.io.atomic import atomic_dir
from firth.io.model_dir import CONFIG, load_tensors, read_json, save_tensors, write_json
from firth.models import MODELS, model_class
from firth.train import ArrayDataset, TrainConfig, Trainer


def _check_choice(kind: str, value: str, choices: dict) -> None:
    if value not in choices:
        raise FirthError(f"unknown {kind} {value!r}; choose one of {', '.join(choices)}.")


class TextClassifier(ClassifierMixin, BaseEstimator):
    """A text classifier trained end to end by firth's Trainer."""

    def __init__(self, features: str = "tfidf", model: str = "softmax", epochs: int = 30,
                 batch_size: int = 64, lr: float = 1e-2, optimizer: str = "adam",
                 weight_decay: float = 0.0, patience: int | None = 3, val_fraction: float = 0.1,
                 seed: int = 0, device: str = "auto", progress: bool = False,
                 out_dir: str | None = None):
        self.features = features
        self.model = model
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_fraction = val_fraction
        self.seed = seed
        self.device = device
        self.progress = progress
        self.out_dir = out_dir

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "TextClassifier":
        """Fit the featurizer and train the model; `out_dir` receives metrics and plots."""
        texts, labels = list(texts), [str(y) for y in labels]
        _check_fit_data(texts, labels)
        _check_choice("features", self.features, FEATURES)
        _check_choice("model", self.model, MODELS)
        self.classes_ = np.array(sorted(set(labels)))
        y = np.searchsorted(self.classes_, labels)
        train_idx, val_idx = stratified_split(labels, self.val_fraction, self.seed)
        self.features_ = feature_class(self.features)().fit([texts[i] for i in train_idx])
        x = self.features_.transform(texts)
        torch.manual_seed(self.seed)
        self.model_ = model_class(self.model)(x.shape[1], len(self.classes_))
        config = TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                             optimizer=self.optimizer, weight_decay=self.weight_decay,
                             patience=self.patience, seed=self.seed, device=self.device,
                             progress=self.progress)
        trainer = Trainer(self.model_, config, out_dir=self.out_dir)
        val = ArrayDataset(x[val_idx], y[val_idx]) if val_idx else None  # none for tiny data
        self.history_ = trainer.fit(ArrayDataset(x[train_idx], y[train_idx]), val)
        self.model_ = trainer.model.cpu().eval()
        return self

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        """Class probabilities, columns in `classes_` order."""
        check_is_fitted(self, "model_")
        x = self.features_.transform(list(texts))
        data = ArrayDataset(x, np.zeros(x.shape[0], dtype=np.int64))
        self.model_.eval()
        chunks = [torch.softmax(self.model_(data[np.arange(i, min(i + batch_size, len(data)))][0]), dim=1)
                  for i in range(0, len(data), batch_size)]
        return torch.cat(chunks).numpy() if chunks else np.zeros((0, len(self.classes_)), np.float32)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def save(self, directory: str | Path) -> None:
        """Write the model directory atomically (JSON + safetensors, no pickle)."""
        check_is_fitted(self, "model_")
        params = {k: v for k, v in self.get_params().items() if k not in ("out_dir", "progress")}
        with atomic_dir(directory) as tmp:
            write_json(tmp / CONFIG, {"firth_version": firth.__version__, "type": "TextClassifier",
                                      "params": params, "n_features": self.features_.n_features_out_})
            write_json(tmp / "labels.json", self.classes_.tolist())
            self.features_.save(tmp)
            save_tensors(tmp / "model.safetensors", self.model_.state_dict())

    @classmethod
    def load(cls, directory: str | Path) -> "TextClassifier":
        """Read a model directory written by `save`; nothing is unpickled."""
        directory = Path(directory)
        if not directory.is_dir():
            raise FirthError(f"{directory}: no such model directory.")
        config = read_json(directory / CONFIG)
        if config.get("type") != "TextClassifier":
            raise FirthError(f"{directory}: is not a firth text classifier (type {config.get('type')!r}).")
        clf = cls(**config["params"])
        clf.classes_ = np.array(read_json(directory / "labels.json"))
        clf.features_ = feature_class(clf.features).load(directory)
        clf.model_ = model_class(clf.model)(config["n_features"], len(clf.classes_))
        clf.model_.load_state_dict(load_tensors(directory / "model.safetensors"))
        clf.model_.eval()
        return clf


def _check_fit_data(texts: list[str], labels: list[str]) -> None:
    if len(texts) != len(labels):
        raise FirthError(f"got {len(texts)} texts but {len(labels)} labels.")
    if not texts:
        raise FirthError("the training data is empty.")
    if len(set(labels)) < 2:
        raise FirthError(f"the training data has only one class ({labels[0]!r}); a classifier needs at least two.")
