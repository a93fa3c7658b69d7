"""Trainer: the one training loop of firth.

Mini-batches from a Dataset indexed by lists of rows (a seeded shuffle per
epoch), any optimizer, a learning-rate schedule, optional gradient clipping,
evaluation on a validation set after every epoch (and every `eval_every`
steps), early stopping on a chosen metric with the best weights restored, a
checkpoint after every epoch (JSON + safetensors, atomic) from which
`fit(..., resume=True)` continues a killed run to the same result, a progress
bar with the live loss, `metrics.jsonl` and `learning_curve.png` in `out_dir`.

A model maps a batch's inputs to logits; inputs may be tensors (moved to the
device) or anything else the model takes (lists of texts, say).
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler
from tqdm.auto import tqdm

from firth.errors import FirthError
from firth.evaluate.plots import plot_learning_curves
from firth.train.checkpoint import load_checkpoint, save_checkpoint
from firth.train.schedules import lr_factor

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
CHECKPOINT = "checkpoint"


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-2
    optimizer: str = "adam"  # sgd | adam | adamw
    weight_decay: float = 0.0  # L2 (sgd, adam) or decoupled weight decay (adamw)
    schedule: str = "constant"  # constant | linear | cosine | noam (see schedules.py)
    warmup: int = 0  # warm-up steps
    clip_grad: float | None = None  # max gradient norm
    patience: int | None = 3  # evaluations without improvement before stopping; None: never
    monitor: str = "val_loss"  # val_loss (lower is better) or val_acc (higher is better)
    eval_every: int | None = None  # also evaluate every N steps
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
    """Trains `model` (inputs → logits) with `loss_fn` (cross-entropy by default)."""

    def __init__(self, model: nn.Module, config: TrainConfig, out_dir: str | Path | None = None,
                 loss_fn: nn.Module | None = None):
        if config.optimizer not in OPTIMIZERS:
            raise FirthError(f"unknown optimizer {config.optimizer!r}; use one of {', '.join(OPTIMIZERS)}.")
        if config.monitor not in ("val_loss", "val_acc"):
            raise FirthError(f"unknown monitor {config.monitor!r}; use val_loss or val_acc.")
        lr_factor(config.schedule, 1, 1, config.warmup)  # rejects an unknown schedule now
        self.config = config
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.loss_fn = loss_fn or nn.CrossEntropyLoss()
        self.out_dir = Path(out_dir) if out_dir else None
        self.optimizer = OPTIMIZERS[config.optimizer](  # fused: one pass over the parameters per step
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)
        self.history: list[dict] = []
        self.step = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_score = math.inf
        self.stale = 0

    # ---- the loop -----------------------------------------------------------

    def fit(self, train: Dataset, val: Dataset | None = None, resume: bool = False) -> list[dict]:
        """Train for up to `epochs` epochs (continuing from the checkpoint if `resume`)."""
        start_epoch = self._resume() if resume else 1
        if self.out_dir and start_epoch == 1:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "metrics.jsonl").unlink(missing_ok=True)
        total_steps = self.config.epochs * math.ceil(len(train) / self.config.batch_size)
        stopped = self.stale_enough()
        for epoch in range(start_epoch, self.config.epochs + 1):
            if stopped:
                break
            stopped = self._run_epoch(train, val, epoch, total_steps)
            self._checkpoint(epoch)
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        if self.out_dir and self.history:
            plot_learning_curves(self.history, self.out_dir / "learning_curve.png")
        return self.history

    def _run_epoch(self, train: Dataset, val: Dataset | None, epoch: int, total_steps: int) -> bool:
        """One pass over `train`; returns True when early stopping says stop."""
        self.model.train()
        running = _Running()
        started = time.perf_counter()
        batches = tqdm(self._loader(train, epoch), desc=f"epoch {epoch}", leave=False,
                       disable=not self.config.progress, unit="batch")
        for x, y in batches:
            self._set_lr(total_steps)
            loss, logits, y = self._loss(x, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.clip_grad:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_grad)
            self.optimizer.step()
            self.step += 1
            running.add(loss, logits, y)
            batches.set_postfix(loss=f"{running.loss:.4f}")
            if self.config.eval_every and self.step % self.config.eval_every == 0 and val is not None:
                if self._evaluation_point(epoch, running, val, started):
                    return True
                running, started = _Running(), time.perf_counter()
                self.model.train()
        if running.seen:
            return self._evaluation_point(epoch, running, val, started)
        return False

    def _evaluation_point(self, epoch: int, running: "_Running", val: Dataset | None, started: float) -> bool:
        """Log train and validation metrics; update early stopping; True means stop."""
        record = {"epoch": epoch, "step": self.step, "lr": self.optimizer.param_groups[0]["lr"],
                  "train_loss": running.loss, "train_acc": running.acc}
        if val is not None:
            record.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
        record["seconds"] = round(time.perf_counter() - started, 3)
        self._log(record)
        if val is None:
            return False
        score = record[self.config.monitor] * (1 if self.config.monitor == "val_loss" else -1)
        if score < self.best_score:
            self.best_score, self.stale = score, 0
            self.best_state = copy.deepcopy(self.model.state_dict())
        else:
            self.stale += 1
        return self.stale_enough()

    def stale_enough(self) -> bool:
        return self.config.patience is not None and self.stale >= self.config.patience

    @torch.no_grad()
    def evaluate(self, data: Dataset) -> dict:
        """Mean loss and accuracy of the model on `data`."""
        self.model.eval()
        running = _Running()
        for x, y in self._loader(data, epoch=None):
            loss, logits, y = self._loss(x, y)
            running.add(loss, logits, y)
        return {"loss": running.loss, "acc": running.acc}

    # ---- pieces -------------------------------------------------------------

    def _loader(self, data: Dataset, epoch: int | None) -> DataLoader:
        """Batches of row lists: shuffled with seed + epoch for training, in order otherwise."""
        if epoch is None:
            sampler, lone_last = SequentialSampler(data), False
        else:
            sampler = RandomSampler(data, generator=torch.Generator().manual_seed(self.config.seed + epoch))
            # a training batch of one example breaks batch normalization: leave it out of this epoch
            lone_last = len(data) % self.config.batch_size == 1 and len(data) > 1
        return DataLoader(data, sampler=BatchSampler(sampler, self.config.batch_size, drop_last=lone_last),
                          batch_size=None, collate_fn=_as_is)

    def _loss(self, x, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = x.to(self.device) if isinstance(x, torch.Tensor) else x
        y = y.to(self.device)
        logits = self.model(x)
        return self.loss_fn(logits, y), logits, y

    def _set_lr(self, total_steps: int) -> None:
        lr = self.config.lr * lr_factor(self.config.schedule, self.step + 1, total_steps, self.config.warmup)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _log(self, record: dict) -> None:
        self.history.append(record)
        if self.config.progress:
            shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items())
            tqdm.write(shown)
        if self.out_dir:
            with open(self.out_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")

    def _checkpoint(self, epoch: int) -> None:
        if not self.out_dir:
            return
        progress = {"epoch": epoch, "step": self.step, "history": self.history, "best_score": self.best_score,
                    "stale": self.stale, "config": asdict(self.config)}
        save_checkpoint(self.out_dir / CHECKPOINT, self.model, self.optimizer, self.best_state, progress)

    def _resume(self) -> int:
        """Restore the last checkpoint in out_dir; return the epoch to continue with."""
        directory = self.out_dir / CHECKPOINT if self.out_dir else None
        if directory is None or not directory.is_dir():
            raise FirthError(f"nothing to resume: no checkpoint in {self.out_dir}.")
        self.best_state, progress = load_checkpoint(directory, self.model, self.optimizer)
        self.step, self.history = progress["step"], progress["history"]
        self.best_score, self.stale = progress["best_score"], progress["stale"]
        with open(self.out_dir / "metrics.jsonl", "w", encoding="utf-8") as f:  # drop lines after it
            f.writelines(json.dumps(record) + "\n" for record in self.history)
        return progress["epoch"] + 1


def _as_is(batch):
    """Batches come whole from the dataset; the DataLoader must not walk into them."""
    return batch


class _Running:
    """Running mean loss and accuracy over the batches seen."""

    def __init__(self):
        self.total_loss, self.correct, self.seen = 0.0, 0, 0

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        n = len(y)
        self.total_loss += loss.item() * n
        if logits.dim() == 2 and y.dim() == 1:
            self.correct += (logits.argmax(1) == y).sum().item()
        self.seen += n

    @property
    def loss(self) -> float:
        return self.total_loss / max(self.seen, 1)

    @property
    def acc(self) -> float:
        return self.correct / max(self.seen, 1)
