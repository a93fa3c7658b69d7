"""Every configuration of firth, and the only place its defaults live.

One dataclass per family, a line of help per field (as nanoGPT's GPTConfig
has a comment per field):

- `ProjectionConfig`: the SGNN projection (every parameter that changes its output).
- `TrainConfig`: the training engine (firth.train.Trainer).
- `ClassifierConfig`: a text classifier, its features and its training.
- `EncoderConfig`: a sentence encoder, its loss and its training.
- `Word2VecConfig`: skip-gram word vectors and their training.

The estimators take these fields as keywords (`TextClassifier(C=30)`), the
CLI builds its options and their defaults from them (firth.cli.options),
and the resolved configuration is written into the run and model
directories. Each dataclass checks its fields when it is made, so a bad
value fails the same way from Python, from the CLI and from a model
directory. This module imports nothing heavy, so `firth --help` stays fast.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import typing
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from firth import registry
from firth.errors import FirthError
from firth.registry import check_choice


def option(default: Any = MISSING, help: str = "", *, factory: Any = MISSING, choices=None,
           flag: str | None = None, cli: bool = True) -> Any:
    """A configuration field: its default (or `factory` for a mutable one) and the help the CLI shows.

    `choices` lists the allowed values (a registry's names), `flag` renames
    the CLI option (default: --field-name), and `cli=False` keeps a field
    off the command line.
    """
    metadata = {"help": help, "choices": tuple(choices) if choices is not None else None, "flag": flag, "cli": cli}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def default_of(f: Field) -> Any:
    """A dataclass field's default value (made fresh for a factory)."""
    return f.default_factory() if f.default_factory is not MISSING else f.default


def field_values(config: Any) -> dict[str, Any]:
    """The fields of a configuration as a shallow dict (nested values kept as they are)."""
    return {f.name: getattr(config, f.name) for f in fields(config)}


MEMORY_LIMIT_ENV = "FIRTH_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = 8 * 2**30  # bytes one model, batch or buffer may take; FIRTH_MEMORY_LIMIT overrides
PROJECTION_CACHE = 100_000  # words a Projection caches (firth.features.projection); 20 Newsgroups' train has 73,712
MAX_NGRAM = 32  # the longest character n-gram a projection takes
WORD2VEC_CHUNK = 100_000  # tokens a word2vec worker subsamples and windows at once


def memory_limit() -> int:
    """The bytes one allocation may take: FIRTH_MEMORY_LIMIT (bytes, or with K, M, G, T: 16G, 16GiB) or 8 GiB."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip().upper().removesuffix("B").removesuffix("I")
    if not text:
        return DEFAULT_MEMORY_LIMIT
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1:], 1)
    try:
        return int(float(text.rstrip("KMGT")) * scale)
    except ValueError:
        raise FirthError(f"{MEMORY_LIMIT_ENV}={os.environ[MEMORY_LIMIT_ENV]!r} is not a number of bytes "
                         "(such as 16G).") from None


def check_bytes(what: str, n_bytes: float, options: str) -> None:
    """A FirthError when `what` would take more than the memory limit, naming the options that size it."""
    limit = memory_limit()
    if n_bytes > limit:
        raise FirthError(f"{what} would take {n_bytes / 2**30:,.1f} GiB, above the limit of {limit / 2**30:,.1f} GiB; "
                         f"lower {options}, or raise {MEMORY_LIMIT_ENV} if you mean it.")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SIMPLE = {bool: (lambda v: isinstance(v, bool), "true or false"),
           int: (_whole, "a whole number"),
           float: (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
           str: (lambda v: isinstance(v, str), "a string"),
           dict: (lambda v: isinstance(v, dict), "a JSON object of names to values")}


def _conform(value: Any, hint: Any) -> tuple[bool, Any, str]:
    """(whether `value` fits the annotation `hint`, the value with lists made tuples, what `hint` asks for)."""
    args = typing.get_args(hint)
    if type(None) in args:  # X | None
        inner = next(a for a in args if a is not type(None))
        ok, value, wanted = (True, None, "") if value is None else _conform(value, inner)
        return ok, value, f"{wanted or _conform(None, inner)[2]}, or none"
    if typing.get_origin(hint) is tuple:
        item = args[0]
        plural = _SIMPLE[item][1].removeprefix("a ") + "s"
        wanted = f"a list of {plural}" if args[-1] is Ellipsis else f"a list of {len(args)} {plural}"
        if not isinstance(value, (list, tuple)) or (args[-1] is not Ellipsis and len(value) != len(args)):
            return False, value, wanted
        return all(_SIMPLE[item][0](v) for v in value), tuple(value), wanted
    check, wanted = _SIMPLE[hint]
    return (value is not None and check(value)), value, wanted


@functools.cache
def _hints(config_class: type) -> dict[str, Any]:
    return typing.get_type_hints(config_class)


def check_types(config: Any) -> None:
    """A FirthError naming the first field whose value does not fit its annotation; lists become tuples."""
    hints = _hints(type(config))
    for f in fields(config):
        ok, value, wanted = _conform(getattr(config, f.name), hints[f.name])
        if not ok:
            raise FirthError(f"{f.name} must be {wanted}, got {getattr(config, f.name)!r}.")
        object.__setattr__(config, f.name, value)


def _at_least(config: Any, minimum: float, *names: str, optional: bool = False) -> None:
    for name in names:
        value = getattr(config, name)
        if optional and value is None:
            continue
        if not value >= minimum:
            raise FirthError(f"{name} must be at least {minimum}, got {value!r}.")


def _positive_finite(config: Any, *names: str, optional: bool = False) -> None:
    for name in names:
        value = getattr(config, name)
        if optional and value is None:
            continue
        if not 0 < value < math.inf:
            raise FirthError(f"{name} must be a positive finite number, got {value!r}.")


def _check_clip_grad(config: Any) -> None:
    """A gradient-norm bound: a finite number, 0 meaning none (as Lightning's gradient_clip_val), so that
    a model whose default clips can be trained without."""
    if config.clip_grad is not None and not 0 <= config.clip_grad < math.inf:
        raise FirthError(f"clip_grad must be a finite number of at least 0 (0: no clipping), "
                         f"got {config.clip_grad!r}.")


def _fraction(config: Any, name: str, *, below_one: bool = False) -> None:
    value = getattr(config, name)
    if not (0 <= value and (value < 1 if below_one else value <= 1)):
        raise FirthError(f"{name} must be at least 0 and {'below' if below_one else 'at most'} 1, got {value!r}.")


@dataclass(frozen=True)
class ProjectionConfig:
    """Every parameter that changes an SGNN projection's output (see firth.features.projection)."""

    ngram_range: tuple[int, int] = (1, 3)  # character n-gram lengths, inclusive
    markers: tuple[str, str] = ("<", ">")  # wrapped around each word before its n-grams are taken
    lowercase: bool = True
    normalize: bool = True  # Unicode NFKC
    n_hashes: int = 80  # T, the hash functions
    bits: int = 14  # d, the width of each hash function's block
    mode: str = "binary"  # binary | ternary | float
    seed: int = 0

    def __post_init__(self):
        check_types(self)
        low, high = self.ngram_range
        if not 1 <= low <= high <= MAX_NGRAM:
            raise FirthError(f"ngram_range must be [low, high] with 1 <= low <= high <= {MAX_NGRAM}, "
                             f"got {list(self.ngram_range)}.")
        check_choice("projection mode", self.mode, ("binary", "ternary", "float"))
        _at_least(self, 1, "n_hashes", "bits")
        _at_least(self, 0, "seed")
        if self.bits > 32768:
            raise FirthError(f"bits must be at most 32768, got {self.bits}.")
        check_bytes("the projection's word cache", PROJECTION_CACHE * self.dim, "the projection's n_hashes or bits")

    @property
    def dim(self) -> int:
        return self.n_hashes * self.bits

    @classmethod
    def for_dim(cls, dim: int, n_hashes: int = 80, **kwargs) -> "ProjectionConfig":
        """The configuration with `n_hashes` hash functions giving `dim` dimensions in all."""
        if dim < 1 or dim % n_hashes:
            raise FirthError(f"dim {dim} is not a positive multiple of n_hashes {n_hashes}.")
        return cls(n_hashes=n_hashes, bits=dim // n_hashes, **kwargs)


def projection_config(params: dict | None, defaults: dict | None = None) -> ProjectionConfig:
    """A ProjectionConfig from `params` over `defaults`; an unknown parameter is a FirthError."""
    merged = {**(defaults or {}), **(params or {})}
    unknown = sorted(set(merged) - {f.name for f in fields(ProjectionConfig)})
    if unknown:
        raise FirthError(f"unknown projection parameter {unknown[0]!r}; "
                         f"the parameters are {', '.join(f.name for f in fields(ProjectionConfig))}.")
    return ProjectionConfig(**merged)


@dataclass(kw_only=True)
class TrainConfig:
    """The training engine: mini-batches, optimizer, schedule, early stopping, device."""

    epochs: int = option(30, "passes over the training data at most")
    batch_size: int = option(64, "examples per mini-batch")
    lr: float = option(1e-2, "(peak) learning rate")
    optimizer: str = option("adam", "the optimizer", choices=registry.OPTIMIZERS)
    weight_decay: float = option(0.0, "L2 (sgd, adam) or decoupled weight decay (adamw), on weight matrices only")
    betas: tuple[float, float] = option((0.9, 0.999), "Adam's moment decays (the Transformer paper: 0.9 0.98)")
    eps: float = option(1e-8, "Adam's epsilon (the Transformer paper: 1e-9)")
    schedule: str = option("constant", "learning-rate schedule after warm-up", choices=registry.SCHEDULES)
    warmup: int = option(0, "warm-up steps")
    clip_grad: float | None = option(None, "clip the gradient norm to this (none or 0: no clipping)")
    patience: int | None = option(3, "stop after this many validations without improvement (none: never)")
    eval_every: int | None = option(None, "also validate every N steps (none: after each epoch only)")
    max_steps: int | None = option(None, "stop after this many optimizer steps, within an epoch if need be")
    seed: int = option(0, "seed of initialization, shuffling and dropout")
    device: str = option("auto", "auto, cpu or cuda (cuda:N)")
    num_workers: int = option(0, "processes preparing batches ahead of the training loop")
    progress: bool = option(True, "progress bars and per-evaluation lines", cli=False)

    def __post_init__(self):
        check_types(self)
        check_choice("optimizer", self.optimizer, registry.OPTIMIZERS)
        check_choice("schedule", self.schedule, registry.SCHEDULES)
        _at_least(self, 1, "epochs", "batch_size")
        _at_least(self, 1, "patience", "eval_every", "max_steps", optional=True)
        _at_least(self, 0, "weight_decay", "warmup", "num_workers", "seed")
        _positive_finite(self, "lr", "eps")
        _check_clip_grad(self)
        if not all(0 <= b < 1 for b in self.betas):
            raise FirthError(f"betas must be two numbers in [0, 1), got {list(self.betas)}.")
        if self.device != "auto" and self.device != "cpu" and not self.device.startswith("cuda"):
            raise FirthError(f"unknown device {self.device!r}; use auto, cpu or cuda.")


# `classify train`'s softmax settings: of the best settings `tune` found on each registry dataset's training
# split, the ones with the least mean loss of validation accuracy across all of them
# (benchmarks/classify_defaults.py; benchmarks/RESULTS.md), with TfidfFeatures' defaults
SOFTMAX_DEFAULTS = {"C": 120.0, "lr": 0.018}
# `classify train`'s SGNN settings, where `tune`'s SGNN search starts (firth.models.search_space): the best
# validation accuracy of the shapes benchmarks/sgnn_ngrams.py measured on rotten-tomatoes and 20 Newsgroups,
# 0.8 points below the best on bbc-news (benchmarks/RESULTS.md); mean+max pooling, dropout and batch norm are
# the fields' defaults
SGNN_DEFAULTS = {"hidden": (64, 64), "lr": 3e-3, "epochs": 8, "schedule": "cosine", "warmup": 50, "clip_grad": 1.0}
SGNN_PROJECTION = {"mode": "float", "n_hashes": 20, "bits": 224, "ngram_range": (1, 5)}  # 4,480 dimensions
OTHER_DEFAULTS = {"hidden": (256,), "lr": 1e-2, "epochs": 30, "schedule": "constant", "warmup": 0,
                  "clip_grad": None}  # the mlp's, and the softmax's but its lr: TrainConfig's, where it has them


@dataclass(kw_only=True)
class ClassifierConfig(TrainConfig):
    """A text classifier: features, network, and how it trains (firth.models.classifier.TextClassifier)."""

    features: str | None = option(None, "input features (none: projection for sgnn, tfidf otherwise)",
                                  choices=registry.FEATURES)
    feature_params: dict | None = option(None, "featurizer (or sgnn projection) parameters, e.g. mode=float",
                                         flag="--feature-param")
    model: str = option("softmax", "the network", choices=registry.MODELS)
    hidden: tuple[int, ...] | None = option(None, "hidden layer sizes (mlp, sgnn; none: 256 for the mlp, 64 64 "
                                                  "for the sgnn)")
    dropout: float = option(0.2, "dropout rate (mlp, sgnn)")
    pooling: str = option("meanmax", "how the sgnn pools word vectors", choices=registry.SGNN_POOLINGS)
    batch_norm: bool = option(True, "batch normalization in the mlp's layers and the sgnn's head (under DDP each "
                                    "process normalizes its own share of the batch)")
    lr: float | None = option(None, f"(peak) learning rate (none: {SOFTMAX_DEFAULTS['lr']} for softmax, "
                                    f"{OTHER_DEFAULTS['lr']} for mlp, {SGNN_DEFAULTS['lr']} for sgnn)")
    epochs: int | None = option(None, f"passes over the training data at most (none: {SGNN_DEFAULTS['epochs']} for "
                                      f"sgnn, {OTHER_DEFAULTS['epochs']} otherwise)")
    schedule: str | None = option(None, "learning-rate schedule after warm-up (none: cosine for sgnn, constant "
                                        "otherwise)", choices=registry.SCHEDULES)
    warmup: int | None = option(None, f"warm-up steps (none: {SGNN_DEFAULTS['warmup']} for sgnn, 0 otherwise)")
    clip_grad: float | None = option(None, f"clip the gradient norm to this (none: {SGNN_DEFAULTS['clip_grad']:g} "
                                           "for sgnn, no clipping otherwise; 0: no clipping)")
    C: float | None = option(None, "inverse L2 strength as in LogisticRegression (weight decay 1/(C x training "
                                   f"texts)); overrides weight_decay (none: {SOFTMAX_DEFAULTS['C']:g} for softmax "
                                   "unless weight_decay is set, no penalty for mlp and sgnn)")
    monitor: str = option("val_loss", "the validation metric early stopping follows",
                          choices=("val_loss", "val_acc", "val_macro_f1"))
    val_fraction: float = option(0.1, "share of the training data held out for early stopping (0: none)")

    def __post_init__(self):
        self._resolve_model_defaults()
        super().__post_init__()
        check_choice("model", self.model, registry.MODELS)
        check_choice("features", self.features_name, registry.FEATURES)
        check_choice("pooling", self.pooling, registry.SGNN_POOLINGS)
        check_choice("monitor", self.monitor, ("val_loss", "val_acc", "val_macro_f1"))
        if self.model == "sgnn" and self.features_name != "projection":
            raise FirthError("the sgnn model reads words through the projection; use features 'projection'.")
        if not self.hidden or min(self.hidden) < 1:
            raise FirthError(f"hidden must list one or more layer sizes of at least 1, got {list(self.hidden)}.")
        _fraction(self, "dropout", below_one=True)
        _fraction(self, "val_fraction", below_one=True)
        _positive_finite(self, "C", optional=True)
        self._check_feature_params()

    def _resolve_model_defaults(self) -> None:
        """Fill the fields left at None with the model's defaults; the sgnn's projection parameters go over
        SGNN_PROJECTION."""
        defaults = {"sgnn": SGNN_DEFAULTS, "softmax": {**OTHER_DEFAULTS, "lr": SOFTMAX_DEFAULTS["lr"]}}
        for name, value in defaults.get(self.model, OTHER_DEFAULTS).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.C is None and self.model == "softmax" and self.weight_decay == 0:
            self.C = SOFTMAX_DEFAULTS["C"]
        if self.model == "sgnn":
            self.feature_params = {**SGNN_PROJECTION, **(self.feature_params or {})}

    def _check_feature_params(self) -> None:
        """Unknown featurizer (or sgnn projection) parameters fail now, before any data is read."""
        if self.model == "sgnn":
            projection_config(self.feature_params)
            return
        known = set(inspect.signature(registry.resolve(registry.FEATURES, self.features_name, "features")).parameters)
        unknown = sorted(set(self.feature_params or {}) - known)
        if unknown:
            raise FirthError(f"unknown parameter {unknown[0]!r} for features {self.features_name!r}; "
                             f"its parameters are {', '.join(sorted(known))}.")

    @property
    def features_name(self) -> str:
        """The featurizer used: `features`, or the model's natural one."""
        return self.features or ("projection" if self.model == "sgnn" else "tfidf")


@dataclass(kw_only=True)
class EncoderConfig(TrainConfig):
    """A sentence encoder, the loss it learns from paragraphs, and how it trains (firth.models.encoder).

    The defaults are the configuration benchmarks/encoder.py measures.
    """

    # the model
    projection: dict = option(factory=lambda: {"mode": "float", "ngram_range": [3, 5], "bits": 64},
                              help="projection parameters (ProjectionConfig fields)", flag="--feature-param")
    fold: int = option(4, "the Transformer reads the projection at bits / fold (the lexical bag at full width)")
    d_model: int = option(256, "width of the Transformer")
    n_layers: int = option(2, "Transformer layers")
    n_heads: int = option(4, "attention heads")
    d_ff: int = option(512, "width of the feed-forward layers")
    dropout: float = option(0.0, "dropout rate (the 2018 model removed dropout to train faster)")
    scale_embeddings: bool = option(False, "multiply the word vectors by sqrt(d_model) before the positions are "
                                           "added, as the 2017 paper does (else the positions drown them at the "
                                           "start: a Transformer with no lexical channel beside it does not learn)")
    pre_ln: bool = option(True, "LayerNorm before attention and feed-forward (else after, as in the 2017 paper)")
    pooling: str = option("mean", "pooling of each layer's word vectors", choices=registry.ENCODER_POOLINGS)
    concat_layers: bool = option(True, "pool the input and every layer, concatenated")
    lexical: bool = option(True, "add the IDF-weighted bag of the words' projections to the sentence vector")
    lexical_share: float = option(0.7, "the bag's share of the cosine of two sentence vectors")
    head_dim: int | None = option(None, "a Linear head on the pooled vector, to this width")
    max_words: int = option(64, "words of a training sentence kept (encode() takes its own limit)")
    # the objective
    loss: str = option("infonce", "the sentence loss", choices=registry.LOSSES)
    temperature: float | None = option(None, "infonce and supcon temperature (none: the loss's default)")
    exclude_diagonal: bool = option(False, "bxent: leave out each sentence paired with itself")
    learn_scale: bool = option(False, "bxent: sigmoid(a x cosine + b) with a learned scale a and bias b (SigLIP's "
                                      "form) instead of (cosine + 1) / 2")
    pos_weight: float | None = option(None, "bxent: weight of the same-paragraph pairs")
    word_weight: float = option(0.0, "weight of the word-level BXENT head on the input layer's word vectors (0: none)")
    word_fade: bool = option(False, "curriculum: the word-level head's weight fades linearly from word_weight to 0 "
                                    "over training while the sentence losses take its share (the 2018 write-up)")
    teacher: str | None = option(None, "a local sentence-transformers model directory to distill from (its "
                                       "vectors of the training sentences are computed once and cached)")
    distill: str = option("cosine", "how the sentence vectors are compared with the teacher's (cosine needs "
                                    "the teacher's width: --head-dim)", choices=registry.DISTILLATIONS)
    distill_weight: float = option(0.5, "the distillation's share of the loss (the rest: the sentence loss)")
    max_per_paragraph: int = option(2, "sentences of one paragraph in a batch")
    gather_negatives: bool = option(True, "under torchrun, every process's sentences are negatives of every "
                                          "other's (the global batch's, as one process has)")
    val_paragraphs: int = option(200, "paragraphs held out for validation by retrieval (0: none)")
    # the training engine, as measured for encoders
    epochs: int = option(3, "passes over the training paragraphs at most")
    batch_size: int = option(256, "sentences per batch")
    lr: float = option(3e-3, "peak learning rate")
    betas: tuple[float, float] = option((0.9, 0.98), "Adam's moment decays")
    eps: float = option(1e-9, "Adam's epsilon")
    schedule: str = option("noam", "learning-rate schedule", choices=registry.SCHEDULES)
    warmup: int = option(200, "warm-up steps")
    clip_grad: float | None = option(1.0, "clip the gradient norm to this (0: no clipping)")
    patience: int | None = option(None, "stop after this many validations without a better MRR (none: never)")
    eval_every: int | None = option(500, "validate by retrieval every N steps")
    seed: int = option(0, "seed of initialization, batching and held-out paragraphs")
    num_workers: int = option(1, "DataLoader processes featurizing batches ahead")

    def __post_init__(self):
        super().__post_init__()
        check_choice("pooling", self.pooling, registry.ENCODER_POOLINGS)
        check_choice("loss", self.loss, registry.LOSSES)
        check_choice("distill", self.distill, registry.DISTILLATIONS)
        _at_least(self, 1, "d_model", "n_heads", "d_ff", "max_words", "fold")
        _at_least(self, 0, "n_layers")  # 0: the static tier, projected words pooled with no Transformer
        _at_least(self, 1, "head_dim", optional=True)
        _at_least(self, 0, "val_paragraphs")
        _at_least(self, 2, "max_per_paragraph")
        if self.d_model % self.n_heads:
            raise FirthError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}.")
        _fraction(self, "lexical_share")
        _fraction(self, "word_weight")
        _fraction(self, "distill_weight")
        _fraction(self, "dropout", below_one=True)
        _positive_finite(self, "temperature", "pos_weight", optional=True)
        if self.word_fade and not self.word_weight:
            raise FirthError("word_fade fades the word-level head, which needs word_weight above 0.")
        if self.learn_scale and self.loss != "bxent":
            raise FirthError(f"learn_scale is for the bxent loss; {self.loss!r} has its own temperature.")
        if self.batch_size < 2 * self.max_per_paragraph:
            raise FirthError(f"batch_size must be at least 2 x max_per_paragraph ({2 * self.max_per_paragraph}), "
                             f"got {self.batch_size}.")
        bits = self.projection_config.bits
        if bits % self.fold:
            raise FirthError(f"fold {self.fold} does not divide the projection's bits {bits}.")
        check_bytes("the encoder's weights with their gradients and Adam moments", 16 * self.n_parameters,
                    "--d-model, --d-ff, --n-layers or --head-dim")
        check_bytes("a training batch's activations", self.activation_bytes,
                    "--batch-size, --max-words, --d-model, --d-ff or --n-layers")

    @property
    def n_parameters(self) -> int:
        """The encoder's parameter count (its projection and IDF table are buffers, not parameters)."""
        d, f = self.d_model, self.d_ff
        block = 4 * d * d + 2 * d * f + 9 * d + f  # qkv + out, feed-forward, biases and two LayerNorms
        head = (self.pooled_width + 1) * self.head_dim if self.head_dim else 0
        return (self.projection_config.dim // self.fold + 1) * d + self.n_layers * block + 2 * d + head

    @property
    def activation_bytes(self) -> int:
        """About what one training batch keeps for the backward pass: per-token vectors and attention scores."""
        tokens = self.batch_size * self.max_words
        per_layer = tokens * (12 * self.d_model + 2 * self.d_ff) + 2 * self.batch_size * self.n_heads * self.max_words ** 2
        return 4 * (self.n_layers * per_layer + tokens * self.projection_config.dim)

    @property
    def projection_config(self) -> ProjectionConfig:
        return projection_config(self.projection)

    @property
    def loss_options(self) -> dict:
        """The keyword arguments of the chosen loss that are set."""
        options = {"temperature": self.temperature, "pos_weight": self.pos_weight,
                   "exclude_diagonal": self.exclude_diagonal or None}
        return {k: v for k, v in options.items() if v is not None}

    @property
    def pooled_width(self) -> int:
        """The size of the pooled vector, before the head."""
        per_layer = self.d_model * (2 if self.pooling == "meanmax" else 1)
        lexical = self.projection_config.dim if self.lexical else 0
        return per_layer * (self.n_layers + 1 if self.concat_layers else 1) + lexical

    @property
    def width(self) -> int:
        """The size of a sentence vector."""
        return self.head_dim or self.pooled_width


# signed float projections of 3-5-grams (fastText uses 3-6): unrelated words share little, so that
# the steps of one batch on the shared matrix do not all push every word the same way
WORD2VEC_PROJECTION = {"mode": "float", "ngram_range": (3, 5)}


@dataclass(kw_only=True)
class Word2VecConfig:
    """Skip-gram word vectors and their training (firth.models.word2vec.Word2Vec)."""

    model: str = option("negative", "negative sampling (fast) or the textbook full softmax (tiny corpora)",
                        choices=registry.WORD2VEC_MODELS)
    input: str = option("table", "a vector per vocabulary word, or SGNN projections (vectors for any word; "
                                 "negative sampling only)", choices=registry.WORD2VEC_INPUTS)
    dim: int = option(100, "vector size")
    window: int = option(5, "largest distance between centre and context; each word draws its own 1..window")
    negative: int = option(5, "noise words per centre word")
    ns_exponent: float = option(0.75, "negatives are drawn from count^ns_exponent")
    sample: float = option(1e-3, "subsampling threshold (0: keep every word)")
    min_count: int = option(5, "words seen fewer times are dropped")
    epochs: int = option(5, "passes over the corpus")
    lr: float | None = option(None, "start learning rate (none: 0.025 for negative, 0.003 for softmax)")
    min_lr: float = option(1e-4, "negative sampling decays linearly from lr to min_lr")
    batch_size: int | None = option(None, "centre words (negative; none: 1024) or pairs (softmax; none: 512) a step")
    workers: int = option(1, "threads training at once (negative sampling; 1 is deterministic)")
    seed: int = option(1, "seed of initialization, subsampling and negatives")
    device: str = option("cpu", "auto, cpu or cuda")
    progress: bool = option(True, "a progress bar and per-epoch lines", cli=False)
    projection: dict = option(factory=dict, help=f"projection parameters over {WORD2VEC_PROJECTION} (projection input)",
                              flag="--feature-param")

    def __post_init__(self):
        check_types(self)
        check_choice("word2vec model", self.model, registry.WORD2VEC_MODELS)
        check_choice("word2vec input", self.input, registry.WORD2VEC_INPUTS)
        if self.model == "softmax" and self.input == "projection":
            raise FirthError("the projection input trains only with model='negative'.")
        _at_least(self, 1, "dim", "window", "epochs", "min_count", "workers", "negative")
        _at_least(self, 1, "batch_size", optional=True)
        _at_least(self, 0, "sample", "ns_exponent", "seed")
        _positive_finite(self, "lr", optional=True)
        _positive_finite(self, "min_lr")
        self.projection_config  # unknown projection parameters fail now
        check_bytes("a training chunk's context windows", WORD2VEC_CHUNK * (2 * self.window + self.negative + 2) * 16,
                    "--window or --negative")
        if self.lr is None:
            self.lr = 0.025 if self.model == "negative" else 0.003
        if self.batch_size is None:
            self.batch_size = 1024 if self.model == "negative" else 512

    @property
    def projection_config(self) -> ProjectionConfig:
        return projection_config(self.projection, WORD2VEC_PROJECTION)

    def check_vocabulary(self, words: int) -> None:
        """A FirthError when the vectors of `words` words would not fit in memory (checked once the corpus is read)."""
        inputs = words * self.projection_config.dim * 2 if self.input == "projection" else words * self.dim * 4
        outputs = words * self.dim * 4 * (4 if self.model == "softmax" else 1)  # softmax: Adam's moments and gradient
        logits = self.batch_size * words * 4 * 3 if self.model == "softmax" else 0
        check_bytes(f"the vectors of {words:,} words", inputs + outputs + logits,
                    "--dim, --batch-size or the vocabulary (--min-count)")


def config_from_saved(config_class: type, saved: dict, source: Any) -> Any:
    """The configuration a model directory holds; an unknown or ill-typed field is a FirthError naming `source`."""
    unknown = sorted(set(saved) - {f.name for f in fields(config_class)})
    if unknown:
        raise FirthError(f"{source}: has the unknown configuration field {unknown[0]!r}; "
                         "perhaps it was written by another firth version.")
    try:
        return config_class(**saved)
    except FirthError as e:
        raise FirthError(f"{source}: {e}") from None
    except (TypeError, ValueError, AttributeError) as e:
        raise FirthError(f"{source}: a configuration field has the wrong type ({e}).") from None


def configured(config_class: type) -> type:
    """A class decorator: the constructor takes the fields of `config_class` as keywords.

    The defaults stay in the dataclass alone. The fields become attributes
    (what scikit-learn's get_params/set_params/clone read, through the
    constructor's signature), and `config` builds the checked dataclass from
    them when the estimator needs it.
    """
    names = tuple(f.name for f in fields(config_class))

    def __init__(self, **params):
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {unknown[0]!r} "
                            f"(its keywords are the fields of {config_class.__name__})")
        for f in fields(config_class):
            setattr(self, f.name, params[f.name] if f.name in params else default_of(f))

    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default_of(f)) for f in fields(config_class)])

    def decorate(cls: type) -> type:
        cls.Config = config_class
        cls.__init__ = __init__
        cls.config = property(lambda self: config_class(**{n: getattr(self, n) for n in names}),
                              doc=f"The {config_class.__name__} of the current parameters (checked).")
        cls.from_config = classmethod(lambda c, config: c(**field_values(config)))
        return cls

    return decorate
