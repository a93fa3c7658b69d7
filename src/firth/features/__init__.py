"""Featurizers: scikit-learn transformers from texts to vectors, and the SGNN projection.

Classes are imported on first use (`firth.features.Projection`), so that
listing the featurizers (the CLI's help) does not import scikit-learn or torch.
"""

from importlib import import_module

# the name a user picks (`--features`) -> the featurizer class
FEATURES = {
    "tfidf": "TfidfFeatures",
    "counts": "CountFeatures",
    "ppmi": "PPMIFeatures",
    "glove": "AveragedWordVectors",
    "projection": "ProjectionFeatures",
}

# every public class -> the module under firth.features that holds it
_MODULES = {
    "CountFeatures": "classic",
    "TfidfFeatures": "classic",
    "PPMIFeatures": "ppmi",
    "AveragedWordVectors": "word_vectors",
    "Projection": "projection",
    "ProjectionConfig": "projection",
    "ProjectionFeatures": "projection",
}


def __getattr__(attr: str):
    if attr in _MODULES:
        return getattr(import_module(f"{__name__}.{_MODULES[attr]}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def feature_class(name: str) -> type:
    """The featurizer class registered as `name` in FEATURES."""
    return __getattr__(FEATURES[name])
