"""Exporting a trained model to ONNX, for firth.runtime (numpy + onnxruntime, no torch) to run anywhere.

`export(model_dir, out_dir, int8=False)` writes the network after
featurization as `model.onnx` (dynamic batch and length axes) and the
featurizer's state beside it: a TF-IDF or counts vocabulary with its idf, or
the projection's configuration (the hash needs no state), or the word table
that PPMI-SVD and averaged word-vector features average. A TF-IDF or counts
graph reads each text's nonzero cells (column ids and values), never a dense
vocabulary-wide row. The SGNN classifier is two graphs: `words.onnx`, its word
layers (a word's projection to its word vector, which depends on the word
alone, so the runtime keeps it as the torch model does), and `model.onnx`, the
pooling and head over a batch's word vectors. `int8` quantizes the graphs'
weights to 8 bits (onnxruntime's dynamic quantization). Every
classifier family (softmax, MLP, SGNN) on every feature is exported but PPMI
without its SVD (`dim=None`, whose V x V table is no file to ship), and the
sentence encoder (its IDF table beside the graph).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import onnx  # noqa: F401  torch.onnx.export writes with it: a missing one fails here, by its name
import torch
import torch.nn.functional as F
from torch import nn

from firth.errors import FirthError
from firth.features.classic import CountFeatures, TfidfFeatures
from firth.features.ppmi import PPMIFeatures
from firth.features.projection import ProjectionFeatures
from firth.features.word_vectors import AveragedWordVectors
from firth.io.card import new_card, read_card
from firth.io.model_dir import model_writer, read_model_config, save_tensors, write_json
from firth.models.classifier import TextClassifier
from firth.models.encoder import SentenceEncoder, SentenceEncoderNet, pool, sinusoids
from firth.models.linear import SoftmaxRegression
from firth.models.mlp import MLP
from firth.models.sgnn import SGNNClassifierNet
from firth.runtime.encoder import ENCODE_MAX_WORDS, IDF_SEED
from firth.runtime.session import EXPORTED, EXPORTED_ENCODER, GRAPH, WORD_GRAPH

OPSET = 17


class Probabilities(nn.Module):
    """A feature-vector network with a softmax on top: the graph of softmax and MLP classifiers."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(features), dim=1)


