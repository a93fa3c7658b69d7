"""Featurizers: scikit-learn transformers from texts to vectors, and the SGNN projection.

Classes are imported on first use (`firth.features.Projection`), so that
listing the featurizers (the CLI's help) does not import scikit-learn or torch.
The names a user picks (`--features`) are in `firth.registry.FEATURES`.
"""

from firth import registry
from firth.registry import lazy_attributes

__getattr__ = lazy_attributes(__name__, {
    "CountFeatures": "firth.features.classic:CountFeatures",
    "TfidfFeatures": "firth.features.classic:TfidfFeatures",
    "PPMIFeatures": "firth.features.ppmi:PPMIFeatures",
    "AveragedWordVectors": "firth.features.word_vectors:AveragedWordVectors",
    "Projection": "firth.features.projection:Projection",
    "ProjectionConfig": "firth.config:ProjectionConfig",
    "ProjectionFeatures": "firth.features.projection:ProjectionFeatures",
})


def feature_class(name: str) -> type:
    """The featurizer class registered as `name` in firth.registry.FEATURES."""
    return registry.resolve(registry.FEATURES, name, "features")
