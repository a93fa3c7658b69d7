"""Datasets that hand the trainer whole mini-batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset


class ArrayDataset(Dataset):
    """Feature rows (dense or scipy-sparse) with integer labels, indexed by a list of rows.

    Sparse rows are densified one batch at a time, never the whole matrix.
    """

    def __init__(self, features: np.ndarray | sp.spmatrix, labels: Sequence[int] | np.ndarray):
        if features.shape[0] != len(labels):
            raise ValueError(f"{features.shape[0]} feature rows but {len(labels)} labels")
        self.features = features.tocsr() if sp.issparse(features) else np.asarray(features, dtype=np.float32)
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)

    def __len__(self) -> int:
        return self.features.shape[0]

    def __getitem__(self, rows: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        block = self.features[rows]
        if sp.issparse(block):
            block = block.toarray()
        return torch.as_tensor(block, dtype=torch.float32), self.labels[rows]

    def subset(self, rows: Sequence[int]) -> "ArrayDataset":
        return ArrayDataset(self.features[rows], self.labels[rows].numpy())


class TokenDataset(Dataset):
    """Tokenized texts with integer labels; a batch is (list of token lists, labels)."""

    def __init__(self, docs: Sequence[Sequence[str]], labels: Sequence[int] | np.ndarray):
        if len(docs) != len(labels):
            raise ValueError(f"{len(docs)} texts but {len(labels)} labels")
        self.docs = list(docs)
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.docs)

    def __getitem__(self, rows: Sequence[int]) -> tuple[list[Sequence[str]], torch.Tensor]:
        return [self.docs[i] for i in rows], self.labels[rows]

    def subset(self, rows: Sequence[int]) -> "TokenDataset":
        return TokenDataset(*self[rows])
