"""firth: text representations without vocabulary tables.

"You shall know a word by the company it keeps." (J. R. Firth, 1957)

The public names load on first use, so `import firth` imports neither torch
nor scikit-learn:

    import firth
    clf = firth.TextClassifier(features="tfidf", C=30).fit(texts, labels)
    clf.save("model/")
    firth.load("model/").predict(["The striker scored twice"])
"""

from firth.registry import lazy_attributes

__version__ = "0.1.0"

__all__ = ["KeyedVectors", "Projection", "SentenceEncoder", "TextClassifier", "Word2Vec", "data", "load", "runtime"]

__getattr__ = lazy_attributes(__name__, {
    "TextClassifier": "firth.models.classifier:TextClassifier",
    "SentenceEncoder": "firth.models.encoder:SentenceEncoder",
    "Word2Vec": "firth.models.word2vec:Word2Vec",
    "KeyedVectors": "firth.vectors:KeyedVectors",
    "Projection": "firth.features.projection:Projection",
    "load": "firth.io.model_dir:load",
    "data": "firth.data:",
    "runtime": "firth.runtime:",
})
