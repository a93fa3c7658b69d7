"""What `TextClassifier.tune` searches: model families (features + network) and, for each, the ranges of
the settings that matter most, chosen before any tuning was run from the values firth's benchmarks and
the peers' documentation use (fastText's autotune, scikit-learn's LogisticRegression C grid).

- softmax on tfidf or counts: C (LogisticRegression's inverse L2) 1-1,000 log-uniform, lr 3e-3-3e-2,
  word 1-grams or 1-2-grams, min_df 1 or 2, sublinear tf (tfidf);
- mlp on any featurizer: lr 1e-3-1e-2, one hidden layer of 128-512, dropout 0-0.5;
- sgnn (projection): lr 1e-3-1e-2; a projection of 80 or 40 hash functions of 14 bits (the cheaper
  ones train about twice as fast, benchmarks/RESULTS.md) under word layers 128, 256, 128+128 or
  256+128, or a wide one of 20 hash functions of 224 bits (4,480 dimensions: a word's n-grams collide
  less) under word layers 64 or 64+64, the same number of weights as 1,120 dimensions under 256
  (benchmarks/sgnn_ngrams.py: a point higher on short reviews, the same or lower on news, and slower to
  train on long texts); over character 1-3-grams or 1-5-grams (the longer ones scored higher on clean
  validation text in benchmarks/sgnn_ngrams.py, and the same or lower on misspelled text), mean or
  mean+max pooling, dropout 0-0.5, batch norm or not, a cosine schedule after 50 warm-up steps that
  ends after 8 or 20 epochs (8: what benchmarks/sgnn_ngrams.py trains for; 20: room for small data and
  low rates).

A search begins with `classify train`'s softmax defaults for each softmax family, and with its SGNN
defaults (the settings benchmarks/sgnn_ngrams.py measured best across datasets; `starting_points`), so a
tuned classifier is never one those settings beat on the validation data for want of trying them.

Every trial stops early on the validation score (patience 3), and its best epoch becomes the refit's
epoch count. Categorical values are strings, so that Optuna's journal stores them as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from firth import registry
from firth.config import SOFTMAX_DEFAULTS, ClassifierConfig
from firth.errors import FirthError

DEFAULT_FAMILIES = ("tfidf+softmax", "projection+sgnn")
MAX_EPOCHS = {"softmax": 40, "mlp": 40}  # the SGNN's are searched: SGNN_EPOCHS
PATIENCE = 3
SGNN_PROJECTIONS = {"80x14": (80, 14), "40x14": (40, 14), "20x224": (20, 224)}  # hash functions x bits
SGNN_LAYERS = {"128": (128,), "256": (256,), "128-128": (128, 128), "256-128": (256, 128)}
WIDE_SGNN_LAYERS = {"64": (64,), "64-64": (64, 64)}  # under the wide projection
SGNN_EPOCHS = ("8", "20")  # where the cosine schedule ends


def _sgnn_start() -> dict[str, Any]:
    """`classify train`'s SGNN defaults (firth.config.SGNN_DEFAULTS and SGNN_PROJECTION), as this space's
    parameters."""
    config = ClassifierConfig(model="sgnn")
    projection = config.feature_params
    layers = "sgnn_layers" if projection["bits"] == 14 else "sgnn_wide_layers"
    return {"family": "projection+sgnn", "sgnn_projection": f"{projection['n_hashes']}x{projection['bits']}",
            layers: "-".join(map(str, config.hidden)), "sgnn_lr": config.lr, "sgnn_pooling": config.pooling,
            "sgnn_dropout": config.dropout, "sgnn_batch_norm": "yes" if config.batch_norm else "no",
            "sgnn_ngrams": str(projection["ngram_range"][1]), "sgnn_epochs": str(config.epochs)}


SGNN_START = _sgnn_start()


def families(features: Sequence[str] | None = None, models: Sequence[str] | None = None) -> list[str]:
    """The "features+model" families to search: every valid pair of the given features and models, or
    the defaults (TF-IDF softmax and the SGNN) when neither is given."""
    if not features and not models:
        return list(DEFAULT_FAMILIES)
    for name in features or ():
        registry.check_choice("features", name, registry.FEATURES)
    for name in models or ():
        registry.check_choice("model", name, registry.MODELS)
    models = list(models or ("softmax", "sgnn"))
    pairs = []
    for model in models:
        for feature in (["projection"] if model == "sgnn" else features or ("tfidf",)):
            if model == "sgnn" and features and "projection" not in features:
                continue
            pairs.append(f"{feature}+{model}")
    if not pairs:
        raise FirthError("no model family fits those features and models: the sgnn model reads the projection "
                         "only; add --features projection or another --model.")
    return pairs


def starting_points(candidates: Sequence[str]) -> list[dict[str, Any]]:
    """The settings a search tries first, as `space`'s parameters: `classify train`'s defaults for each
    softmax family among the `candidates` (chosen by tuning across datasets, benchmarks/classify_defaults.py;
    and a softmax trial is cheap), then its SGNN defaults, SGNN_START, if the SGNN is a candidate (an SGNN
    trial is dear: a 300 s search on 20 Newsgroups has time for a few, and TPE's first picks are random). The MLP starts
    from TPE's picks: its defaults were not chosen across datasets."""
    points = []
    for family in candidates:
        feature, model = family.split("+")
        if model != "softmax":
            continue
        point: dict[str, Any] = {"family": family, "C": SOFTMAX_DEFAULTS["C"], "softmax_lr": SOFTMAX_DEFAULTS["lr"]}
        if feature in ("tfidf", "counts"):
            params = registry.resolve(registry.FEATURES, feature, "features")().get_params()
            point[f"{feature}_ngrams"] = str(params["ngram_range"][1])
            point[f"{feature}_min_df"] = str(params["min_df"])
            if feature == "tfidf":
                point["tfidf_sublinear"] = "yes" if params["sublinear_tf"] else "no"
        points.append(point)
    if SGNN_START["family"] in candidates:  # after the cheap softmax trials
        points.append(dict(SGNN_START))
    return points


def space(candidates: Sequence[str]) -> Callable[[Any], dict]:
    """A function from an optuna.Trial to TextClassifier keywords, over the `candidates` families."""
    candidates = list(candidates)

    def suggest(trial) -> dict:
        family = trial.suggest_categorical("family", candidates)
        feature, model = family.split("+")
        params: dict[str, Any] = {"features": feature, "model": model, "epochs": MAX_EPOCHS.get(model),
                                  "patience": PATIENCE}
        if model == "softmax":
            params.update(C=trial.suggest_float("C", 1.0, 1000.0, log=True),
                          lr=trial.suggest_float("softmax_lr", 3e-3, 3e-2, log=True))
        elif model == "mlp":
            params.update(lr=trial.suggest_float("mlp_lr", 1e-3, 1e-2, log=True),
                          hidden=(int(trial.suggest_categorical("mlp_hidden", ["128", "256", "512"])),),
                          dropout=trial.suggest_float("mlp_dropout", 0.0, 0.5))
        else:
            n_hashes, bits = SGNN_PROJECTIONS[trial.suggest_categorical("sgnn_projection", list(SGNN_PROJECTIONS))]
            if bits == 14:
                hidden = SGNN_LAYERS[trial.suggest_categorical("sgnn_layers", list(SGNN_LAYERS))]
            else:
                hidden = WIDE_SGNN_LAYERS[trial.suggest_categorical("sgnn_wide_layers", list(WIDE_SGNN_LAYERS))]
            params.update(lr=trial.suggest_float("sgnn_lr", 1e-3, 1e-2, log=True), hidden=hidden,
                          pooling=trial.suggest_categorical("sgnn_pooling", ["mean", "meanmax"]),
                          dropout=trial.suggest_float("sgnn_dropout", 0.0, 0.5),
                          batch_norm=trial.suggest_categorical("sgnn_batch_norm", ["yes", "no"]) == "yes",
                          feature_params={"mode": "float", "n_hashes": n_hashes, "bits": bits, "ngram_range": (
                                              1, int(trial.suggest_categorical("sgnn_ngrams", ["3", "5"])))},
                          schedule="cosine", warmup=50, clip_grad=1.0,
                          epochs=int(trial.suggest_categorical("sgnn_epochs", list(SGNN_EPOCHS))))
        if feature in ("tfidf", "counts"):
            feature_params = {"ngram_range": (1, int(trial.suggest_categorical(f"{feature}_ngrams", ["1", "2"]))),
                              "min_df": int(trial.suggest_categorical(f"{feature}_min_df", ["1", "2"]))}
            if feature == "tfidf":
                feature_params["sublinear_tf"] = trial.suggest_categorical("tfidf_sublinear", ["yes", "no"]) == "yes"
            params["feature_params"] = feature_params
        return params

    return suggest
