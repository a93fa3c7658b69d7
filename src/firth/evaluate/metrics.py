"""Classification metrics (thin, named wrappers over scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score


def classification_scores(y_true: Sequence, y_pred: Sequence) -> dict[str, float]:
    """Accuracy and macro-averaged F1."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def per_class_report(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> str:
    """Precision, recall and F1 per class, as text."""
    return classification_report(y_true, y_pred, labels=list(labels), digits=3, zero_division=0)


def confusion(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> np.ndarray:
    """Confusion counts: rows are true classes, columns predicted, in `labels` order."""
    return confusion_matrix(y_true, y_pred, labels=list(labels))
