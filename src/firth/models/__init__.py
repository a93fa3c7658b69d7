"""Models of the three families: text classifiers (softmax regression, MLP, the SGNN classifier,
behind `TextClassifier`), the sentence encoder (`SentenceEncoder`) and skip-gram word2vec (`Word2Vec`).

Each family has one configuration dataclass (firth.config), trains with
`fit`, writes a model directory with `save` and reads it with `load` (or
`firth.load`). The networks a user picks are in `firth.registry.MODELS`.
"""
