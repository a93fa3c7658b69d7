"""Trainer: mini-batch training with validation, early stopping and logging.

One loop for every model: shuffle with a seeded generator, step the
optimizer on each mini-batch, evaluate on the validation set after each
epoch, keep the best weights (lowest validation loss) and stop once it has
not improved for `patience` epochs. Each epoch's metrics are appended to
`metrics.jsonl` and drawn as `learning_curve.png` in `out_dir`.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler
from tqdm.auto import tqdm

from firth.errors import FirthError
from firth.evaluate.plots import plot_learning_curves

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-2
    optimizer: str = "adam"  # sgd | adam | adamw
    weight_decay: float = 0.0
    patience: int | None = 3  # epochs without a better validation loss before stopping
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    progress: bool = True


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA when available; asking for CUDA without it is a FirthError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise FirthError("--device cuda was asked for but no CUDA GPU is available.")
    if name != "cpu" and not name.startswith("cuda"):
        raise FirthError(f"unknown device {name!r}; use auto, cpu or cuda.")
    return torch.device(name)


class Trainer:
    """Trains a classifier-like `model` whose forward maps a batch to logits."""

    def __init__(self, model: nn.Module, config: TrainConfig, out_dir: str | Path | None = None,
                 loss_fn: nn.Module | None = None):
        if config.optimizer not in OPTIMIZERS:
            raise FirthError(f"unknown optimizer {config.optimizer!r}; use one of {', '.join(OPTIMIZERS)}.")
        self.config = config
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.loss_fn = loss_fn or nn.CrossEntropyLoss()
        self.out_dir = Path(out_dir) if out_dir else None
        self.optimizer = OPTIMIZERS[config.optimizer](
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.history: list[dict] = []

    def _loader(self, data: Dataset, shuffle: bool) -> DataLoader:
        if shuffle:
            generator = torch.Generator().manual_seed(self.config.seed + len(self.history))
            sampler = RandomSampler(data, generator=generator)
        else:
            sampler = SequentialSampler(data)
        batches = BatchSampler(sampler, self.config.batch_size, drop_last=False)
        return DataLoader(data, sampler=batches, batch_size=None)

    def fit(self, train: Dataset, val: Dataset | None = None) -> list[dict]:
        """Train for up to `epochs` epochs; return the per-epoch metrics."""
        if self.out_dir:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "metrics.jsonl").unlink(missing_ok=True)
        best_loss, best_state, stale = float("inf"), None, 0
        for epoch in range(1, self.config.epochs + 1):
            start = time.perf_counter()
            record = {"epoch": epoch, **self._train_epoch(train, epoch)}
            if val is not None:
                record.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
            record["seconds"] = round(time.perf_counter() - start, 3)
            self._log(record)
            if val is None:
                continue
            if record["val_loss"] < best_loss:
                best_loss, stale = record["val_loss"], 0
                best_state = copy.deepcopy(self.model.state_dict())
            else:
                stale += 1
                if self.config.patience is not None and stale >= self.config.patience:
                    break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        if self.out_dir and self.history:
            plot_learning_curves(self.history, self.out_dir / "learning_curve.png")
        return self.history

    def _train_epoch(self, data: Dataset, epoch: int) -> dict:
        self.model.train()
        total_loss, correct, seen = 0.0, 0, 0
        batches = tqdm(self._loader(data, shuffle=True), desc=f"epoch {epoch}", leave=False,
                       disable=not self.config.progress, unit="batch")
        for x, y in batches:
            x, y = x.to(self.device), y.to(self.device)
            logits = self.model(x)
            loss = self.loss_fn(logits, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
            batches.set_postfix(loss=f"{total_loss / seen:.4f}")
        return {"train_loss": total_loss / seen, "train_acc": correct / seen}

    @torch.no_grad()
    def evaluate(self, data: Dataset) -> dict:
        """Mean loss and accuracy of the model on `data`."""
        self.model.eval()
        total_loss, correct, seen = 0.0, 0, 0
        for x, y in self._loader(data, shuffle=False):
            x, y = x.to(self.device), y.to(self.device)
            logits = self.model(x)
            total_loss += self.loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
        return {"loss": total_loss / seen, "acc": correct / seen}

    def _log(self, record: dict) -> None:
        self.history.append(record)
        if self.config.progress:
            shown = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items())
            tqdm.write(shown)
        if self.out_dir:
            with open(self.out_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
