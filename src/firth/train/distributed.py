"""Training in several processes under `torchrun`: DistributedDataParallel, as PyTorch users run it.

    torchrun --nproc-per-node 2 -m firth classify train bbc-news --model sgnn
    torchrun --nnodes 2 --node-rank 0 --nproc-per-node 1 --rdzv-endpoint HOST:29500 -m firth ...   (on each machine)

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK in each process; `start` joins
them into one process group (gloo on CPU, nccl on CUDA). The conventions the
Trainer keeps under it:

- `batch_size` is the global batch: every rank draws the same seeded batches
  and takes its share of each (`share`), so one process and N processes make
  the same optimizer steps and follow the same learning-rate schedule.
- Rank 0 alone writes metrics, plots, checkpoints and the model, shows
  progress, and runs validation; its result reaches every rank (`broadcast`),
  so that all stop early together.
- Without torchrun (or with one process) every function here is a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.distributed as dist

from firth.errors import FirthError


def rank() -> int:
    """This process's rank (0 without torchrun)."""
    return dist.get_rank() if dist.is_initialized() else int(os.environ.get("RANK", 0))


def world_size() -> int:
    """How many processes train together (1 without torchrun)."""
    return dist.get_world_size() if dist.is_initialized() else int(os.environ.get("WORLD_SIZE", 1))


def is_main() -> bool:
    """Whether this process writes files and prints: rank 0, or the only process."""
    return rank() == 0


def start(device: torch.device) -> torch.device:
    """Join torchrun's process group, once; the device this rank trains on (its own GPU under CUDA)."""
    if world_size() == 1:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def share(rows: Sequence[int], groups: Sequence[int] | None = None) -> list[int]:
    """This rank's part of a global batch: every world_size-th row, or every world_size-th group of rows
    (whole paragraphs, for contrastive batches) when `groups` gives each row's group."""
    n, r = world_size(), rank()
    if groups is None:
        return list(rows[r::n])
    order = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    return [row for row, g in zip(rows, groups) if order[g] % n == r]


def check_feeds(kept: int, largest: int, need: int, what: str) -> None:
    """A FirthError when no global batch (the `largest` has that many rows or groups) gives every rank `need`."""
    if world_size() > 1 and kept == 0:
        raise FirthError(f"{world_size()} processes cannot share batches of {largest} {what}: each needs at least "
                         f"{need}; use fewer processes or a larger --batch-size.")


def broadcast(value: object) -> object:
    """Rank 0's `value`, on every rank."""
    if world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def sum_all(values: Sequence[float]) -> list[float]:
    """Each value summed over the ranks."""
    if world_size() == 1:
        return list(values)
    total = torch.tensor(list(values), dtype=torch.float64, device=_device())
    dist.all_reduce(total)
    return total.tolist()


def while_every_rank(items: Iterable) -> Iterator:
    """The items while every rank still has one: ranks whose streams differ in length stop together."""
    iterator = iter(items)
    while True:
        item = next(iterator, None)
        if world_size() > 1:
            going = torch.tensor([item is not None], dtype=torch.int32, device=_device())
            dist.all_reduce(going, op=dist.ReduceOp.MIN)
            if not going.item():
                return
        elif item is None:
            return
        yield item


def _device() -> torch.device:
    """Where collectives' tensors live: the rank's GPU under nccl, else the CPU."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def barrier() -> None:
    """Wait until every rank gets here (after rank 0 wrote what the others will read)."""
    if world_size() > 1:
        dist.barrier()


@contextmanager
def leaving_together() -> Iterator[None]:
    """Run the block (rank 0's reports and saving, say), then wait for every rank and leave the process
    group together: a rank that exits while rank 0 still works, the group never destroyed, can abort in
    gloo's teardown."""
    try:
        yield
    finally:
        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def gather(x: torch.Tensor) -> torch.Tensor:
    """Every rank's rows of `x`, rank after rank, keeping the gradient of this rank's own rows.

    Ranks may hold different numbers of rows; the others' rows come without
    gradient, as in sentence-transformers' gathered losses: each rank's backward
    reaches its own encoder pass, and DDP sums the ranks' gradients.
    """
    if world_size() == 1:
        return x
    sizes = [torch.zeros(1, dtype=torch.long, device=x.device) for _ in range(world_size())]  # [n] per rank
    dist.all_gather(sizes, torch.tensor([len(x)], device=x.device))
    longest = int(max(sizes).item())
    padded = torch.zeros((longest, *x.shape[1:]), dtype=x.dtype, device=x.device)
    padded[:len(x)] = x.detach()
    parts = [torch.empty_like(padded) for _ in range(world_size())]
    dist.all_gather(parts, padded)
    parts = [part[:int(size.item())] for part, size in zip(parts, sizes)]
    parts[rank()] = x
    return torch.cat(parts)
