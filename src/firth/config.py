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

import inspect
import math
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


def _at_least(config: Any, minimum: float, *names: str, optional: bool = False) -> None:
    for name in names:
        value = getattr(config, name)
        if optional and value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= minimum:
            raise FirthError(f"{name} must be a number of at least {minimum}, got {value!r}.")


def _positive_finite(config: Any, *names: str, optional: bool = False) -> None:
    for name in names:
        value = getattr(config, name)
        if optional and value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not (0 < value < math.inf):
            raise FirthError(f"{name} must be a positive finite number, got {value!r}.")


def _fraction(config: Any, name: str, *, below_one: bool = False) -> None:
    value = getattr(config, name)
    top_ok = value < 1 if below_one else value <= 1
    if not isinstance(value, (int, float)) or not (0 <= value and top_ok):
        raise FirthError(f"{name} must be between 0 and 1{' (exclusive)' if below_one else ''}, got {value!r}.")


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
        object.__setattr__(self, "ngram_range", tuple(self.ngram_range))
        object.__setattr__(self, "markers", tuple(self.markers))
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise FirthError(f"ngram_range must be (low, high) with 1 <= low <= high, got {self.ngram_range}.")
        check_choice("projection mode", self.mode, ("binary", "ternary", "float"))
        if not (self.n_hashes >= 1 and 1 <= self.bits <= 32768):
            raise FirthError(f"need n_hashes >= 1 and 1 <= bits <= 32768, got {self.n_hashes} and {self.bits}.")

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
    clip_grad: float | None = option(None, "clip the gradient norm to this")
    patience: int | None = option(3, "stop after this many validations without improvement (none: never)")
    eval_every: int | None = option(None, "also validate every N steps (none: after each epoch only)")
    seed: int = option(0, "seed of initialization, shuffling and dropout")
    device: str = option("auto", "auto, cpu or cuda (cuda:N)")
    num_workers: int = option(0, "processes preparing batches ahead of the training loop")
    progress: bool = option(True, "progress bars and per-evaluation lines", cli=False)

    def __post_init__(self):
        self.betas = tuple(self.betas)
        check_choice("optimizer", self.optimizer, registry.OPTIMIZERS)
        check_choice("schedule", self.schedule, registry.SCHEDULES)
        _at_least(self, 1, "epochs", "batch_size")
        _at_least(self, 1, "patience", "eval_every", optional=True)
        _at_least(self, 0, "weight_decay", "warmup", "num_workers", "seed")
        _positive_finite(self, "lr", "eps")
        _positive_finite(self, "clip_grad", optional=True)
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise FirthError(f"betas must be two numbers in [0, 1), got {self.betas}.")
        if self.device != "auto" and self.device != "cpu" and not self.device.startswith("cuda"):
            raise FirthError(f"unknown device {self.device!r}; use auto, cpu or cuda.")


