"""Model cards: what a model directory holds, in words a downstream user reads first.

Every saved model directory gets `card.json` (the facts) and `README.md` (the
same facts as a page): what the model is, the data it was trained on, the
exact command or configuration, its measured scores, its size, the firth
version, and what it is for and not for. A family fills in what it knows when
it trains (the model, the counts of its data); the command line adds the data
source, the command and the test scores (`model.card_.update(...)`).
`firth info MODEL_DIR` prints the page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import firth
from firth.errors import FirthError

CARD = "card.json"
PAGE = "README.md"

# what each family is for, and where it stops (the page's last two sections)
USES = {
    "TextClassifier": (
        "Assigning one of its trained labels to a text of the kind it was trained on: topic, sentiment, "
        "intent, spam. `predict` gives the label, `predict_proba` the probability of every label.",
        "It knows only the labels it was trained on and answers with one of them for any text, however far from "
        "its training data; its scores were measured on the data named above and nowhere else. Words are split "
        "by `firth.text.segment.words`; featurizer vocabularies (TF-IDF, counts, PPMI) know only the training "
        "words, while the SGNN projection gives every word a vector."),
    "SentenceEncoder": (
        "Sentence vectors for semantic search, clustering, deduplication and as features of classifiers: "
        "`encode(texts)` gives one vector a text; compare them by cosine.",
        "Trained to put sentences of one paragraph close together, on the corpora named above; how well that "
        "carries to other text is unmeasured. Texts are cut at `max_words` words (256 by default). Vectors of "
        "different models are not comparable."),
    "Word2Vec": (
        "Word vectors for similar words, analogies and features: `wv_.most_similar`, `wv_.analogy`, "
        "`wv_.similarity`.",
        "Words seen fewer than `min_count` times in the corpus have no vector (unless trained on projections, "
        "which give any word one); the vectors reflect the co-occurrences of the corpus named above, its topics "
        "and biases included."),
    "ExportedTextClassifier": (
        "The text classifier above, exported to run without torch: `firth.runtime.load(directory).predict(texts)` "
        "with numpy and onnxruntime alone.",
        "The limits of the classifier it was exported from; with int8 weights its probabilities differ slightly "
        "from the full model's (benchmarks/RESULTS.md measures by how much)."),
    "ExportedSentenceEncoder": (
        "The sentence encoder above, exported to run without torch: `firth.runtime.load(directory).encode(texts)` "
        "with numpy and onnxruntime alone.",
        "The limits of the encoder it was exported from; texts are cut at 256 words; with int8 weights its "
        "vectors differ slightly from the full model's."),
    "KeyedVectors": (
        "Word vectors for similar words, analogies and features: `most_similar`, `analogy`, `similarity`.",
        "Only the words listed have vectors (unless they carry a projection encoder); what they encode comes "
        "from the corpus they were trained on."),
}


def new_card(summary: str, data: dict[str, Any]) -> dict[str, Any]:
    """A card a family starts from when it trains: one line on the model, and counts of its training data."""
    return {"summary": summary, "data": data, "command": None, "metrics": {}}


def write_card(directory: Path, kind: str, card: dict[str, Any], config: dict[str, Any]) -> None:
    """Write card.json and README.md into a model directory being written (its other files already there)."""
    size = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
    facts = {**card, "type": kind, "firth_version": firth.__version__, "size_bytes": size}
    (directory / CARD).write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (directory / PAGE).write_text(render(facts, config), encoding="utf-8")


def read_card(directory: str | os.PathLike) -> dict[str, Any] | None:
    """The card.json of a model directory, or None for a directory written before cards."""
    path = Path(directory) / CARD
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise FirthError(f"{path}: is not valid JSON ({e}).") from None
    if not isinstance(card, dict):
        raise FirthError(f"{path}: is not a JSON object.")
    return {key: card.get(key, empty) for key, empty in new_card("", {}).items()}


def page(directory: str | os.PathLike) -> str:
    """The README.md of a model directory; a directory without one is a FirthError."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FirthError(f"{directory}: no such model directory.")
    if not (directory / PAGE).is_file():
        raise FirthError(f"{directory}: has no model card ({PAGE}); it was written by a firth older than model "
                         "cards, so load and save it again to add one.")
    return (directory / PAGE).read_text(encoding="utf-8")


def render(facts: dict[str, Any], config: dict[str, Any]) -> str:
    """The model card as Markdown."""
    use, limits = USES[facts["type"]]
    lines = [f"# {facts['type']}: {facts['summary']}", "",
             f"Written by firth {facts['firth_version']}; {facts['size_bytes'] / 1e6:,.1f} MB on disk "
             "(JSON and safetensors: loading it runs no code). Load it with `firth.load(directory)`.", "",
             "## Training data", ""]
    lines += [f"- {key}: {_value(value)}" for key, value in facts["data"].items()] or ["- not recorded"]
    lines += ["", "## How it was made", ""]
    if facts.get("command"):
        lines += ["```", facts["command"], "```", ""]
    lines += ["Configuration (`config.json`):", ""]
    lines += [f"- {key}: {_value(value)}" for key, value in config.items()]
    lines += ["", "## Scores", ""]
    lines += [f"- {name}: {_value(value)}" for name, value in facts["metrics"].items()] or \
        ["- none measured when it was saved"]
    lines += ["", "## Intended use", "", use, "", "## Limits", "", limits, ""]
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(_value, value)) if len(value) <= 20 else f"{len(value):,} items"
    return str(value)
