"""SGNN projection: firth vs the 2018 scikit-learn pipeline, side by side on the same words.

    python benchmarks/projection.py [--quick]

(a) the 2018 reproduction: CountVectorizer(char 1-3, word-boundary markers, the
    fixed synthetic n-gram vocabulary of that project) + SparseRandomProjection(1120,
    random_state=42); (b) firth's Projection with a warm word cache; (c) firth with
    the cache disabled (cache_size=0; distinct words of each batch are still hashed
    once). Each speed is the best of 3 passes. All three transform the same words (BBC paragraphs + wiki-sample from
    the registry, lowercased) in batches of 10,000 words. Quality: Spearman, over
    20,000 random pairs of distinct corpus words, between the cosine of the words'
    raw char 1-3-gram count vectors and the cosine of their projections.
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import string
import time

import numpy as np
import sklearn
import torch
from scipy.stats import spearmanr
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.random_projection import SparseRandomProjection

import firth.data
from firth.features.projection import Projection
from firth.text.segment import words as tokenize

BATCH = 10_000
PAIRS = 20_000
DIM = 1120


def corpus_words(limit: int | None) -> list[str]:
    out: list[str] = []
    for name in ("bbc-paragraphs", "wiki-sample"):
        for paragraph in firth.data.load(name):
            out.extend(tokenize(paragraph.text))
            if limit and len(out) >= limit:
                return out[:limit]
    return out


def synthetic_2018_vocabulary() -> str:
    """The 2018 project's fixed n-gram 'document' its CountVectorizer was fitted on."""
    grams = [" "]
    less_printable = sorted(set(string.printable) - set(string.digits) - {" "})
    for a in less_printable:
        grams.append(a)
        for b in less_printable:
            grams.append(a + b)
            for c in string.ascii_lowercase:
                grams.append(a + c + b)
    for a in string.digits:
        grams.append(a)
        for b in string.digits:
            grams.append(a + b)
    return " ".join(grams)


def sklearn_2018_pipeline():
    counts = CountVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=True)
    counts.fit([synthetic_2018_vocabulary()])
    projection = SparseRandomProjection(n_components=DIM, random_state=42)
    projection.fit(counts.transform([" a ", " b "]))
    return make_pipeline(counts, projection)


def mark(words: list[str]) -> list[str]:
    return [f" {w} " for w in words]  # the 2018 word-boundary markers


def words_per_second(transform, words: list[str], repeats: int = 3) -> float:
    """Best of `repeats` passes over `words` (the machine is noisy; every method gets the same)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, len(words), BATCH):
            transform(words[i:i + BATCH])
        best = min(best, time.perf_counter() - start)
    return len(words) / best


def cosines(vectors, pairs: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors.todense() if hasattr(vectors, "todense") else vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1)
    norms[norms == 0] = 1.0
    a, b = v[pairs[:, 0]], v[pairs[:, 1]]
    return (a * b).sum(1) / (norms[pairs[:, 0]] * norms[pairs[:, 1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300k words instead of the whole corpus")
    args = parser.parse_args()

    words = corpus_words(300_000 if args.quick else None)
    vocabulary = sorted(set(words))
    print(f"{len(words):,} words, {len(vocabulary):,} distinct; torch {torch.__version__}, "
          f"scikit-learn {sklearn.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")

    pipeline = sklearn_2018_pipeline()
    print(f"(a) 2018 pipeline: {len(pipeline[0].vocabulary_):,} n-gram features -> {DIM}")
    sk = words_per_second(lambda batch: pipeline.transform(mark(batch)), words)
    print(f"(a) scikit-learn 2018 pipeline: {sk:,.0f} words/s")

    warm = Projection(cache_size=50_000)
    words_per_second(warm.project_words, words, repeats=1)  # fills the cache
    hit_rate = float(np.mean([w in warm._cache_ids for w in words]))
    fw = words_per_second(warm.project_words, words)
    print(f"(b) firth, warm cache ({len(warm._cache_ids):,} words, {hit_rate:.1%} of tokens hit): {fw:,.0f} words/s")
    fw_float = words_per_second(lambda batch: warm.project_words(batch).float(), words)
    print(f"    same, converted to float32 for a model: {fw_float:,.0f} words/s")

    cold = Projection(cache_size=0)
    fc = words_per_second(cold.project_words, words)
    print(f"(c) firth, no cache: {fc:,.0f} words/s")

    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(vocabulary), size=(PAIRS * 2, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]][:PAIRS]
    used = np.unique(pairs)
    sample = [vocabulary[i] for i in used]
    pairs = np.searchsorted(used, pairs)
    raw = CountVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=True).fit_transform(mark(sample))
    reference = cosines(raw, pairs)
    spearman_sk = spearmanr(reference, cosines(pipeline.transform(mark(sample)), pairs)).statistic
    spearman = {mode: spearmanr(reference, cosines(Projection(mode=mode, cache_size=0).project_words(sample)
                                                    .float().numpy(), pairs)).statistic
                for mode in ("float", "ternary", "binary")}
    print(f"Spearman vs raw n-gram cosine over {len(pairs):,} pairs: scikit-learn {spearman_sk:.4f}, "
          + ", ".join(f"firth {m} {s:.4f}" for m, s in spearman.items()))

    print(json.dumps({
        "words": len(words), "words_per_s_sklearn": round(sk), "words_per_s_firth": round(fw),
        "words_per_s_firth_nocache": round(fc), "words_per_s_firth_float32": round(fw_float),
        "speedup": round(fw / sk, 2), "speedup_nocache": round(fc / sk, 2), "cache_hit_rate": round(hit_rate, 4),
        "spearman_sklearn": round(float(spearman_sk), 4), "spearman_firth": round(float(spearman["float"]), 4),
        "spearman_firth_ternary": round(float(spearman["ternary"]), 4),
        "spearman_firth_binary": round(float(spearman["binary"]), 4),
    }))


if __name__ == "__main__":
    main()
