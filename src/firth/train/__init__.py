"""The training engine under the classifier and encoder families (word2vec's fast model has its own loop).

`Trainer` runs the loop, `TrainConfig` (firth.config) holds its settings,
`firth.train.data` and `firth.train.paragraphs` the datasets it reads. Names
are imported on first use, so reading the configuration does not import torch.
"""

from firth.registry import lazy_attributes

__all__ = ["ArrayDataset", "TokenDataset", "TrainConfig", "Trainer"]

__getattr__ = lazy_attributes(__name__, {
    "ArrayDataset": "firth.train.data:ArrayDataset",
    "TokenDataset": "firth.train.data:TokenDataset",
    "TrainConfig": "firth.config:TrainConfig",
    "Trainer": "firth.train.trainer:Trainer",
})