class SparseRows(nn.Module):
    """A softmax or MLP classifier with a softmax on top, on the nonzero cells of each text's TF-IDF or count
    row: their columns (`ids`) and values, padded with zeros to the batch's fullest row.

    The first layer sums the weight columns of a row's cells, as SparseInputLinear does in training, so a
    batch never becomes a dense [texts, vocabulary] array: 64 rows of 20 Newsgroups' 1-2-grams would be
    237 MB.
    """

    def __init__(self, net: SoftmaxRegression | MLP):
        super().__init__()
        self.first = net.linear if isinstance(net, SoftmaxRegression) else net.net[0]
        self.rest = nn.Identity() if isinstance(net, SoftmaxRegression) else net.net[1:]

    def forward(self, ids: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        hidden = (F.embedding(ids, self.first.weight.t()) * values[:, :, None]).sum(1) + self.first.bias
        return torch.softmax(self.rest(hidden), dim=1)


class PaddedSGNN(nn.Module):
    """The SGNN classifier on a batch's distinct word vectors (its word layers' outputs, `words.onnx`),
    each text's rows of them, and a mask.

    It computes what SGNNClassifierNet computes on its bags of words after the
    word layers: the masked pooling (a text without words pools to zeros), the head.
    """

    def __init__(self, net: SGNNClassifierNet):
        super().__init__()
        self.net = net

    def forward(self, table: torch.Tensor, index: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        refined = table[index]
        real = mask[:, :, None]
        pooling = self.net.pooling
        if pooling == "attention":
            scores = self.net.attention(refined).masked_fill(real == 0, -1e9)
            pooled = (torch.softmax(scores, dim=1) * real * refined).sum(1)
        else:
            pooled = []
            if pooling in ("mean", "meanmax"):
                pooled.append((refined * real).sum(1) / real.sum(1).clamp(min=1))
            if pooling in ("max", "meanmax"):
                peak = refined.masked_fill(real == 0, -1e9).amax(1)
                pooled.append(peak * (real.sum(1) > 0))
            pooled = torch.cat(pooled, dim=1)
        return torch.softmax(self.net.head(pooled), dim=1)


class PaddedEncoder(nn.Module):
    """The sentence encoder on a batch's distinct word projections, each text's rows of them, a mask, and each
    text's IDF weight of each distinct word (its lexical bag).

    It computes what SentenceEncoderNet computes on packed tokens: the folded
    projection through the input Linear (once per distinct word), positions,
    the blocks (attention masked to the real words), the pooled layers and the
    IDF-weighted bag. A text without words attends to its first (padding)
    position, so that no row of attention is empty; pooling never counts it.
    """

    def __init__(self, net: SentenceEncoderNet, max_words: int):
        super().__init__()
        self.net = net
        self.register_buffer("positions", sinusoids(max_words, net.config.d_model, torch.device("cpu")))

    def forward(self, table: torch.Tensor, index: torch.Tensor, mask: torch.Tensor, bag: torch.Tensor) -> torch.Tensor:
        net, config = self.net, self.net.config
        length = mask.shape[1]
        real = mask > 0
        keys = real | (~real.any(1, keepdim=True) & (torch.arange(length)[None, :] == 0))
        folded = table.reshape(table.shape[0], net.projection.config.n_hashes, -1, config.fold).sum(-1).flatten(1)
        embedded = net.embed(folded)[index]  # models.encoder.fold, written so that a trace keeps the row count
        layers = [embedded]
        if len(net.layers):  # none: the static tier
            x = (math.sqrt(config.d_model) if config.scale_embeddings else 1.0) * embedded + self.positions[:length]
            for block in net.layers:
                x = _padded_block(block, x, keys)
                layers.append(x)
            layers[-1] = net.norm(x)
        pooled = torch.cat([pool(h, real, config.pooling) for h in (layers if config.concat_layers else layers[-1:])],
                           dim=1)
        if net.idf is None:
            return net.head(pooled)
        lexical = bag @ F.normalize(table, dim=1)
        share = config.lexical_share
        return net.head(torch.cat([math.sqrt(1 - share) * F.normalize(pooled, dim=1),
                                   math.sqrt(share) * F.normalize(lexical, dim=1)], dim=1))


def _padded_block(block: nn.Module, x: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Block.forward on padded [batch, length, d] tokens, attention over the `keys` positions only."""
    def attend(h: torch.Tensor) -> torch.Tensor:
        batch, length, _ = h.shape
        q, k, v = block.qkv(h).reshape(batch, length, 3, block.n_heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=keys[:, None, None, :])
        return block.out(attended.transpose(1, 2).reshape(batch, length, -1))

    if block.pre_ln:
        x = x + attend(block.norm1(x))
        return x + block.ff(block.norm2(x))
    x = block.norm1(x + attend(x))
    return block.norm2(x + block.ff(x))


def export(model_dir: str | os.PathLike, out_dir: str | os.PathLike, int8: bool = False) -> Path:
    """Write the ONNX export of the model in `model_dir` to `out_dir`, atomically; return `out_dir`."""
    kind, _ = read_model_config(model_dir, ("TextClassifier", "SentenceEncoder", "Word2Vec", "KeyedVectors"))
    if kind == "SentenceEncoder":
        return _export_encoder(model_dir, out_dir, int8)
    if kind != "TextClassifier":
        raise FirthError(f"{model_dir}: a {kind} cannot be exported; text classifiers and sentence encoders can "
                         "(word vectors are a table already: `firth word2vec export`).")
    clf = TextClassifier.load(model_dir)
    graph, inputs, features = _graph_and_features(clf)
    config = {"classes": clf.classes_.tolist(), "features": features["spec"], "int8": int8,
              "source": {k: v for k, v in dataclasses.asdict(clf.config_).items() if k != "progress"}}
    with model_writer(out_dir, EXPORTED, config, _card(model_dir, int8)) as tmp:
        if "word_graph" in features["spec"]:
            net = clf.model_
            _write_graph(net.word_layers, {"table": torch.zeros(4, net.projection.dim)}, tmp / WORD_GRAPH, int8,
                         output="vectors")
        _write_graph(graph, inputs, tmp / GRAPH, int8)
        if "state" in features:
            write_json(tmp / "features.json", features["state"])
        if "arrays" in features:
            save_tensors(tmp / "features.safetensors", features["arrays"])
    return Path(out_dir)


def _export_encoder(model_dir: str | os.PathLike, out_dir: str | os.PathLike, int8: bool) -> Path:
    encoder = SentenceEncoder.load(model_dir)
    net, max_words = encoder.net.eval(), ENCODE_MAX_WORDS
    projection = net.projection.config
    example = {"table": torch.zeros(4, projection.dim), "index": torch.zeros(2, 3, dtype=torch.long),
               "mask": torch.ones(2, 3), "bag": torch.ones(2, 4)}
    idf, arrays = None, {}
    if net.idf is not None:
        idf = {"buckets": net.idf.buckets, "seed": IDF_SEED, "scale": 1.0, "offset": 0.0}
        arrays = {"idf": net.idf.table}
        if int8:  # the IDF table would otherwise be most of an int8 directory
            (idf["scale"], idf["offset"]), arrays = _uint8(net.idf.table)
    config = {"width": net.config.width, "max_words": max_words, "projection": dataclasses.asdict(projection),
              "idf": idf, "int8": int8,
              "source": {k: v for k, v in dataclasses.asdict(net.config).items() if k != "progress"}}
    with model_writer(out_dir, EXPORTED_ENCODER, config, _card(model_dir, int8)) as tmp:
        _write_graph(PaddedEncoder(net, max_words), example, tmp / GRAPH, int8, output="sentences")
        if arrays:
            save_tensors(tmp / "features.safetensors", arrays)
    return Path(out_dir)


def _uint8(table: torch.Tensor) -> tuple[tuple[float, float], dict[str, torch.Tensor]]:
    """((scale, offset), {"idf": uint8 codes}) with table ~ codes * scale + offset: 256 levels over its range."""
    low, high = float(table.min()), float(table.max())
    scale = (high - low) / 255 or 1.0
    return (scale, low), {"idf": torch.round((table - low) / scale).to(torch.uint8)}


def _card(model_dir: str | os.PathLike, int8: bool) -> dict:
    """The source model's card, its summary marked as an export."""
    card = read_card(model_dir) or new_card("", {})
    return {**card, "summary": f"{card['summary']} (ONNX export{', int8 weights' if int8 else ''})"}


def _graph_and_features(clf: TextClassifier) -> tuple[nn.Module, dict[str, torch.Tensor], dict]:
    """The module to export, example inputs named as the runtime feeds them, and the featurizer's export."""
    net = clf.model_.eval()
    if isinstance(net, SGNNClassifierNet):
        projection = dataclasses.asdict(net.projection.config)
        example = {"table": torch.zeros(4, net.word_layers[-1].out_features),
                   "index": torch.zeros(2, 3, dtype=torch.long), "mask": torch.ones(2, 3)}
        return PaddedSGNN(net), example, {"spec": {"kind": "word_projection", "projection": projection,
                                                   "word_graph": WORD_GRAPH}}
    featurizer = clf.features_
    example = {"features": torch.zeros(2, featurizer.n_features_out_)}
    if isinstance(featurizer, ProjectionFeatures):
        projection = dataclasses.asdict(featurizer._projection().config)
        return Probabilities(net), example, {"spec": {"kind": "pooled_projection", "projection": projection,
                                                      "pooling": featurizer.pooling}}
    if isinstance(featurizer, CountFeatures):  # TfidfFeatures too
        tfidf = isinstance(featurizer, TfidfFeatures)
        state = {"analyzer": featurizer.analyzer, "ngram_range": list(featurizer.ngram_range),
                 "lowercase": featurizer.lowercase, "binary": featurizer.binary,
                 "sublinear_tf": getattr(featurizer, "sublinear_tf", False),
                 "vocabulary": featurizer._state()[0]["vocabulary"]}
        exported = {"spec": {"kind": "vectorizer", "tfidf": tfidf, "rows": "sparse"}, "state": state}
        if tfidf:
            exported["arrays"] = {"idf": featurizer.vectorizer_.idf_}
        sparse = {"ids": torch.zeros(2, 3, dtype=torch.long), "values": torch.ones(2, 3)}
        return SparseRows(net), sparse, exported
    if isinstance(featurizer, PPMIFeatures):
        if not hasattr(featurizer, "word_vectors_"):
            raise FirthError("PPMI features without an SVD (dim=None) cannot be exported: their vocabulary-square "
                             "table is no file to ship; train with --feature-param dim=300.")
        words, vectors, normalize = featurizer._words(), featurizer.word_vectors_, featurizer.doc_norm
    elif isinstance(featurizer, AveragedWordVectors):
        (state, arrays), normalize = featurizer._state(), False
        words, vectors = state["words"], arrays["vectors"]
    else:
        raise FirthError(f"{type(featurizer).__name__} features cannot be exported.")
    return Probabilities(net), example, {"spec": {"kind": "averaged_words", "lowercase": featurizer.lowercase,
                                                  "normalize": normalize},
                                         "state": {"words": words}, "arrays": {"vectors": vectors}}


def _write_graph(module: nn.Module, inputs: dict[str, torch.Tensor], path: Path, int8: bool,
                 output: str = "probabilities") -> None:
    """torch.onnx.export with dynamic batch (and length) axes; then, for int8, dynamic quantization."""
    axes = {"features": {0: "batch"}, "table": {0: "words"}, "index": {0: "batch", 1: "length"},
            "mask": {0: "batch", 1: "length"}, "bag": {0: "batch", 1: "words"}, "ids": {0: "batch", 1: "cells"},
            "values": {0: "batch", 1: "cells"}}
    axes = {name: axes[name] for name in inputs}
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "float.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, tuple(inputs.values()), str(plain), input_names=list(inputs),
                              output_names=[output], dynamic_axes={**axes, output: {0: "batch"}},
                              opset_version=OPSET, dynamo=False)
        if int8:
            import logging

            from onnxruntime.quantization import QuantType, quantize_dynamic

            logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process applies to image models
            quantize_dynamic(str(plain), str(path), weight_type=QuantType.QInt8)
        else:
            shutil.move(plain, path)
