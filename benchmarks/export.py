"""Exported models: PyTorch vs ONNX vs ONNX int8, on accuracy, agreement, size and speed.

    python benchmarks/export.py [--quick] [--encoder DIR]

Classifiers: the SGNN classifier (`classify train`'s SGNN defaults) and softmax regression on TF-IDF
(the settings of benchmarks/classify.py, FIRTH_METHODS) are trained on the fixed train splits of
bbc-news and rotten-tomatoes, exported with `firth export` (float and `--int8`),
and run on the test splits: accuracy of each, the largest absolute difference
of probabilities between PyTorch and ONNX, the size on disk of each directory,
and documents/second from raw text (featurization included; the best of 3
passes). Encoder: a small encoder (d_model 64, one layer, the lexical channel,
trained here for one epoch on wiki-sample with `--quick`, three epochs on all
three corpora otherwise), or `--encoder DIR`, exported the same way; Recall@1 on
the encoder benchmark's 1,000 held-out paragraphs (benchmarks/encoder.py) and
sentences/second of each. The last line is one JSON object
{"classifier": {dataset: {model: {...}}}, "encoder": {...}}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime
import torch

import firth
import firth.data
import firth.runtime
from classify import FIRTH_METHODS, shuffled, timed
from firth.evaluate.retrieval import heldout_split, retrieval_scores
from firth.models.export import export
from firth.train.paragraphs import read_paragraph_sentences

MODELS = {"sgnn": {"model": "sgnn"}, "softmax_tfidf": FIRTH_METHODS["firth_softmax_tfidf"]}
REPEATS = 3


def size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def exported(model_dir: Path, tmp: Path) -> dict[str, Path]:
    """The float and int8 exports of a model directory."""
    return {variant: export(model_dir, tmp / f"{model_dir.name}-{variant}", int8=variant == "int8")
            for variant in ("onnx", "int8")}


def classifier_row(name: str, params: dict, data, tmp: Path) -> dict:
    texts, labels = shuffled(data.train.texts, data.train.labels)
    clf = firth.TextClassifier(seed=0, device="cpu", progress=False, **params).fit(texts, labels)
    clf.save(tmp / name)
    test_texts, test_labels = list(data.test.texts), np.array(data.test.labels)
    models = {"torch": clf, **{k: firth.runtime.load(v) for k, v in exported(tmp / name, tmp).items()}}
    row, probabilities = {}, {}
    for variant, model in models.items():
        probabilities[variant], seconds = timed(lambda: model.predict_proba(test_texts), REPEATS)
        predicted = model.classes_[probabilities[variant].argmax(1)]
        row[f"acc_{variant}"] = round(float((predicted == test_labels).mean()), 4)
        row[f"docs_per_s_{variant}"] = round(len(test_texts) / seconds)
    row["max_abs_diff"] = float(np.abs(probabilities["onnx"] - probabilities["torch"]).max())
    row["max_abs_diff_int8"] = float(np.abs(probabilities["int8"] - probabilities["torch"]).max())
    for variant, directory in (("torch", tmp / name), ("onnx", tmp / f"{name}-onnx"), ("int8", tmp / f"{name}-int8")):
        row[f"size_{variant}"] = size(directory)
    return row


def train_encoder(tmp: Path, quick: bool) -> Path:
    corpora = ["wiki-sample"] if quick else ["wiki-sample", "python-docs", "bbc-paragraphs"]
    encoder = firth.SentenceEncoder(d_model=64, n_layers=1, n_heads=2, d_ff=128, epochs=1 if quick else 3,
                                    val_paragraphs=0, num_workers=0, device="cpu", progress=False, seed=0)
    encoder.fit(read_paragraph_sentences(corpora)).save(tmp / "encoder")
    return tmp / "encoder"


def encoder_row(model_dir: Path, tmp: Path) -> dict:
    split = heldout_split()
    sentences = split.queries + split.targets
    models = {"torch": firth.load(model_dir), **{k: firth.runtime.load(v) for k, v in exported(model_dir, tmp).items()}}
    row = {}
    for variant, model in models.items():
        row[f"R1_{variant}"] = round(retrieval_scores(lambda texts: model.encode(texts, batch_size=64),
                                                      split.queries, split.targets)["R1"], 4)
        _, seconds = timed(lambda: model.encode(sentences, batch_size=64), REPEATS)
        row[f"sentences_per_s_{variant}"] = round(len(sentences) / seconds)
    for variant, directory in (("torch", model_dir), ("onnx", tmp / f"{model_dir.name}-onnx"),
                               ("int8", tmp / f"{model_dir.name}-int8")):
        row[f"size_{variant}"] = size(directory)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a one-epoch encoder on wiki-sample")
    parser.add_argument("--encoder", metavar="DIR", help="an encoder model directory to export instead of training one")
    args = parser.parse_args()
    print(f"firth {firth.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime "
          f"{onnxruntime.__version__}, {os.cpu_count()} cores, {platform.machine()}", flush=True)
    result: dict = {"classifier": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for dataset in ("bbc-news", "rotten-tomatoes"):
            data = firth.data.load(dataset)
            result["classifier"][dataset] = {}
            for name, params in MODELS.items():
                row = classifier_row(f"{dataset}-{name}", params, data, tmp)
                result["classifier"][dataset][name] = row
                print(f"{dataset} {name}: acc torch {row['acc_torch']:.4f} onnx {row['acc_onnx']:.4f} int8 "
                      f"{row['acc_int8']:.4f}; max |p_onnx - p_torch| {row['max_abs_diff']:.1e}; docs/s torch "
                      f"{row['docs_per_s_torch']:,} onnx {row['docs_per_s_onnx']:,} int8 {row['docs_per_s_int8']:,}; "
                      f"size {row['size_torch'] / 1e6:.2f} / {row['size_onnx'] / 1e6:.2f} / "
                      f"{row['size_int8'] / 1e6:.2f} MB", flush=True)
        encoder = Path(args.encoder) if args.encoder else train_encoder(tmp, args.quick)
        row = result["encoder"] = encoder_row(encoder, tmp)
        print(f"encoder: R@1 torch {row['R1_torch']:.4f} onnx {row['R1_onnx']:.4f} int8 {row['R1_int8']:.4f}; "
              f"sentences/s torch {row['sentences_per_s_torch']:,} onnx {row['sentences_per_s_onnx']:,} int8 "
              f"{row['sentences_per_s_int8']:,}; size {row['size_torch'] / 1e6:.2f} / {row['size_onnx'] / 1e6:.2f} / "
              f"{row['size_int8'] / 1e6:.2f} MB", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
