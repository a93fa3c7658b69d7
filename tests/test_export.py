"""ONNX export and the torch-free runtime: the same probabilities as the full model, int8 close to them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import firth
from firth.errors import FirthError
from firth.text.readers import read_labelled
from firth.text.segment import words

TEXTS = ["Shares rose after profits jumped", "The striker scored twice", "", "x", "A new  phone\twas unveiled"]


@pytest.fixture(scope="module")
def bbc():
    return read_labelled(Path(__file__).parent / "fixtures" / "bbc")


MODELS = {
    "tfidf softmax": dict(features="tfidf", feature_params={"min_df": 1}),
    "counts mlp": dict(features="counts", model="mlp", hidden=(8,), feature_params={"ngram_range": [1, 2]}),
    "char_wb tfidf": dict(features="tfidf", feature_params={"analyzer": "char_wb", "ngram_range": [2, 4], "min_df": 1}),
    "projection softmax": dict(features="projection", feature_params={"mode": "ternary"}),
    "sgnn meanmax": dict(model="sgnn", hidden=(16, 8), pooling="meanmax", feature_params={"mode": "float"}),
    "sgnn attention": dict(model="sgnn", hidden=(8,), pooling="attention"),
    "sgnn max": dict(model="sgnn", hidden=(8,), pooling="max"),
    "ppmi mlp": dict(features="ppmi", model="mlp", hidden=(8,), feature_params={"min_count": 1, "dim": 4}),
    "glove softmax": dict(features="glove"),  # vectors: the `vectors` fixture's file
}


@pytest.fixture(scope="module")
def vectors(bbc, tmp_path_factory) -> Path:
    """A GloVe file of random vectors for most of the fixture's words (so that some are unknown)."""
    rng = np.random.default_rng(0)
    table = sorted({w for t in bbc.texts for w in t.lower().split()})[::2]
    path = tmp_path_factory.mktemp("glove") / "vectors.txt"
    path.write_text("".join(f"{w} " + " ".join(f"{v:.4f}" for v in rng.normal(size=8)) + "\n" for w in table))
    return path


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_export_predicts_what_the_model_predicts(name, bbc, vectors, tmp_path):
    settings = MODELS[name] | ({"feature_params": {"vectors": str(vectors)}} if name.startswith("glove") else {})
    clf = firth.TextClassifier(epochs=3, batch_size=4, val_fraction=0, device="cpu", progress=False, **settings)
    clf.fit(bbc.texts, bbc.labels).save(tmp_path / "model")
    from firth.models.export import export

    export(tmp_path / "model", tmp_path / "onnx")
    runtime = firth.runtime.load(tmp_path / "onnx")
    texts = bbc.texts + TEXTS
    assert np.abs(runtime.predict_proba(texts) - clf.predict_proba(texts)).max() <= 1e-4
    assert list(runtime.predict(texts)) == list(clf.predict(texts))
    export(tmp_path / "model", tmp_path / "int8", int8=True)
    quantized = firth.runtime.load(tmp_path / "int8")
    assert np.abs(quantized.predict_proba(texts) - clf.predict_proba(texts)).max() <= 0.05
    assert json.loads((tmp_path / "int8" / "config.json").read_text())["config"]["int8"] is True


