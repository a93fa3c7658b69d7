"""Hashed IDF: scikit-learn's smooth IDF per word, with no vocabulary kept."""

import math

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer

from firth.features.idf import HashedIDF
from firth.features.projection import word_keys

DOCS = [["the", "cat", "sat"], ["the", "dog", "sat", "sat"], ["the", "bird"], ["a", "cat", "and", "a", "dog"]]


def idf_of(idf: HashedIDF, words: list[str]) -> np.ndarray:
    return idf(torch.from_numpy(word_keys(words).view(np.int64))).numpy()


def test_hashed_idf_matches_scikit_learn_on_every_word():
    sk = TfidfVectorizer(analyzer=lambda doc: doc).fit(DOCS)
    ours = idf_of(HashedIDF().fit(DOCS), list(sk.get_feature_names_out()))
    assert np.allclose(ours, sk.idf_, atol=1e-6)


def test_an_unseen_word_has_the_highest_idf_and_an_unfitted_table_weighs_nothing():
    assert np.isclose(idf_of(HashedIDF().fit(DOCS), ["zebra"])[0], math.log(5) + 1, atol=1e-6)
    assert np.all(idf_of(HashedIDF(), ["the", "zebra"]) == 1)


def test_collisions_only_lower_an_idf_and_never_below_one():
    crowded = HashedIDF(buckets=1, rows=2).fit(DOCS)  # every word shares each row's single counter
    assert np.allclose(idf_of(crowded, ["bird", "cat"]), 1.0)
    assert np.isclose(idf_of(HashedIDF(buckets=64, rows=3).fit(DOCS), ["bird"])[0], math.log(5 / 2) + 1, atol=1e-6)


def test_word_keys_are_fnv1a_of_the_code_points():
    h = 0xCBF29CE484222325
    for c in "naïve":
        h = ((h ^ ord(c)) * 0x100000001B3) % 2**64
    assert word_keys(["naïve", ""]).tolist() == [h, 0xCBF29CE484222325]
