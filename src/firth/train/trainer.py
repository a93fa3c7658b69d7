"""Trainer: the training loop of the classifier, the sentence encoder and the textbook word2vec.

Mini-batches from a Dataset indexed by lists of rows (a seeded shuffle per
epoch), any registered optimizer, a learning-rate schedule, optional gradient
clipping, evaluation after every epoch (and every `eval_every` steps) by an
evaluator that names its primary metric and direction (firth.evaluate.evaluators),
early stopping on that metric with the best weights restored, a checkpoint
after every epoch (JSON + safetensors, atomic) from which
`fit(..., resume=True)` continues a killed run to the same result, a progress
bar with the live loss, and `metrics.jsonl` and `learning_curve.png` in
`out_dir` (each family writes its resolved configuration there as `config.json`).

A model maps a batch's inputs to outputs (class logits, or whatever its loss
takes); inputs may be tensors or objects with `.to(device)` (moved to the
device), or anything else the model takes (lists of words, say). Models whose
outputs are not class logits (sentence encoders) pass `classifier=False` and
their own loss and evaluator.

A dataset may choose its own batches (a `batches(epoch)` method returning
lists of rows, e.g. whole paragraphs packed together); `num_workers` prepares
batches in worker processes ahead of the loop. Records carry the share of
time the loop waited for data and, when batches report `.tokens`, tokens/s.

Under `torchrun` the model trains with DistributedDataParallel
(firth.train.distributed): `batch_size` is the global batch, each rank takes
its share of every batch (whole groups, for a dataset whose rows have a
`group`), and rank 0 alone validates, logs and checkpoints.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler
from tqdm.auto import tqdm

from firth import registry
from firth.config import TrainConfig
from firth.errors import FirthError
from firth.evaluate.evaluators import Evaluator, LossEvaluator, to_device
from firth.evaluate.plots import plot_learning_curves
from firth.io.model_dir import read_json
from firth.train import distributed
from firth.train.checkpoint import load_checkpoint, save_checkpoint
from firth.train.schedules import lr_factor

__all__ = ["CHECKPOINT", "TrainConfig", "Trainer", "decay_groups", "resolve_device"]

CHECKPOINT = "checkpoint"
# the settings a resumed run may change
RESUMABLE_CHANGES = frozenset({"epochs", "max_steps", "patience", "device", "num_workers", "progress"})


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA when available; asking for CUDA without it is a FirthError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise FirthError("--device cuda was asked for but no CUDA GPU is available.")
    if name != "cpu" and not name.startswith("cuda"):
        raise FirthError(f"unknown device {name!r}; use auto, cpu or cuda.")
    return torch.device(name)


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Optimizer groups that decay weight matrices and embeddings but not biases or norm scales.

    As nanoGPT and BERT do, and as LogisticRegression leaves its intercept
    unpenalized: L2 is meant to keep the weights small, not to pull each
    output's offset or each layer's scale towards 0.
    """
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return [group for group in groups if group["params"]]


