"""Every name a user can pick, and where the code behind it lives.

Each registry maps a name (what `--model`, `--features`, `--loss`, ... take)
to "module:attribute". The CLI's choices and the configuration checks read
the names; the code that builds things calls `resolve`, which imports the
module on first use. So listing the choices (`firth --help`) imports neither
torch nor scikit-learn, and adding a model, featurizer, loss, optimizer or
schedule is one line here.
"""

from __future__ import annotations

from importlib import import_module

from firth.errors import FirthError

# classifier networks (`--model`): nn.Modules with from_config(config, n_classes, n_features)
MODELS = {
    "softmax": "firth.models.linear:SoftmaxRegression",
    "mlp": "firth.models.mlp:MLP",
    "sgnn": "firth.models.sgnn:SGNNClassifierNet",
}

# featurizers (`--features`): scikit-learn transformers with save/load
FEATURES = {
    "tfidf": "firth.features.classic:TfidfFeatures",
    "counts": "firth.features.classic:CountFeatures",
    "ppmi": "firth.features.ppmi:PPMIFeatures",
    "glove": "firth.features.word_vectors:AveragedWordVectors",
    "projection": "firth.features.projection:ProjectionFeatures",
}

# sentence-encoder losses (`--loss`): nn.Modules (vectors, groups) -> scalar
LOSSES = {
    "infonce": "firth.losses.infonce:InfoNCE",
    "bxent": "firth.losses.similarity_bxent:SimilarityBXENT",
    "supcon": "firth.losses.supcon:SupCon",
}

# optimizers (`--optimizer`)
OPTIMIZERS = {
    "adam": "torch.optim:Adam",
    "adamw": "torch.optim:AdamW",
    "sgd": "torch.optim:SGD",
}

# learning-rate schedules (`--schedule`): factor(step, total_steps, warmup) -> float
SCHEDULES = {
    "constant": "firth.train.schedules:constant",
    "linear": "firth.train.schedules:linear",
    "cosine": "firth.train.schedules:cosine",
    "noam": "firth.train.schedules:noam",
}

# what `firth.load(directory)` returns for the type stamped in a model directory
MODEL_TYPES = {
    "TextClassifier": "firth.models.classifier:TextClassifier",
    "SentenceEncoder": "firth.models.encoder:SentenceEncoder",
    "Word2Vec": "firth.models.word2vec:Word2Vec",
    "KeyedVectors": "firth.vectors:KeyedVectors",
}

# pooling of word vectors into a text vector, per model (plain functions of the model code)
SGNN_POOLINGS = ("mean", "max", "meanmax", "attention")
ENCODER_POOLINGS = ("mean", "max", "meanmax")

# how a sentence encoder's vectors are compared with a teacher's (firth.losses.distill)
DISTILLATIONS = ("cosine", "similarity")

# how word vectors answer "a is to b as c is to ?" (firth.evaluate.word_similarity.analogy_scores)
ANALOGY_METHODS = ("3cosadd", "3cosmul")

# word2vec training objectives and input layers
WORD2VEC_MODELS = ("negative", "softmax")
WORD2VEC_INPUTS = ("table", "projection")


def check_choice(kind: str, name: str, choices) -> None:
    """A FirthError naming the choices when `name` is not one of them."""
    if name not in choices:
        raise FirthError(f"unknown {kind} {name!r}; choose one of {', '.join(choices)}.")


def resolve(registry: dict[str, str], name: str, kind: str):
    """The object registered as `name`, imported now; an unknown name is a FirthError."""
    check_choice(kind, name, registry)
    module, attribute = registry[name].split(":")
    return getattr(import_module(module), attribute)


def lazy_attributes(package: str, names: dict[str, str]):
    """A package's module-level `__getattr__` importing each name from its "module:attribute" on first use
    ("module:" names the module itself).

    It keeps `import firth` and the packages light: torch and scikit-learn
    load only when a class that needs them is first touched.
    """
    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = names[name].split(":")
        imported = import_module(module)
        return getattr(imported, attribute) if attribute else imported

    return __getattr__
