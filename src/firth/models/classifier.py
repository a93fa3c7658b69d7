"""TextClassifier: features + a torch model + the firth trainer, behind scikit-learn's API.

    clf = TextClassifier(features="tfidf", model="softmax").fit(texts, labels)
    clf.predict(["Shares rose on Monday"]); clf.save("model/"); TextClassifier.load("model/")

Models: "softmax" (softmax regression) and "mlp" read the feature vectors of a
featurizer ("tfidf", "counts", "ppmi", "glove", "projection"); "sgnn" (the SGNN
classifier) reads the words themselves through its projection. `fit` holds
out a stratified `val_fraction` of the training data for early stopping.
Regularization is `weight_decay` on the weight matrices, or `C` as in
LogisticRegression (the decay 1/(C n_train)). The
saved model directory holds `config.json`, `labels.json`, the featurizer's
`features.json` + `features.safetensors` (feature models) and `model.safetensors`.
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
from firth.io.model_dir import CONFIG, load_weights, read_json, save_tensors, write_json
from firth.models import MODELS, model_class
from firth.text.segment import words
from firth.train import ArrayDataset, TokenDataset, TrainConfig, Trainer

WORD_MODELS = ("sgnn",)  # models that read words, not feature vectors


def _check_choice(kind: str, value: str, choices) -> None:
    if value not in choices:
        raise FirthError(f"unknown {kind} {value!r}; choose one of {', '.join(choices)}.")


class TextClassifier(ClassifierMixin, BaseEstimator):
    """A text classifier trained end to end by firth's Trainer."""

    def __init__(self, features: str | None = None, model: str = "softmax",
                 feature_params: dict | None = None, hidden: tuple[int, ...] = (256,),
                 dropout: float = 0.2, pooling: str = "mean", epochs: int = 30, batch_size: int = 64,
                 lr: float = 1e-2, optimizer: str = "adam", weight_decay: float = 0.0, C: float | None = None,
                 schedule: str = "constant", warmup: int = 0, clip_grad: float | None = None,
                 patience: int | None = 3, monitor: str = "val_loss", val_fraction: float = 0.1,
                 seed: int = 0, device: str = "auto", progress: bool = False, out_dir: str | None = None):
        self.features = features
        self.model = model
        self.feature_params = feature_params
        self.hidden = hidden
        self.dropout = dropout
        self.pooling = pooling
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.C = C
        self.schedule = schedule
        self.warmup = warmup
        self.clip_grad = clip_grad
        self.patience = patience
        self.monitor = monitor
        self.val_fraction = val_fraction
        self.seed = seed
        self.device = device
        self.progress = progress
        self.out_dir = out_dir

    # ---- training -----------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[str], resume: bool = False) -> "TextClassifier":
        """Fit the featurizer and train the model; `resume` continues from out_dir's checkpoint."""
        texts, labels = list(texts), [str(y) for y in labels]
        _check_fit_data(texts, labels)
        _check_choice("model", self.model, MODELS)
        features = self._features_name()
        _check_choice("features", features, FEATURES)
        if self.model in WORD_MODELS and features != "projection":
            raise FirthError(f"the {self.model} model reads words through the projection; "
                             "use features 'projection'.")
        self.classes_ = np.array(sorted(set(labels)))
        y = np.searchsorted(self.classes_, labels)
        train_idx, val_idx = self._validation_split(labels)
        if self.model not in WORD_MODELS:
            self.features_ = _construct(feature_class(features), self.feature_params, f"features {features!r}")
            try:
                self.features_.fit([texts[i] for i in train_idx])
            except ValueError as e:  # scikit-learn's "empty vocabulary; perhaps the documents ..."
                raise FirthError(f"features {features!r} could not be fitted on the training texts: {e}.") from None
        data = self._dataset(texts, y)
        torch.manual_seed(self.seed)
        self.model_ = self._build_net()
        config = TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                             optimizer=self.optimizer, weight_decay=self._weight_decay(len(train_idx)),
                             schedule=self.schedule, warmup=self.warmup, clip_grad=self.clip_grad,
                             patience=self.patience, monitor=self.monitor, seed=self.seed,
                             device=self.device, progress=self.progress)
        trainer = Trainer(self.model_, config, out_dir=self.out_dir)
        val = data.subset(val_idx) if val_idx else None  # none for tiny data
        self.history_ = trainer.fit(data.subset(train_idx), val, resume=resume)
        self.model_ = trainer.model.cpu().eval()
        return self

    def _validation_split(self, labels: list[str]) -> tuple[list[int], list[int]]:
        """Rows to train on and rows for early stopping (none when val_fraction is 0)."""
        if not 0 <= self.val_fraction < 1:
            raise FirthError(f"val_fraction must be at least 0 and below 1, got {self.val_fraction}.")
        if self.val_fraction == 0:
            return list(range(len(labels))), []
        return stratified_split(labels, self.val_fraction, self.seed)

    def _weight_decay(self, n_train: int) -> float:
        """`weight_decay`, or LogisticRegression's C as one: its penalty |w|^2 / 2C on the summed loss.

        On the mean loss that firth trains on, the penalty is |w|^2 / (2 C n),
        whose gradient is w / (C n): the weight decay. So one C suits every
        training-set size, as in scikit-learn, where a fixed decay does not
        (exactly so with sgd and adam; adamw's decoupled decay is no L2 penalty).
        """
        if self.C is None:
            return self.weight_decay
        if not self.C > 0:
            raise FirthError(f"C must be positive, got {self.C}.")
        return 1.0 / (self.C * n_train)

    def _features_name(self) -> str:
        return self.features or ("projection" if self.model in WORD_MODELS else "tfidf")

    def _dataset(self, texts: list[str], y: np.ndarray) -> ArrayDataset | TokenDataset:
        """What the network reads: word lists (word models) or feature rows."""
        if self.model in WORD_MODELS:
            return TokenDataset([words(t, lowercase=False) for t in texts], y)
        return ArrayDataset(self.features_.transform(texts), y)

    def _build_net(self) -> torch.nn.Module:
        net = model_class(self.model)
        n_classes = len(self.classes_)
        if self.model == "softmax":
            return net(self.features_.n_features_out_, n_classes)
        if self.model == "mlp":
            return net(self.features_.n_features_out_, n_classes, tuple(self.hidden), self.dropout)
        from firth.features.projection import ProjectionConfig

        projection = _construct(ProjectionConfig, self.feature_params, "the projection")
        return net(n_classes, projection, tuple(self.hidden), self.dropout, self.pooling)

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
        """Write the model directory atomically (JSON + safetensors, no pickle)."""
        check_is_fitted(self, "model_")
        params = {k: v for k, v in self.get_params().items() if k not in ("out_dir", "progress")}
        with atomic_dir(directory) as tmp:
            write_json(tmp / CONFIG, {"firth_version": firth.__version__, "type": "TextClassifier",
                                      "params": params})
            write_json(tmp / "labels.json", self.classes_.tolist())
            if self.model not in WORD_MODELS:
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
        if clf.model not in WORD_MODELS:
            clf.features_ = feature_class(clf._features_name()).load(directory)
        clf.model_ = clf._build_net()
        load_weights(clf.model_, directory / "model.safetensors")
        clf.model_.eval()
        return clf


def _construct(cls: type, params: dict | None, what: str):
    """`cls(**params)`, with an unknown parameter reported as a FirthError."""
    try:
        return cls(**(params or {}))
    except TypeError as e:
        raise FirthError(f"bad parameter for {what}: {e}.") from None


def _check_fit_data(texts: list[str], labels: list[str]) -> None:
    if len(texts) != len(labels):
        raise FirthError(f"got {len(texts)} texts but {len(labels)} labels.")
    if not texts:
        raise FirthError("the training data is empty.")
    if len(set(labels)) < 2:
        raise FirthError(f"the training data has only one class ({labels[0]!r}); a classifier needs at least two.")
