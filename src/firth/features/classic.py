"""Classic sparse features: word/char n-gram counts and TF-IDF (wrapping scikit-learn).

The wrappers add what firth needs on top of scikit-learn's vectorizers: a
JSON-able configuration and save/load to a model directory without pickle
(firth.features.state).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from firth.features.state import FeaturizerStateMixin


class CountFeatures(FeaturizerStateMixin, TransformerMixin, BaseEstimator):
    """Bag of n-gram counts (`analyzer` "word", "char" or "char_wb")."""

    def __init__(self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 1),
                 lowercase: bool = True, min_df: int = 1, max_features: int | None = None,
                 binary: bool = False):
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.min_df = min_df
        self.max_features = max_features
        self.binary = binary

    def _vectorizer(self) -> CountVectorizer:
        return CountVectorizer(dtype=np.float32, **self._sklearn_params())

    def _sklearn_params(self) -> dict:
        params = self.get_params()
        params["ngram_range"] = tuple(params["ngram_range"])
        return params

    def fit(self, texts, y=None):
        self.vectorizer_ = self._vectorizer().fit(texts)
        return self

    def transform(self, texts) -> sp.csr_matrix:
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.transform(texts).astype(np.float32)

    def fit_transform(self, texts, y=None) -> sp.csr_matrix:
        """fit(texts).transform(texts), tokenizing the texts once."""
        self.vectorizer_ = self._vectorizer()
        return self.vectorizer_.fit_transform(texts).astype(np.float32)

    @property
    def n_features_out_(self) -> int:
        return len(self.vectorizer_.vocabulary_)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.vectorizer_.get_feature_names_out()

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        check_is_fitted(self, "vectorizer_")
        vocabulary = sorted(self.vectorizer_.vocabulary_, key=self.vectorizer_.vocabulary_.get)
        return {"vocabulary": vocabulary}, {}

    def _restore(self, saved: dict, tensors: dict) -> None:
        self.vectorizer_ = self._vectorizer()
        self.vectorizer_.vocabulary_ = {term: i for i, term in enumerate(saved["vocabulary"])}


class TfidfFeatures(CountFeatures):
    """TF-IDF of n-grams: l2-normalized, smoothed idf, optional sublinear tf."""

    def __init__(self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2),
                 lowercase: bool = True, min_df: int = 1, max_features: int | None = None,
                 binary: bool = False, sublinear_tf: bool = True):
        super().__init__(analyzer, ngram_range, lowercase, min_df, max_features, binary)
        self.sublinear_tf = sublinear_tf

    def _vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(dtype=np.float32, **self._sklearn_params())

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        saved, _ = super()._state()
        return saved, {"idf": self.vectorizer_.idf_.astype(np.float64)}

    def _restore(self, saved: dict, tensors: dict) -> None:
        super()._restore(saved, tensors)
        self.vectorizer_.idf_ = tensors["idf"].numpy()
