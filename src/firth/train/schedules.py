"""Learning-rate schedules as pure functions of the step: lr = base_lr * factor(step).

A schedule with no state of its own needs nothing in a checkpoint but the step.
Steps count from 1 (the first optimizer step).

- constant: 1 after warm-up.
- linear:   linear warm-up to 1, then linear decay to 0 at the last step.
- cosine:   linear warm-up to 1, then half a cosine down to 0 at the last step.
- noam:     "Attention Is All You Need": d_model^-0.5 * min(step^-0.5, step * warmup^-1.5),
            rescaled so that the peak (at step = warmup) is 1, i.e.
            min(step / warmup, sqrt(warmup / step)).
"""

from __future__ import annotations

import math

from firth.errors import FirthError

SCHEDULES = ("constant", "linear", "cosine", "noam")


def lr_factor(schedule: str, step: int, total_steps: int, warmup: int = 0) -> float:
    """The multiplier of the base learning rate at optimizer step `step` (1-based)."""
    if schedule not in SCHEDULES:
        raise FirthError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}.")
    if schedule == "noam":
        warmup = max(warmup, 1)
        return min(step / warmup, math.sqrt(warmup / step))
    if step <= warmup:
        return step / warmup
    if schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(total_steps - warmup, 1)
    if schedule == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