class Trainer:
    """Trains `model` (inputs → logits) with `loss_fn` (cross-entropy by default)."""

    def __init__(self, model: nn.Module, config: TrainConfig, out_dir: str | Path | None = None,
                 loss_fn: nn.Module | None = None, classifier: bool = True,
                 on_record: Callable[[dict], None] | None = None):
        self.config = config
        self.on_record = on_record  # told every logged record (a search prunes a trial from it)
        self.device = distributed.start(resolve_device(config.device))
        self.model = model.to(self.device)
        self.main = distributed.is_main()  # the process that validates and writes
        self.net = self.model  # what the training steps call: the model, or its DDP wrapper
        if distributed.world_size() > 1:
            # once synchronized at the start, buffers stay each rank's own: batch-norm statistics of its rows,
            # and caches (the projection's word cache) that would be wrong if rank 0's were copied over them
            self.net = DistributedDataParallel(self.model, device_ids=[self.device] if self.device.type == "cuda"
                                               else None, forward_sync_buffers=False)
        self.loss_fn = loss_fn or nn.CrossEntropyLoss()
        self.classifier = classifier
        self.out_dir = Path(out_dir) if out_dir else None
        moments = {} if config.optimizer == "sgd" else {"betas": tuple(config.betas), "eps": config.eps}
        optimizer = registry.resolve(registry.OPTIMIZERS, config.optimizer, "optimizer")
        self.optimizer = optimizer(  # fused: one pass over the parameters per step
            decay_groups(self.model, config.weight_decay), lr=config.lr, fused=True, **moments)
        self.history: list[dict] = []
        self.step = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_score = math.inf
        self.stale = 0

    # ---- the loop -----------------------------------------------------------

    def fit(self, train: Dataset, val: Evaluator | Dataset | None = None, resume: bool = False) -> list[dict]:
        """Train for up to `epochs` epochs (continuing from the checkpoint if `resume`).

        `val` is an evaluator, or a dataset scored by its mean loss.
        """
        if val is not None and not isinstance(val, Evaluator):
            val = LossEvaluator(val, "loss", self.loss_fn, self.config.batch_size, accuracy=self.classifier)
        start_epoch = self._resume() if resume else 1
        if self.out_dir and start_epoch == 1 and self.main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "metrics.jsonl").unlink(missing_ok=True)
        steps_per_epoch = len(train) if isinstance(train, IterableDataset) else len(self._global_batches(train, 1))
        total_steps = min(self.config.epochs * steps_per_epoch, self.config.max_steps or math.inf)
        stopped = self.stale_enough() or self.out_of_steps()
        for epoch in range(start_epoch, self.config.epochs + 1):
            if stopped:
                break
            stopped = self._run_epoch(train, val, epoch, total_steps)
            self._checkpoint(epoch)
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        if self.out_dir and self.history and self.main:
            plot_learning_curves(self.history, self.out_dir / "learning_curve.png")
        return self.history

    def _run_epoch(self, train: Dataset, val: Evaluator | None, epoch: int, total_steps: int) -> bool:
        """One pass over `train`; returns True when early stopping says stop."""
        self.model.train()
        running = _Running(self.classifier)
        steps, count = self._steps(train, epoch)
        batches = tqdm(steps, total=count, desc=f"epoch {epoch}", leave=False, unit="batch",
                       disable=not (self.config.progress and self.main))
        waiting_since = time.perf_counter()
        for x, y, rows in batches:
            running.waited += time.perf_counter() - waiting_since
            self._set_lr(total_steps)
            if hasattr(self.loss_fn, "set_progress"):  # a loss with a curriculum (firth.losses.objective)
                self.loss_fn.set_progress(self.step / total_steps)
            loss, logits, y = self._loss(x, y)
            self.optimizer.zero_grad(set_to_none=True)
            value = loss.item()
            if not math.isfinite(value):
                raise FirthError(f"training diverged: the loss became {value} at step {self.step + 1}; "
                                 "lower the learning rate (lr) or clip the gradient (clip_grad).")
            (loss * self._rank_weight(len(y), rows)).backward()
            if self.config.clip_grad:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_grad)
            self.optimizer.step()
            self.step += 1
            running.add(value, logits, y, getattr(x, "tokens", 0))
            batches.set_postfix(running.postfix())
            if self.config.eval_every and self.step % self.config.eval_every == 0 and val is not None:
                if self._evaluation_point(epoch, running, val):
                    return True
                running = _Running(self.classifier)
                self.model.train()
            if self.out_of_steps():
                break
            waiting_since = time.perf_counter()
        stop = self._evaluation_point(epoch, running, val) if running.seen else False
        return stop or self.out_of_steps()

    def _evaluation_point(self, epoch: int, running: "_Running", val: Evaluator | None) -> bool:
        """Log train and validation metrics; update early stopping; True means stop."""
        record = {"epoch": epoch, "step": self.step, "lr": self.optimizer.param_groups[0]["lr"],
                  **running.record()}
        if val is not None:  # rank 0 validates; every rank gets the result, so that all stop together
            self.model.eval()
            with torch.no_grad():
                scores = {f"val_{k}": v for k, v in val(self.model).items()} if self.main else None
            record.update(distributed.broadcast(scores))
        self._log(record)
        if val is None:
            return False
        monitor = f"val_{val.primary_metric}"
        if monitor not in record:
            raise FirthError(f"the evaluator's primary metric {val.primary_metric!r} is not among its results "
                             f"({', '.join(k for k in record if k.startswith('val_'))}).")
        score = record[monitor] * (-1 if val.greater_is_better else 1)
        if score < self.best_score:
            self.best_score, self.stale = score, 0
            self.best_state = copy.deepcopy(self.model.state_dict())
        else:
            self.stale += 1
        return self.stale_enough()

    def out_of_steps(self) -> bool:
        return self.config.max_steps is not None and self.step >= self.config.max_steps

    def stale_enough(self) -> bool:
        return self.config.patience is not None and self.stale >= self.config.patience

    def evaluate(self, data: Dataset) -> dict:
        """Mean loss (and accuracy, for a classifier) of the model on `data`."""
        return LossEvaluator(data, "loss", self.loss_fn, self.config.batch_size, accuracy=self.classifier)(self.model)

    # ---- pieces -------------------------------------------------------------

    def _steps(self, data: Dataset, epoch: int) -> tuple[Iterator[tuple[object, torch.Tensor, int]], int]:
        """The training steps of an epoch, this rank's share, as (inputs, targets, rows of the global batch),
        and how many there are (for a stream, about how many).

        A stream (IterableDataset) gives each rank its own batches; an epoch ends when any rank's stream does.
        """
        workers = self.config.num_workers
        if isinstance(data, IterableDataset):
            data.set_epoch(self.config.seed + epoch)
            loader = DataLoader(data, batch_size=None, collate_fn=_as_is, num_workers=workers,
                                prefetch_factor=4 if workers else None)
            world = distributed.world_size()
            return ((x, y, len(y) * world) for x, y in distributed.while_every_rank(loader)), len(data)
        global_batches = self._global_batches(data, epoch)
        loader = self._loader(data, global_batches)
        return ((x, y, len(rows)) for (x, y), rows in zip(loader, global_batches)), len(global_batches)

    def _global_batches(self, data: Dataset, epoch: int) -> list[list[int]]:
        """The row lists of one training pass, the same on every rank: the dataset's own batches, or shuffled
        with seed + epoch. Under DDP, a batch too small to give every rank a row (or a group) is left out."""
        if hasattr(data, "batches"):
            batches = data.batches(self.config.seed + epoch)
        else:
            sampler = RandomSampler(data, generator=torch.Generator().manual_seed(self.config.seed + epoch))
            # a training batch of one example breaks batch normalization: leave it out of this epoch
            lone_last = len(data) % self.config.batch_size == 1 and len(data) > 1
            batches = list(BatchSampler(sampler, self.config.batch_size, drop_last=lone_last))
        if distributed.world_size() == 1:
            return batches
        groups = getattr(data, "group", None)
        # each rank needs a whole group (a paragraph), or two rows (a share of one breaks batch normalization)
        need, what = (1, "paragraphs") if groups is not None else (2, "rows")
        size = (lambda rows: len(set(groups[rows]))) if groups is not None else len
        feeds = [b for b in batches if size(b) >= need * distributed.world_size()]
        distributed.check_feeds(len(feeds), max(map(size, batches), default=0), need, what)
        return feeds

    def _loader(self, data: Dataset, global_batches: list[list[int]]) -> DataLoader:
        """This rank's share of each global batch, prepared by `num_workers` processes ahead of the loop."""
        workers = self.config.num_workers
        groups = getattr(data, "group", None)
        local = [distributed.share(rows, None if groups is None else groups[rows].tolist()) for rows in global_batches]
        # its own generator: making workers must not draw from the global RNG that dropout uses
        generator = torch.Generator().manual_seed(self.config.seed)
        return DataLoader(data, sampler=local, batch_size=None, collate_fn=_as_is,
                          num_workers=workers, prefetch_factor=4 if workers else None, generator=generator)

    def _loss(self, x, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y = y.to(self.device)
        logits = self.net(to_device(x, self.device))
        return self.loss_fn(logits, y), logits, y

    def _rank_weight(self, local: int, batch: int) -> float:
        """What this rank's loss is multiplied by so that DDP's mean of the ranks' gradients is the gradient of
        one process's loss on the whole batch: the rank's share of the batch's rows, or, for a loss computed on
        every rank's rows gathered (`loss_fn.gathers`), the whole loss once."""
        if distributed.world_size() == 1:
            return 1.0
        if getattr(self.loss_fn, "gathers", False):
            return float(distributed.world_size())
        return distributed.world_size() * local / batch

    def _set_lr(self, total_steps: int) -> None:
        lr = self.config.lr * lr_factor(self.config.schedule, self.step + 1, total_steps, self.config.warmup)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _log(self, record: dict) -> None:
        self.history.append(record)
        if not self.main:
            return
        if self.config.progress:
            shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items())
            tqdm.write(shown)
        if self.out_dir:
            with open(self.out_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        if self.on_record is not None:
            self.on_record(record)

    def _checkpoint(self, epoch: int) -> None:
        if not self.out_dir or not self.main:
            return
        progress = {"epoch": epoch, "step": self.step, "history": self.history, "best_score": self.best_score,
                    "stale": self.stale, "config": asdict(self.config)}
        save_checkpoint(self.out_dir / CHECKPOINT, self.model, self.optimizer, self.best_state, progress)

    def _check_same_config(self, saved: dict) -> None:
        """A FirthError when the checkpoint was trained with other settings than those that may change on resume."""
        current = json.loads(json.dumps(asdict(self.config)))  # tuples as JSON lists, like the saved ones
        for name in sorted(set(saved) | set(current)):
            if name not in RESUMABLE_CHANGES and saved.get(name) != current.get(name):
                raise FirthError(f"{self.out_dir}: its checkpoint was trained with {name}={saved.get(name)!r}, not "
                                 f"{current.get(name)!r}; resume with the run's settings (only "
                                 f"{', '.join(sorted(RESUMABLE_CHANGES))} may change).")

    def _resume(self) -> int:
        """Restore the last checkpoint in out_dir; return the epoch to continue with."""
        directory = self.out_dir / CHECKPOINT if self.out_dir else None
        if directory is None or not directory.is_dir():
            raise FirthError(f"nothing to resume: no checkpoint in {self.out_dir}.")
        self._check_same_config(read_json(directory / "progress.json").get("config", {}))
        self.best_state, progress = load_checkpoint(directory, self.model, self.optimizer)
        self.step, self.history = progress["step"], progress["history"]
        self.best_score, self.stale = progress["best_score"], progress["stale"]
        if self.main:
            with open(self.out_dir / "metrics.jsonl", "w", encoding="utf-8") as f:  # drop lines after it
                f.writelines(json.dumps(record) + "\n" for record in self.history)
        return progress["epoch"] + 1


def _as_is(batch):
    """Batches come whole from the dataset; the DataLoader must not walk into them."""
    return batch


class _Running:
    """Running mean loss (and accuracy) over the batches seen, with tokens and time waiting for data."""

    def __init__(self, classifier: bool = True):
        self.classifier = classifier
        self.total_loss, self.correct, self.seen, self.tokens = 0.0, 0, 0, 0
        self.waited = 0.0
        self.started = time.perf_counter()

    def add(self, loss: float, logits: torch.Tensor, y: torch.Tensor, tokens: int = 0) -> None:
        n = len(y)
        self.total_loss += loss * n
        if self.classifier:
            self.correct += (logits.argmax(1) == y).sum().item()
        self.seen += n
        self.tokens += tokens

    @property
    def loss(self) -> float:
        return self.total_loss / max(self.seen, 1)

    @property
    def acc(self) -> float:
        return self.correct / max(self.seen, 1)

    def postfix(self) -> dict:
        shown = {"loss": f"{self.loss:.4f}"}
        if self.tokens:
            shown["tok/s"] = f"{self.tokens / max(time.perf_counter() - self.started, 1e-9):,.0f}"
        return shown

    def record(self) -> dict:
        """The training side of a metrics record, over every rank's batches."""
        seconds = time.perf_counter() - self.started
        self.total_loss, self.correct, self.seen, self.tokens = distributed.sum_all(
            [self.total_loss, self.correct, self.seen, self.tokens])
        record = {"train_loss": self.loss, **({"train_acc": self.acc} if self.classifier else {})}
        if self.tokens:
            record["tokens_per_s"] = round(self.tokens / max(seconds, 1e-9), 1)
        record["data_wait"] = round(self.waited / max(seconds, 1e-9), 4)
        record["seconds"] = round(seconds, 3)
        return record
