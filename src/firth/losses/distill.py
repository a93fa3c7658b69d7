"""Distillation: how far a student's sentence vectors are from a teacher's vectors of the same sentences.

Two measures (`--distill`):

- "cosine": mean over sentences of 1 - cos(student_i, teacher_i); the student's
  vector must have the teacher's width (a head of that width), and it learns
  the teacher's vector itself (as Model2Vec and sentence-transformers'
  MSE distillation do).
- "similarity": mean squared difference of the two batch cosine-similarity
  matrices, off the diagonal; any width, the student learns which sentences
  of the batch the teacher finds alike (the relational form).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from firth import registry


class Distillation(nn.Module):
    def __init__(self, measure: str = "cosine"):
        super().__init__()
        registry.check_choice("distillation measure", measure, registry.DISTILLATIONS)
        self.measure = measure

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """student [n, d], teacher [n, t] (t == d for "cosine") -> a scalar."""
        if self.measure == "cosine":
            return (1 - F.cosine_similarity(student, teacher.to(student.dtype), dim=1)).mean()
        student, teacher = F.normalize(student, dim=1), F.normalize(teacher.to(student.dtype), dim=1)
        off = ~torch.eye(len(student), dtype=torch.bool, device=student.device)
        return ((student @ student.T - teacher @ teacher.T)[off] ** 2).mean()
