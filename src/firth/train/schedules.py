"""Learning-rate schedules as pure functions of the step: lr = base_lr * factor(step, total_steps, warmup).

A schedule with no state of its own needs nothing in a checkpoint but the step.
Steps count from 1 (the first optimizer step). Each is registered by name in
`firth.registry.SCHEDULES`.
"""

from __future__ import annotations

import math

from firth import registry


def _warming(step: int, warmup: int) -> bool:
    return step <= warmup


def constant(step: int, total_steps: int, warmup: int = 0) -> float:
    """Linear warm-up to 1, then 1."""
    return step / warmup if _warming(step, warmup) else 1.0


def linear(step: int, total_steps: int, warmup: int = 0) -> float:
    """Linear warm-up to 1, then linear decay to 0 at the last step."""
    if _warming(step, warmup):
        return step / warmup
    return max(0.0, 1.0 - (step - warmup) / max(total_steps - warmup, 1))


def cosine(step: int, total_steps: int, warmup: int = 0) -> float:
    """Linear warm-up to 1, then half a cosine down to 0 at the last step."""
    if _warming(step, warmup):
        return step / warmup
    progress = (step - warmup) / max(total_steps - warmup, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def noam(step: int, total_steps: int, warmup: int = 0) -> float:
    """"Attention Is All You Need": d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), rescaled to peak at 1.

    That is min(step / warmup, sqrt(warmup / step)), the peak at step = warmup.
    """
    warmup = max(warmup, 1)
    return min(step / warmup, math.sqrt(warmup / step))


def lr_factor(schedule: str, step: int, total_steps: int, warmup: int = 0) -> float:
    """The multiplier of the base learning rate at optimizer step `step` (1-based) under `schedule`."""
    return registry.resolve(registry.SCHEDULES, schedule, "schedule")(step, total_steps, warmup)
