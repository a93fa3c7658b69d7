"""Word-vector benchmarks: analogy accuracy and correlation with human similarity scores.

Both follow gensim 4's `KeyedVectors.evaluate_word_analogies` and
`evaluate_word_pairs` exactly, so that their figures can be compared:

- Only the first `restrict_vocab` words of the vectors count as known (the
  most frequent ones, when the vectors are sorted by count, as trained vectors are).
- With `case_insensitive`, the benchmark's and the vectors' words are compared
  upper-cased, and of several case variants of a word the first (most
  frequent) one stands for all.
- A question or pair with an unknown word is skipped, or, with
  `dummy4unknown`, counted as wrong (analogies) or given similarity 0 (pairs).
  The returned `oov_ratio` is the percentage of such questions or pairs.
- Analogy "a : b :: c : ?" is answered by the best of the known words other
  than a, b and c (by 3CosAdd, gensim's only method, or 3CosMul). As in gensim,
  the candidates are the five best words that are not a, b or c themselves,
  and the first of them that is not a case variant of a, b or c is the answer.

`vectors` is anything with `index_to_key` and `unit_vectors`, such as firth.vectors.KeyedVectors
(this module does not import it: the vectors call these functions, never the reverse). Questions are scored
in batches with one matrix product each, where gensim loops over them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

import numpy as np
from scipy import stats

from firth.data.loaders import Analogy, WordPair, read_analogies, read_word_pairs
from firth.errors import FirthError
from firth.registry import ANALOGY_METHODS, check_choice

class WordVectors(Protocol):
    """What the evaluations read of word vectors (firth.vectors.KeyedVectors has it)."""

    index_to_key: list[str]
    unit_vectors: np.ndarray


CANDIDATES = 5  # gensim looks at the 5 best words for one that is not an input
BATCH = 512  # questions scored together


class AnalogyResult(NamedTuple):
    score: float  # accuracy over the questions evaluated
    sections: list[dict]  # per section: {"section", "correct", "incorrect"}; "Total accuracy" last
    oov_ratio: float  # percent of the questions with a word outside the known words


class WordPairResult(NamedTuple):
    pearson: tuple[float, float]  # (r, p-value)
    spearman: tuple[float, float]  # (rho, p-value)
    oov_ratio: float  # percent of the pairs with a word outside the known words


def known_words(vectors: WordVectors, restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """The benchmark-facing vocabulary: (upper-cased) word -> row, first variant winning."""
    keys = vectors.index_to_key[:restrict_vocab]
    fold = str.upper if case_insensitive else str
    known: dict[str, int] = {}
    for i, word in enumerate(keys):
        known.setdefault(fold(word), i)
    return known


def evaluate_word_analogies(vectors: WordVectors, analogies: str | os.PathLike | Sequence[Analogy],
                            restrict_vocab: int = 300_000, case_insensitive: bool = True,
                            dummy4unknown: bool = False, method: str = "3cosadd") -> AnalogyResult:
    """Accuracy on analogy questions (a file in the word2vec `questions-words.txt` format, or Analogy tuples)."""
    questions = _read(analogies, read_analogies)
    known = known_words(vectors, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else str
    folded = [(q.section, *map(fold, (q.a, q.b, q.c, q.expected))) for q in questions]
    answerable = [i for i, q in enumerate(folded) if all(w in known for w in q[1:])]
    predicted = _answer(vectors, known, fold, [folded[i][1:4] for i in answerable], restrict_vocab, method)
    answers = dict(zip(answerable, predicted))

    sections: dict[str, dict] = {}
    for i, (section, a, b, c, expected) in enumerate(folded):
        entry = sections.setdefault(section, {"section": section, "correct": [], "incorrect": []})
        if i in answers or dummy4unknown:
            entry["correct" if answers.get(i) == expected else "incorrect"].append((a, b, c, expected))
    total = {"section": "Total accuracy",
             "correct": [q for s in sections.values() for q in s["correct"]],
             "incorrect": [q for s in sections.values() for q in s["incorrect"]]}
    oov_ratio = 100.0 * (len(folded) - len(answerable)) / max(len(folded), 1)
    return AnalogyResult(_accuracy(total), [*sections.values(), total], oov_ratio)


def _answer(vectors: WordVectors, known: dict[str, int], fold, questions: list[tuple[str, str, str]],
            restrict_vocab: int, method: str) -> list[str]:
    """The (folded) answer to each question (a, b, c), as gensim picks it."""
    rows = vectors.unit_vectors[:restrict_vocab]
    answers = []
    for start in range(0, len(questions), BATCH):
        batch = questions[start:start + BATCH]
        index = np.array([[known[w] for w in q] for q in batch], dtype=np.int64).reshape(-1, 3)
        units = vectors.unit_vectors[index]  # [q, 3, D]: a, b, c
        scores = analogy_scores(rows, units[:, 1:], units[:, :1], method)
        for q, row_scores, inputs in zip(batch, scores, index.tolist()):
            candidates = top_indices(row_scores, CANDIDATES, inputs)
            folded = [fold(vectors.index_to_key[i]) for i in candidates]
            answers.append(next((w for w in folded if w not in q), folded[-1] if folded else None))
    return answers


def _accuracy(section: dict) -> float:
    answered = len(section["correct"]) + len(section["incorrect"])
    return len(section["correct"]) / answered if answered else 0.0


def evaluate_word_pairs(vectors: WordVectors, pairs: str | os.PathLike | Sequence[WordPair],
                        restrict_vocab: int = 300_000, case_insensitive: bool = True,
                        dummy4unknown: bool = False) -> WordPairResult:
    """Pearson and Spearman correlation between cosine similarities and human scores (file or WordPair tuples)."""
    pairs = _read(pairs, read_word_pairs)
    known = known_words(vectors, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else str
    gold, model, oov = [], [], 0
    for w1, w2, score in pairs:
        i, j = known.get(fold(w1)), known.get(fold(w2))
        if i is None or j is None:
            oov += 1
            if dummy4unknown:
                gold.append(score)
                model.append(0.0)
            continue
        gold.append(score)
        model.append(float(vectors.unit_vectors[i] @ vectors.unit_vectors[j]))
    if not gold:
        raise FirthError("no word pair has both words among the known words of the vectors.")
    oov_ratio = 100.0 * oov / (len(gold) if dummy4unknown else len(gold) + oov)
    pearson, spearman = stats.pearsonr(gold, model), stats.spearmanr(gold, model)
    return WordPairResult((float(pearson[0]), float(pearson[1])), (float(spearman[0]), float(spearman[1])),
                          oov_ratio)


def _read(source, reader) -> list:
    """Benchmark items from a file path, or the given items themselves."""
    if not isinstance(source, (str, os.PathLike)):
        return list(source)
    if not os.path.isfile(source):
        raise FirthError(f"{source}: no such file.")
    try:
        return reader(source)
    except (TypeError, ValueError) as e:
        raise FirthError(f"{source}: is not a benchmark file of the expected format ({e}).") from None


# --- Ranking words ------------------------------------------------------------


def analogy_scores(rows: np.ndarray, positive: np.ndarray, negative: np.ndarray, method: str) -> np.ndarray:
    """Scores [q, R] of unit `rows` [R, D] for q queries of unit positive [q, P, D] and negative [q, N, D] vectors.

    3CosAdd: cos(row, unit(sum(positive) - sum(negative))). 3CosMul: prod over
    positives of (1 + cos) / 2, divided by the same product over negatives + 1e-6.
    """
    check_choice("analogy method", method, ANALOGY_METHODS)
    if method == "3cosadd":
        mean = positive.sum(1) - negative.sum(1)
        mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
        return mean.astype(np.float32) @ rows.T
    return _shifted_cos(positive, rows).prod(1) / (_shifted_cos(negative, rows).prod(1) + 1e-6)


def _shifted_cos(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(1 + cos) / 2 of each query vector [q, k, D] with each row: [q, k, R]."""
    return (1 + np.einsum("qkd,rd->qkr", vectors.astype(np.float32), rows)) / 2


def top_indices(scores: np.ndarray, topn: int, exclude: Iterable[int] = ()) -> list[int]:
    """Indices of the `topn` highest scores, best first, skipping `exclude`."""
    exclude = set(exclude)
    k = min(len(scores), topn + len(exclude))
    if k <= 0:
        return []
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [int(i) for i in best if i not in exclude][:topn]