def test_the_runtime_imports_neither_torch_nor_sklearn(cli, bbc, tmp_path):
    clf = firth.TextClassifier(model="sgnn", hidden=(8,), epochs=1, val_fraction=0, device="cpu", progress=False)
    clf.fit(bbc.texts, bbc.labels).save(tmp_path / "model")
    code, out, err = cli("export", str(tmp_path / "model"), str(tmp_path / "onnx"))
    assert code == 0 and "exported" in out, err
    script = ("import sys, json, firth.runtime\n"
              f"model = firth.runtime.load({str(tmp_path / 'onnx')!r})\n"
              "print(json.dumps(model.predict(['The striker scored twice']).tolist()))\n"
              "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'sklearn', 'scipy'})))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    label, heavy = map(json.loads, result.stdout.splitlines())
    assert label == list(clf.predict(["The striker scored twice"])) and heavy == []
    code, page, _ = cli("info", str(tmp_path / "onnx"))
    assert code == 0 and "(ONNX export)" in page and "firth.runtime.load" in page


@pytest.mark.parametrize("settings", [{}, {"lexical": False, "concat_layers": False},
                                      {"pooling": "meanmax", "head_dim": 8, "pre_ln": False},
                                      {"n_layers": 0, "lexical": False},  # the static tier
                                      {"scale_embeddings": True, "lexical": False, "head_dim": 8}])
def test_an_exported_encoder_encodes_what_the_encoder_encodes(settings, cli, tmp_path):
    torch.manual_seed(0)
    encoder = firth.SentenceEncoder(**{"d_model": 16, "n_layers": 2, "n_heads": 2, "d_ff": 32, **settings})
    encoder.net.fit_idf([TEXTS[:2], TEXTS[2:]])
    encoder.save(tmp_path / "encoder")
    sizes = {}
    for int8, tolerance in ((False, 1e-5), (True, 0.05)):
        code, _, err = cli("export", str(tmp_path / "encoder"), str(tmp_path / "onnx"), *(["--int8"] if int8 else []))
        assert code == 0, err
        if settings.get("lexical", True):  # the int8 export keeps the IDF table as uint8 codes
            sizes[int8] = (tmp_path / "onnx" / "features.safetensors").stat().st_size
        runtime = firth.runtime.load(tmp_path / "onnx")
        texts = TEXTS + ["word " * 300]  # cut at 256 words, as encode cuts
        assert runtime.encode(texts).shape == (len(texts), encoder.dim)
        assert np.abs(runtime.encode(texts, batch_size=2) - encoder.encode(texts)).max() <= tolerance
    assert not sizes or sizes[True] < sizes[False] / 3


def test_what_cannot_be_exported_or_loaded_is_one_sentence(cli, bbc, tmp_path):
    firth.KeyedVectors(["a", "b"], np.eye(2)).save(tmp_path / "vectors")
    code, _, err = cli("export", str(tmp_path / "vectors"), str(tmp_path / "out"))
    assert code == 1 and "a KeyedVectors cannot be exported" in err and err.count("\n") == 1
    firth.TextClassifier(features="ppmi", epochs=1, val_fraction=0, device="cpu", progress=False,
                         feature_params={"min_count": 1, "dim": None}).fit(bbc.texts, bbc.labels).save(tmp_path / "ppmi")
    code, _, err = cli("export", str(tmp_path / "ppmi"), str(tmp_path / "out"))
    assert code == 1 and "PPMI features without an SVD (dim=None) cannot be exported" in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(FirthError, match="is not an exported firth model"):
        firth.runtime.load(tmp_path / "ppmi")
    code, _, err = cli("export", str(tmp_path / "ppmi"), str(tmp_path / "ppmi" / "inside"))
    assert code == 1 and "is an input of this command" in err


def test_the_exported_sgnn_keeps_each_words_vector_as_the_model_does(bbc, tmp_path):
    """words.onnx gives a word's vector once; later batches look it up. An export from before words.onnx
    is a clear error."""
    clf = firth.TextClassifier(model="sgnn", hidden=(8, 4), epochs=1, val_fraction=0, device="cpu", progress=False)
    clf.fit(bbc.texts, bbc.labels).save(tmp_path / "model")
    from firth.models.export import export

    export(tmp_path / "model", tmp_path / "onnx")
    assert (tmp_path / "onnx" / "words.onnx").is_file()
    runtime = firth.runtime.load(tmp_path / "onnx")
    first = runtime.predict_proba(bbc.texts)
    kept = dict(runtime.features.cached)
    assert len(kept) == len({w for t in bbc.texts for w in words(t, lowercase=False)})
    assert runtime.features.cache.shape[1] == 4  # the word vectors, not the 4,480-wide projections
    assert runtime.features.cache_size == clf.model_.word_cache.capacity  # as many words as the torch model keeps
    assert np.array_equal(runtime.predict_proba(bbc.texts[::-1])[::-1], first) and runtime.features.cached == kept
    assert np.abs(first - clf.predict_proba(bbc.texts)).max() <= 1e-5
    stamped = json.loads((tmp_path / "onnx" / "config.json").read_text())
    del stamped["config"]["features"]["word_graph"]
    (tmp_path / "onnx" / "config.json").write_text(json.dumps(stamped))
    with pytest.raises(FirthError, match="exported by an earlier firth.*export the model again"):
        firth.runtime.load(tmp_path / "onnx")


def test_an_exported_tfidf_model_reads_each_texts_nonzero_cells(bbc, tmp_path):
    """The graph takes column ids and values, never a vocabulary-wide row; an export from before is a clear
    error."""
    clf = firth.TextClassifier(features="tfidf", feature_params={"min_df": 1}, epochs=2, val_fraction=0,
                               device="cpu", progress=False).fit(bbc.texts, bbc.labels)
    clf.save(tmp_path / "model")
    from firth.models.export import export

    export(tmp_path / "model", tmp_path / "onnx")
    runtime = firth.runtime.load(tmp_path / "onnx")
    ids, values = runtime.features(bbc.texts[:2] + ["", "unseenword"])
    dense = clf.features_.transform(bbc.texts[:2]).toarray()
    assert ids.shape == values.shape and ids.shape[1] == max((dense > 0).sum(1)) < dense.shape[1]
    for row in range(2):
        assert np.allclose(values[row][values[row] > 0], dense[row, ids[row][values[row] > 0]], atol=1e-6)
    assert not values[2:].any()  # no known cell: the bias alone, as a zero row gives
    stamped = json.loads((tmp_path / "onnx" / "config.json").read_text())
    del stamped["config"]["features"]["rows"]
    (tmp_path / "onnx" / "config.json").write_text(json.dumps(stamped))
    with pytest.raises(FirthError, match="exported by an earlier firth, before a TF-IDF or counts graph read"):
        firth.runtime.load(tmp_path / "onnx")


def test_the_runtimes_word_cache_gives_the_projection_beyond_its_size_and_starts_over_when_full():
    from firth.config import ProjectionConfig
    from firth.features.hashing import project_words
    from firth.runtime.features import WordProjection

    config = ProjectionConfig(mode="float")
    projection = WordProjection(config, cache_size=3)
    batches = [["a", "bb", "a"], ["ccc", "dddd", "bb", "eeeee"], ["eeeee", "a", "ffffff"]]
    for docs in ([batches[0]], batches[1:], batches):
        table, distinct, index, mask = projection.index(docs)
        assert np.array_equal(table, project_words(distinct, config))
        assert [[distinct[i] for i, m in zip(row, real) if m] for row, real in zip(index, mask)] == docs
    assert list(projection.cached) == ["a", "bb", "ffffff"]  # full, it started over with the last batch's new words
    uncached = WordProjection(config, cache_size=0)
    for docs in batches:
        assert np.array_equal(uncached.index([docs])[0], project_words(list(dict.fromkeys(docs)), config))
    assert not uncached.cached


def test_a_verb_whose_extra_is_not_installed_names_the_extra(tmp_path):
    """As on a `pip install 'firth[runtime]'` machine: no torch, no scikit-learn, no onnx."""
    script = ("import sys\n"
              "for name in ('torch', 'sklearn', 'scipy', 'onnx'): sys.modules[name] = None\n"
              "from firth.cli import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    fixtures = Path(__file__).parent / "fixtures"
    for argv, extra in ((["classify", "train", str(fixtures / "bbc"), "--out", str(tmp_path / "run")], "train"),
                        (["export", str(tmp_path), str(tmp_path / "out")], "export")):
        result = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True)
        assert result.returncode == 1 and result.stderr.startswith("firth: error: this command needs ")
        assert result.stderr.endswith(f"is not installed; pip install 'firth[{extra}]'.\n"), result.stderr
