"""The one training engine every firth model trains with."""

from firth.train.data import ArrayDataset, TokenDataset
from firth.train.trainer import TrainConfig, Trainer

__all__ = ["ArrayDataset", "TokenDataset", "TrainConfig", "Trainer"]
