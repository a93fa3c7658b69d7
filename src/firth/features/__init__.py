"""Featurizers: scikit-learn transformers from texts to vectors.

`FEATURES` names every featurizer; classes are imported on first use, so that
listing them (the CLI's help) does not import scikit-learn or torch.
"""

from importlib import import_module

FEATURES = {
    "tfidf": "firth.features.classic:TfidfFeatures",
    "counts": "firth.features.classic:CountFeatures",
    "projection": "firth.features.projection:ProjectionFeatures",
}


def feature_class(name: str) -> type:
    """The featurizer class registered as `name`."""
    module, cls = FEATURES[name].split(":")
    return getattr(import_module(module), cls)


def __getattr__(attr: str):
    for path in FEATURES.values():
        if path.endswith(f":{attr}"):
            return feature_class(next(k for k, v in FEATURES.items() if v == path))
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
