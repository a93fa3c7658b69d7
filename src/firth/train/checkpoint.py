"""Training checkpoints as JSON + safetensors, written atomically, read without unpickling.

A checkpoint directory holds the model weights, the best weights so far, the
optimizer state (its tensors in safetensors, the rest in JSON), the RNG states
and the trainer's own progress, so that a killed run resumes exactly.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from firth.io.atomic import atomic_dir
from firth.io.model_dir import load_tensors, load_weights, read_json, save_tensors, write_json


def save_checkpoint(directory: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                    best_state: dict[str, torch.Tensor] | None, progress: dict) -> None:
    """Write everything a resumed run needs into `directory` (replaced atomically)."""
    tensors, meta = _split_optimizer_state(optimizer.state_dict())
    rng = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng.update({f"cuda{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    with atomic_dir(directory) as tmp:
        save_tensors(tmp / "model.safetensors", model.state_dict())
        if best_state is not None:
            save_tensors(tmp / "best.safetensors", best_state)
        save_tensors(tmp / "optimizer.safetensors", tensors)
        save_tensors(tmp / "rng.safetensors", rng)
        write_json(tmp / "optimizer.json", meta)
        write_json(tmp / "progress.json", progress)


def load_checkpoint(directory: Path, model: nn.Module, optimizer: torch.optim.Optimizer
                    ) -> tuple[dict[str, torch.Tensor] | None, dict]:
    """Restore model, optimizer and RNG states; return (best weights or None, progress)."""
    device = next(model.parameters()).device
    load_weights(model, directory / "model.safetensors")
    state = _join_optimizer_state(load_tensors(directory / "optimizer.safetensors"),
                                  read_json(directory / "optimizer.json"))
    optimizer.load_state_dict(state)
    rng = load_tensors(directory / "rng.safetensors")
    torch.set_rng_state(rng["cpu"])
    cuda_states = [rng[k] for k in sorted(rng) if k.startswith("cuda")]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    best_file = directory / "best.safetensors"
    best = ({k: v.to(device) for k, v in load_tensors(best_file).items()} if best_file.exists() else None)
    return best, read_json(directory / "progress.json")


def _split_optimizer_state(state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimizer state → (tensors keyed "param.name", everything else as JSON)."""
    tensors, scalars = {}, {}
    for param, slots in state_dict["state"].items():
        for name, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{param}.{name}"] = value
            else:
                scalars[f"{param}.{name}"] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _join_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in [*tensors.items(), *meta["scalars"].items()]:
        param, name = key.split(".", 1)
        state.setdefault(int(param), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}