@dataclass(kw_only=True)
class ClassifierConfig(TrainConfig):
    """A text classifier: features, network, and how it trains (firth.models.classifier.TextClassifier)."""

    features: str | None = option(None, "input features (none: projection for sgnn, tfidf otherwise)",
                                  choices=registry.FEATURES)
    feature_params: dict | None = option(None, "featurizer (or sgnn projection) parameters, e.g. mode=float",
                                         flag="--feature-param")
    model: str = option("softmax", "the network", choices=registry.MODELS)
    hidden: tuple[int, ...] = option((256,), "hidden layer sizes (mlp, sgnn)")
    dropout: float = option(0.2, "dropout rate (mlp, sgnn)")
    pooling: str = option("mean", "how the sgnn pools word vectors", choices=registry.SGNN_POOLINGS)
    C: float | None = option(None, "inverse L2 strength as in LogisticRegression (weight decay 1/(C x training "
                                   "texts)); overrides weight_decay")
    monitor: str = option("val_loss", "the validation metric early stopping follows",
                          choices=("val_loss", "val_acc"))
    val_fraction: float = option(0.1, "share of the training data held out for early stopping (0: none)")

    def __post_init__(self):
        super().__post_init__()
        self.hidden = tuple(self.hidden)
        check_choice("model", self.model, registry.MODELS)
        check_choice("features", self.features_name, registry.FEATURES)
        check_choice("pooling", self.pooling, registry.SGNN_POOLINGS)
        check_choice("monitor", self.monitor, ("val_loss", "val_acc"))
        if self.model == "sgnn" and self.features_name != "projection":
            raise FirthError("the sgnn model reads words through the projection; use features 'projection'.")
        if not self.hidden:
            raise FirthError("hidden must list at least one layer size.")
        if not all(isinstance(h, int) and h >= 1 for h in self.hidden):
            raise FirthError(f"hidden layer sizes must be whole numbers of at least 1, got {self.hidden}.")
        _fraction(self, "dropout", below_one=True)
        _fraction(self, "val_fraction", below_one=True)
        _positive_finite(self, "C", optional=True)
        if self.feature_params is not None and not isinstance(self.feature_params, dict):
            raise FirthError(f"feature_params must be a dict of parameter names to values, got {self.feature_params!r}.")

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
    pos_weight: float | None = option(None, "bxent: weight of the same-paragraph pairs")
    word_weight: float = option(0.0, "weight of the word-level BXENT head (0: none)")
    max_per_paragraph: int = option(2, "sentences of one paragraph in a batch")
    val_paragraphs: int = option(200, "paragraphs held out for validation by retrieval (0: none)")
    # the training engine, as measured for encoders
    epochs: int = option(3, "passes over the training paragraphs at most")
    batch_size: int = option(256, "sentences per batch")
    lr: float = option(3e-3, "peak learning rate")
    betas: tuple[float, float] = option((0.9, 0.98), "Adam's moment decays")
    eps: float = option(1e-9, "Adam's epsilon")
    schedule: str = option("noam", "learning-rate schedule", choices=registry.SCHEDULES)
    warmup: int = option(200, "warm-up steps")
    clip_grad: float | None = option(1.0, "clip the gradient norm to this")
    patience: int | None = option(None, "stop after this many validations without a better MRR (none: never)")
    eval_every: int | None = option(500, "validate by retrieval every N steps")
    seed: int = option(0, "seed of initialization, batching and held-out paragraphs")
    num_workers: int = option(1, "DataLoader processes featurizing batches ahead")

    def __post_init__(self):
        super().__post_init__()
        check_choice("pooling", self.pooling, registry.ENCODER_POOLINGS)
        check_choice("loss", self.loss, registry.LOSSES)
        _at_least(self, 1, "d_model", "n_layers", "n_heads", "d_ff", "max_words", "fold")
        _at_least(self, 1, "head_dim", optional=True)
        _at_least(self, 0, "val_paragraphs")
        _at_least(self, 2, "max_per_paragraph")
        if self.d_model % self.n_heads:
            raise FirthError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}.")
        _fraction(self, "lexical_share")
        _fraction(self, "word_weight")
        _fraction(self, "dropout", below_one=True)
        _positive_finite(self, "temperature", "pos_weight", optional=True)
        if self.batch_size < 2 * self.max_per_paragraph:
            raise FirthError(f"batch_size must be at least 2 x max_per_paragraph ({2 * self.max_per_paragraph}), "
                             f"got {self.batch_size}.")
        bits = self.projection_config.bits
        if bits % self.fold:
            raise FirthError(f"fold {self.fold} does not divide the projection's bits {bits}.")

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
        check_choice("word2vec model", self.model, registry.WORD2VEC_MODELS)
        check_choice("word2vec input", self.input, registry.WORD2VEC_INPUTS)
        if self.model == "softmax" and self.input == "projection":
            raise FirthError("the projection input trains only with model='negative'.")
        _at_least(self, 1, "dim", "window", "epochs", "min_count", "workers", "negative")
        _at_least(self, 1, "batch_size", optional=True)
        _at_least(self, 0, "sample", "ns_exponent", "seed")
        _positive_finite(self, "lr", optional=True)
        _positive_finite(self, "min_lr")
        if self.lr is None:
            self.lr = 0.025 if self.model == "negative" else 0.003
        if self.batch_size is None:
            self.batch_size = 1024 if self.model == "negative" else 512

    @property
    def projection_config(self) -> ProjectionConfig:
        return projection_config(self.projection, WORD2VEC_PROJECTION)


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
