"""Models: classifiers (and, later, encoders and word2vec).

`MODELS` names the classifier networks; they are imported on first use.
"""

from importlib import import_module

MODELS = {
    "softmax": "firth.models.linear:SoftmaxRegression",
    "mlp": "firth.models.mlp:MLP",
    "sgnn": "firth.models.sgnn:SGNNClassifierNet",
}


def model_class(name: str) -> type:
    """The network class registered as `name`."""
    module, cls = MODELS[name].split(":")
    return getattr(import_module(module), cls)
