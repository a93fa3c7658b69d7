"""PNG plots a person can open: learning curves, confusion matrices, word maps."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from firth.io.atomic import atomic_path  # noqa: E402


def _save(fig, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_learning_curves(history: Sequence[dict], path: str | os.PathLike) -> None:
    """Loss, and accuracy (or another validation metric, such as MRR), train and validation, side by side.

    The x axis is the epoch, or the step when there are several evaluations an epoch.
    """
    epochs = [h["epoch"] for h in history]
    x_name = "epoch" if len(set(epochs)) == len(epochs) else "step"
    xs = [h[x_name] for h in history]
    other = "acc" if any("train_acc" in h or "val_acc" in h for h in history) else next(
        (k[len("val_"):] for h in history for k in h if k.startswith("val_") and k != "val_loss"), None)
    metrics = ["loss"] + ([other] if other else [])
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for split, style in (("train", "-o"), ("val", "-s")):
            values = [h.get(f"{split}_{metric}") for h in history]
            if any(v is not None for v in values):
                ax.plot(xs, values, style, label=split, markersize=3)
        ax.set_xlabel(x_name)
        ax.set_ylabel("accuracy" if metric == "acc" else metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("learning curves")
    _save(fig, path)


def plot_confusion(matrix: np.ndarray, labels: Sequence[str], path: str | os.PathLike) -> None:
    """Confusion matrix with counts in the cells (rows: true class, columns: predicted)."""
    size = max(4.0, 0.5 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > threshold else "black", fontsize=8)
    fig.colorbar(image, ax=ax)
    _save(fig, path)


def word_map_coordinates(vectors: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """2-D coordinates of the rows of `vectors` by t-SNE (cosine, PCA-initialized) or PCA."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if method == "pca" or len(vectors) < 4:
        return PCA(n_components=2, random_state=seed).fit_transform(vectors)
    if method != "tsne":
        raise ValueError(f"unknown map method {method!r}; use tsne or pca.")
    perplexity = min(30.0, (len(vectors) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca",
                random_state=seed).fit_transform(vectors)


def plot_word_map(words: Sequence[str], points: np.ndarray, path: str | os.PathLike, title: str = "") -> None:
    """Each word at its 2-D point, labelled; the canvas grows with the number of words so labels stay legible."""
    side = float(np.clip(np.sqrt(len(words)) * 1.1, 6, 24))
    fig, ax = plt.subplots(figsize=(side, side))
    ax.scatter(points[:, 0], points[:, 1], s=6, color="tab:blue", alpha=0.6)
    for word, (x, y) in zip(words, points):
        ax.annotate(word, (x, y), xytext=(2, 2), textcoords="offset points", fontsize=8, alpha=0.85)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    _save(fig, path)


def plot_similarity_heatmap(similarity: np.ndarray, expected: np.ndarray, labels: Sequence[str],
                            path: str | os.PathLike, max_label: int = 40) -> None:
    """The predicted similarity matrix beside the expected block-diagonal one, rows and columns labelled.

    Labels (sentences, say) are cut to `max_label` characters and shown only
    up to 60 rows, beyond which they would overlap.
    """
    n = len(labels)
    side = float(np.clip(0.3 * n + 3, 5, 14))
    fig, axes = plt.subplots(1, 2, figsize=(2 * side + 2, side))
    short = [text if len(text) <= max_label else text[:max_label - 1] + "…" for text in labels]
    for ax, matrix, title in zip(axes, (similarity, expected), ("predicted similarity", "expected (same group)")):
        image = ax.imshow(matrix, cmap="viridis")
        ax.set_title(title)
        if n <= 60:
            ax.set_xticks(range(n), short, rotation=90, fontsize=7)
            ax.set_yticks(range(n), short if ax is axes[0] else [], fontsize=7)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    _save(fig, path)


def plot_trials(records: Sequence, metric: str, path: str | os.PathLike) -> None:
    """A search's trials in order: each trial's best validation score (completed: dots, one colour a
    family; stopped early: crosses) and the best so far."""
    fig, ax = plt.subplots(figsize=(7, 4))
    families = sorted({r.params.get("family", "") for r in records})
    colours = dict(zip(families, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4))
    for family in families:
        for state, marker in (("complete", "o"), ("pruned", "x")):
            shown = [r for r in records if r.params.get("family", "") == family and r.state == state
                     and r.score is not None]
            if shown:
                ax.scatter([r.number for r in shown], [r.score for r in shown], marker=marker,
                           color=colours[family], label=f"{family} ({'stopped early' if state == 'pruned' else state})")
    complete = sorted((r.number, r.score) for r in records if r.state == "complete" and r.score is not None)
    if complete:
        ax.step([n for n, _ in complete], np.maximum.accumulate([s for _, s in complete]), where="post",
                color="black", linewidth=1, label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"validation {metric}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle("hyper-parameter search")
    _save(fig, path)
