"""word2vec skip-gram: gensim vs firth's fast model, side by side on the same tokens.

    python benchmarks/word2vec.py [--quick] [--threads 2] [--epochs 5] [--seed 1] [--seeds 1]

The corpus is the registry's wiki-sample + bbc-paragraphs + python-docs, one
token list per paragraph (`firth.text.segment.words`, lowercased), tokenized
once and given to both. Both train skip-gram with negative sampling on the
same hyperparameters: dim 100, window 5, negative 5, sample 1e-3, min_count 5,
lr 0.025 -> 0.0001, `--threads` worker threads (gensim `workers`, firth
`workers`), 5 epochs (`--quick`: 1). Speed is raw corpus words x epochs / wall
seconds of the whole fit (vocabulary and training: gensim's `Word2Vec(...)`,
firth's `Word2Vec(...).fit`); the training-only figure is printed too.
Quality: analogy accuracy on the Google questions (restrict_vocab 30,000) and
Spearman on WordSim-353 and SimLex-999, each with its out-of-vocabulary rate,
all computed by firth's evaluator. As a check of that evaluator, gensim's
vectors are also scored by gensim's own evaluator and both are printed.
With `--seeds N` each library trains N times (seeds seed..seed+N-1, the
two libraries alternating) and every figure is the mean over the runs, its standard deviation
beside it (`*_sd`): the quality figures move by about 0.01 from seed to seed.
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import gensim
import numpy as np
import torch
from gensim.models import Word2Vec as GensimWord2Vec

import firth
import firth.data
from firth.data.registry import get, spec
from firth.models.word2vec import Word2Vec
from firth.text.segment import words as tokenize
from firth.vectors import KeyedVectors

CORPORA = ("wiki-sample", "bbc-paragraphs", "python-docs")
PARAMS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, lr=0.025, min_lr=1e-4)
RESTRICT_VOCAB = 30_000


def benchmark_file(name: str) -> Path:
    return get(name) / Path(spec(name).path).name


def corpus() -> list[list[str]]:
    sentences = []
    for name in CORPORA:
        for paragraph in firth.data.load(name):
            tokens = tokenize(paragraph.text)
            if tokens:
                sentences.append(tokens)
    return sentences


def train_gensim(sentences, epochs: int, threads: int, seed: int) -> tuple[KeyedVectors, float, float]:
    """gensim's skip-gram; returns its vectors (as firth KeyedVectors), fit seconds and training seconds."""
    started = time.perf_counter()
    model = GensimWord2Vec(sentences, vector_size=PARAMS["dim"], window=PARAMS["window"], negative=PARAMS["negative"],
                           sample=PARAMS["sample"], min_count=PARAMS["min_count"], alpha=PARAMS["lr"],
                           min_alpha=PARAMS["min_lr"], sg=1, hs=0, epochs=epochs, workers=threads, seed=seed)
    seconds = time.perf_counter() - started
    return KeyedVectors(model.wv.index_to_key, model.wv.vectors), seconds, model.total_train_time


def train_firth(sentences, epochs: int, threads: int, seed: int) -> tuple[KeyedVectors, float, float]:
    started = time.perf_counter()
    model = Word2Vec(**PARAMS, epochs=epochs, workers=threads, seed=seed, device="cpu", progress=False)
    model.fit(sentences)
    seconds = time.perf_counter() - started
    return model.wv_, seconds, sum(record["seconds"] for record in model.history_)


def quality(vectors: KeyedVectors) -> dict:
    """Analogy accuracy (%), WordSim-353 and SimLex-999 Spearman, with OOV rates (%), by firth's evaluator."""
    analogies = vectors.evaluate_word_analogies(benchmark_file("word-analogies"), restrict_vocab=RESTRICT_VOCAB)
    ws353 = vectors.evaluate_word_pairs(benchmark_file("wordsim353"))
    simlex = vectors.evaluate_word_pairs(benchmark_file("simlex999"))
    return {"analogy": round(100 * analogies.score, 2), "analogy_oov": round(analogies.oov_ratio, 1),
            "ws353": round(ws353.spearman[0], 4), "ws353_oov": round(ws353.oov_ratio, 1),
            "simlex": round(simlex.spearman[0], 4), "simlex_oov": round(simlex.oov_ratio, 1)}


