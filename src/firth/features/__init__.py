"""Featurizers: scikit-learn transformers from texts to vectors."""

from firth.features.classic import CountFeatures, TfidfFeatures

FEATURES = {"tfidf": TfidfFeatures, "counts": CountFeatures}

__all__ = ["FEATURES", "CountFeatures", "TfidfFeatures"]
