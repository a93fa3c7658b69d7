"""Datasets that hand the trainer whole mini-batches."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset

# A sparse batch from a worker process is rebuilt by torch without saying whether to check it; the
# warning that this draws is about torch's defaults, which are ours, and would only puzzle a user.
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")


class ArrayDataset(Dataset):
    """Feature rows (dense or scipy-sparse) with integer labels, indexed by a list of rows.

    A batch of sparse rows is a torch sparse COO tensor, which firth's networks over features read
    without densifying (firth.models.linear.SparseInputLinear).
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
        return (sparse_rows(block) if sp.issparse(block) else torch.as_tensor(block, dtype=torch.float32),
                self.labels[rows])

    def subset(self, rows: Sequence[int]) -> "ArrayDataset":
        return ArrayDataset(self.features[rows], self.labels[rows].numpy())


def sparse_rows(block: sp.csr_matrix) -> torch.Tensor:
    """A scipy CSR matrix as a float32 torch sparse COO tensor (coalesced: CSR cells are in row order)."""
    block = block.tocoo()
    cells = torch.from_numpy(np.stack([block.row, block.col]).astype(np.int64))
    return torch.sparse_coo_tensor(cells, torch.from_numpy(block.data.astype(np.float32)), size=block.shape,
                                   is_coalesced=True, check_invariants=False)


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