def gensim_quality(vectors: KeyedVectors) -> dict:
    """The same figures by gensim's own evaluator (a check of firth's)."""
    wv = gensim.models.KeyedVectors(vectors.vector_size)
    wv.add_vectors(vectors.index_to_key, vectors.vectors)
    score, _ = wv.evaluate_word_analogies(str(benchmark_file("word-analogies")), restrict_vocab=RESTRICT_VOCAB)
    _, ws353, _ = wv.evaluate_word_pairs(str(benchmark_file("wordsim353")))
    _, simlex, _ = wv.evaluate_word_pairs(str(benchmark_file("simlex999")))
    return {"analogy": round(100 * score, 2), "ws353": round(float(ws353[0]), 4), "simlex": round(float(simlex[0]), 4)}


def run(name: str, train, sentences, epochs: int, threads: int, seed: int) -> dict:
    """Train one library once and score its vectors; prints one line (and gensim's self-check)."""
    vectors, fit_s, train_s = train(sentences, epochs, threads, seed)
    n_words = sum(map(len, sentences))
    speed, train_speed = n_words * epochs / fit_s, n_words * epochs / train_s
    scores = quality(vectors)
    print(f"{name:>6} (seed {seed}): {speed:,.0f} words/s ({fit_s:.1f}s fit, {train_speed:,.0f} words/s "
          f"training only), {len(vectors):,} words; analogy {scores['analogy']:.2f}% "
          f"({scores['analogy_oov']:.1f}% OOV), WS353 {scores['ws353']:.4f} ({scores['ws353_oov']:.1f}% OOV), "
          f"SimLex {scores['simlex']:.4f} ({scores['simlex_oov']:.1f}% OOV)", flush=True)
    row = {"words_per_s": speed, "train_words_per_s": train_speed, "fit_s": fit_s, "vocab": len(vectors), **scores}
    if name == "gensim":
        check = gensim_quality(vectors)
        print(f"        gensim's vectors by gensim's evaluator: analogy {check['analogy']:.2f}%, "
              f"WS353 {check['ws353']:.4f}, SimLex {check['simlex']:.4f} (firth's evaluator: above)", flush=True)
        row.update({f"check_{key}": value for key, value in check.items()})
    return row


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch instead of 5")
    parser.add_argument("--epochs", type=int, help="epochs (default 5, or 1 with --quick)")
    parser.add_argument("--threads", type=int, default=2, help="worker threads for each library (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="the first seed")
    parser.add_argument("--seeds", type=int, default=1, help="runs per library, averaged (default 1)")
    args = parser.parse_args()
    epochs = args.epochs or (1 if args.quick else 5)
    torch.set_num_threads(args.threads)
    print(f"firth {firth.__version__}, gensim {gensim.__version__}, torch {torch.__version__}, "
          f"numpy {np.__version__}, {os.cpu_count()} cores, {platform.machine()}; "
          f"{args.threads} threads, {epochs} epochs", flush=True)
    sentences, tokenize_s = timed(corpus)
    n_words = sum(map(len, sentences))
    print(f"corpus: {n_words:,} words in {len(sentences):,} paragraphs (tokenized in {tokenize_s:.1f}s)", flush=True)

    results: dict = {"epochs": epochs, "threads": args.threads, "corpus_words": n_words, "seeds": args.seeds}
    runs: dict[str, list[dict]] = {"gensim": [], "firth": []}
    for seed in range(args.seed, args.seed + args.seeds):  # alternating, so that machine drift hits both
        for name, train in (("gensim", train_gensim), ("firth", train_firth)):
            runs[name].append(run(name, train, sentences, epochs, args.threads, seed))
    for name, rows in runs.items():
        for key in rows[0]:
            values = [row[key] for row in rows]
            results[f"{key}_{name}"] = round(float(np.mean(values)), 4)
            if args.seeds > 1:
                results[f"{key}_{name}_sd"] = round(float(np.std(values, ddof=1)), 4)
    results["ratio"] = round(results["words_per_s_firth"] / results["words_per_s_gensim"], 3)
    print(f" ratio: firth/gensim words/s = {results['ratio']:.2f}; firth - gensim: "
          f"analogy {results['analogy_firth'] - results['analogy_gensim']:+.2f} points, "
          f"WS353 {results['ws353_firth'] - results['ws353_gensim']:+.4f}, "
          f"SimLex {results['simlex_firth'] - results['simlex_gensim']:+.4f}", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
