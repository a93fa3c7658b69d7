"""Evaluating sentence vectors: paragraph retrieval, linear probes and block-overlap scores.

Paragraph retrieval (`heldout_split`, `retrieval_scores`): paragraphs of the
registry corpora are held out of every encoder's training; from each, one
sentence is the query and another the target, and a query must find its own
target among all targets by cosine similarity. The probe (`probe_accuracy`)
trains a logistic regression on frozen vectors of a labelled registry
dataset. `block_overlap_scores` are the 2018 notebook's heatmap scores: how
well the thresholded similarity matrix of grouped sentences matches the
block-diagonal "same group" matrix.

Every `embed` argument is a function from a list of texts to one row per
text: a numpy array, or a scipy sparse matrix (TF-IDF).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, normalize

from firth.data import load, paragraphs
from firth.data.splits import _rank, stratified_split
from firth.errors import FirthError
from firth.evaluate.evaluators import Evaluator
from firth.text.segment import usable_sentences

Embed = Callable[[list[str]], np.ndarray | sp.spmatrix]
CORPORA = ("wiki-sample", "python-docs", "bbc-paragraphs")

# --- The held-out retrieval set ----------------------------------------------


class RetrievalItem(NamedTuple):
    """One held-out paragraph: where it is, and its query and target sentences."""

    corpus: str
    index: int
    query: str
    target: str


@dataclass(frozen=True)
class HeldOutSplit:
    """The held-out paragraphs: `items` to retrieve, `keys` to leave out of training.

    `keys` holds (corpus, paragraph index) for every held-out paragraph and
    every other copy of its text in the corpora, so that a training stream
    drops them with one set look-up per paragraph and no twin leaks in.
    """

    items: list[RetrievalItem]
    keys: frozenset[tuple[str, int]]

    @property
    def queries(self) -> list[str]:
        return [item.query for item in self.items]

    @property
    def targets(self) -> list[str]:
        return [item.target for item in self.items]


def heldout_split(corpora: Sequence[str] = CORPORA, n: int = 1000, seed: int = 0,
                  min_words: int = 3) -> HeldOutSplit:
    """The `n` paragraphs held out of `corpora` (registry names or files) for retrieval.

    Every paragraph is ranked by `sha256(f"{seed}:{corpus}:{text}")`, over all
    corpora together (so each corpus contributes in proportion to its size).
    Going up that ranking, a paragraph is held out when it has at least two
    sentences of `min_words` or more words and its text is not already held
    out, until there are `n`. Its query and target are the two of those
    sentences that rank first by `sha256(f"{seed}:{corpus}:{text}:{sentence_position}")`
    (positions among those sentences). Every other copy of a held-out text
    is left out of training too (see `HeldOutSplit.keys`). The split depends
    only on the seed and the paragraphs' texts, never on a library's random
    generator nor on where a paragraph sits: a new release of a source that
    adds or edits a few paragraphs moves only those (ranked by position, a
    Debian security update of python3.11-doc that added 16 lines to four
    files reshuffled most of the split, and models trained on the old split
    met the new one's paragraphs in training).
    """
    candidates: list[tuple[bytes, str, int, str]] = []
    where: dict[str, list[tuple[str, int]]] = {}
    for corpus in corpora:
        for index, paragraph in enumerate(paragraphs(corpus)):
            candidates.append((_rank(seed, f"{corpus}:{paragraph.text}"), corpus, index, paragraph.text))
            where.setdefault(paragraph.text, []).append((corpus, index))
    items: list[RetrievalItem] = []
    held_texts: set[str] = set()
    for _, corpus, index, text in sorted(candidates):
        if len(items) == n:
            break
        sentences = usable_sentences(text, min_words)
        if len(sentences) < 2 or text in held_texts:
            continue
        items.append(RetrievalItem(corpus, index, *_query_and_target(sentences, f"{corpus}:{text}", seed)))
        held_texts.add(text)
    if len(items) < n:
        raise FirthError(f"the corpora {', '.join(corpora)} have only {len(items)} paragraphs of two or "
                         f"more sentences, fewer than the {n} to hold out.")
    keys = frozenset(key for text in held_texts for key in where[text])
    return HeldOutSplit(items, keys)


def _query_and_target(sentences: list[str], key: str, seed: int) -> tuple[str, str]:
    """The two sentences that rank first by `sha256(f"{seed}:{key}:{position}")`."""
    order = sorted(range(len(sentences)), key=lambda i: _rank(seed, f"{key}:{i}"))
    return sentences[order[0]], sentences[order[1]]


# --- Retrieval ---------------------------------------------------------------


def _unit_rows(vectors: np.ndarray | sp.spmatrix) -> np.ndarray | sp.csr_matrix:
    """Rows scaled to unit length; an all-zero row stays zero (cosine 0 with everything)."""
    return normalize(sp.csr_matrix(vectors) if sp.issparse(vectors) else np.asarray(vectors, dtype=np.float64))


def cosine_matrix(a: np.ndarray | sp.spmatrix, b: np.ndarray | sp.spmatrix) -> np.ndarray:
    """Dense [len(a), len(b)] cosine similarities of the rows of `a` and `b`."""
    product = _unit_rows(a) @ _unit_rows(b).T
    return product.toarray() if sp.issparse(product) else np.asarray(product)


def target_ranks(similarity: np.ndarray) -> np.ndarray:
    """1-based rank of each row's own target (the diagonal) among all targets (the columns).

    Ties are pessimistic: every other target scoring as high as the right one
    ranks ahead of it, so a constant embedding gets the worst rank, not the best.
    """
    own = np.diag(similarity)
    return (similarity >= own[:, None]).sum(axis=1)


def retrieval_scores(embed: Embed, queries: Sequence[str], targets: Sequence[str]) -> dict[str, float]:
    """Recall@1, Recall@5 and mean reciprocal rank of query i finding target i among all targets by cosine."""
    if len(queries) != len(targets) or not queries:
        raise FirthError(f"retrieval needs as many targets as queries, and some; got {len(queries)} "
                         f"queries and {len(targets)} targets.")
    ranks = target_ranks(cosine_matrix(embed(list(queries)), embed(list(targets))))
    return {"R1": float(np.mean(ranks <= 1)), "R5": float(np.mean(ranks <= 5)), "MRR": float(np.mean(1.0 / ranks))}


def document_scores(embed: Embed, texts: Sequence[str], labels: Sequence, k: int = 10) -> dict[str, float]:
    """Documents finding documents of their own class among all the others, by cosine of their vectors:
    mean reciprocal rank of the first one (ties pessimistic, as in target_ranks) and precision@k."""
    labels = np.asarray(labels)
    if len(texts) != len(labels) or len(texts) <= k:
        raise FirthError(f"document retrieval needs a label per text and more than {k} texts; got {len(texts)} "
                         f"texts and {len(labels)} labels.")
    vectors = embed(list(texts))
    similarity = cosine_matrix(vectors, vectors)
    np.fill_diagonal(similarity, -np.inf)  # a document never finds itself
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    best_same = np.where(same, similarity, -np.inf).max(axis=1)
    first = (np.where(same, -np.inf, similarity) >= best_same[:, None]).sum(axis=1) + 1
    top = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return {"doc_MRR": float(np.mean(1.0 / first)),
            f"doc_P{k}": float(np.mean(np.take_along_axis(same, top, axis=1).mean(axis=1)))}


# --- Linear probe ------------------------------------------------------------


class RetrievalEvaluator(Evaluator):
    """Paragraph retrieval on held-out paragraphs: each first sentence finds its second among all seconds.

    Called with a model that has `encode(texts, batch_size=...)` (a
    SentenceEncoderNet); its primary metric is MRR, higher is better.
    """

    primary_metric = "MRR"
    greater_is_better = True

    def __init__(self, paragraphs: Sequence[Sequence[str]], batch_size: int = 128):
        self.queries = [p[0] for p in paragraphs]
        self.targets = [p[1] for p in paragraphs]
        self.batch_size = batch_size

    def __call__(self, model) -> dict[str, float]:
        return retrieval_scores(lambda texts: model.encode(texts, batch_size=self.batch_size),
                                self.queries, self.targets)


def probe_accuracy(embed: Embed, dataset: str, seed: int = 0, max_train: int | None = None) -> float:
    """Test accuracy of a logistic regression on frozen vectors of a registry classification dataset.

    The regression (L2, C=1, lbfgs, up to 5,000 iterations) trains on the
    dataset's fixed train split and is scored on its test split. Dense vectors
    are standardized first, since encoders' scales differ widely; sparse ones
    (TF-IDF, rows already of unit length) are given as they are. Each text is
    one input to `embed`, however long: a BBC article is embedded whole, as
    one "sentence", and any truncation is the encoder's own. `max_train`
    keeps a stratified, seeded subset of the training split (see
    `firth.data.splits.stratified_split`) for quick runs.
    """
    data = load(dataset)
    texts, labels = data.train.texts, data.train.labels
    if max_train is not None and max_train < len(texts):
        _, kept = stratified_split(labels, test_fraction=max_train / len(texts), seed=seed)
        texts, labels = [texts[i] for i in kept], [labels[i] for i in kept]
    x_train, x_test = embed(list(texts)), embed(list(data.test.texts))
    steps = [] if sp.issparse(x_train) else [StandardScaler()]
    probe = make_pipeline(*steps, LogisticRegression(max_iter=5000, random_state=seed))
    probe.fit(x_train, labels)
    return float(probe.score(x_test, data.test.labels))


# --- The 2018 notebook's heatmap scores ---------------------------------------


def block_matrix(groups: Iterable) -> np.ndarray:
    """The expected similarity matrix: 1 where two items share a group, else 0."""
    labels = np.asarray(list(groups))
    return (labels[:, None] == labels[None, :]).astype(np.float32)


def block_overlap_scores(similarity: np.ndarray, groups: Iterable) -> dict[str, float]:
    """Jaccard, F1 and accuracy of the thresholded similarity matrix against the block-diagonal one.

    As in the 2018 notebook, a pair is predicted similar when its score is
    above the matrix's mean plus one (population) standard deviation, and
    every cell counts, the diagonal included. Jaccard is |predicted and
    expected| / |predicted or expected| over the similar pairs (the notebook's
    `jaccard_similarity_score` on flat binary vectors equalled accuracy instead).
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    expected = block_matrix(groups).astype(bool)
    if similarity.shape != expected.shape or not len(expected):
        raise FirthError(f"the similarity matrix is {'x'.join(map(str, similarity.shape))} but there are "
                         f"{len(expected)} group labels; give one label per row, and some.")
    predicted = similarity > similarity.mean() + similarity.std()
    both = np.sum(predicted & expected)  # the diagonal is expected, so neither denominator is 0
    return {"jaccard": float(both / np.sum(predicted | expected)),
            "f1": float(2 * both / (np.sum(predicted) + np.sum(expected))),
            "accuracy": float(np.mean(predicted == expected))}
