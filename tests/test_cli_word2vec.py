"""`firth word2vec`: train on a small real text, then query, evaluate, plot and export."""

import numpy as np
import pytest

import firth.data
from firth.data.loaders import Analogy, WordPair
from firth.vectors import KeyedVectors


@pytest.fixture
def trained(cli, fixtures, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("word2vec", "train", str(fixtures / "bbc_article.txt"), "--min-count", "2",
                            "--epochs", "3", "--workers", "1", "--out", str(out), "--quiet")
    assert code == 0, err
    assert "trained negative skip-gram" in stdout
    return out / "model"


def test_train_writes_a_loadable_model_and_metrics(trained):
    vectors = KeyedVectors.load(trained)
    assert len(vectors) > 20 and vectors.vector_size == 100
    assert "the" in vectors and np.isfinite(vectors.vectors).all()
    assert (trained.parent / "metrics.jsonl").read_text().count("\n") == 3


def test_neighbors_analogy_and_export(cli, trained, tmp_path):
    code, out, _ = cli("word2vec", "neighbors", str(trained), "the", "--topn", "3")
    assert code == 0 and out.startswith("the: ") and out.count("(") == 3
    code, out, _ = cli("word2vec", "analogy", str(trained), "the", "a", "of", "--method", "3cosmul")
    assert code == 0 and out.startswith("the : a :: of : ")
    code, _, _ = cli("word2vec", "export", str(trained), str(tmp_path / "v.bin"), "--binary")
    assert code == 0
    exported = KeyedVectors.load_word2vec_format(tmp_path / "v.bin")
    assert exported.index_to_key == KeyedVectors.load(trained).index_to_key


def test_plot_writes_a_png(cli, trained, tmp_path):
    code, out, _ = cli("word2vec", "plot", str(trained), "--words", "20", "--method", "pca",
                       "--output", str(tmp_path / "map.png"))
    assert code == 0 and (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_reports_the_three_benchmarks(cli, trained, monkeypatch):
    words = KeyedVectors.load(trained).index_to_key
    benchmarks = {"word-analogies": [Analogy("capital", *words[:4])],
                  "wordsim353": [WordPair(words[0], words[1], 5.0), WordPair(words[2], words[3], 1.0),
                                 WordPair(words[4], words[5], 3.0), WordPair(words[0], "zzzunknown", 2.0)],
                  "simlex999": [WordPair(words[0], words[2], 1.0), WordPair(words[1], words[3], 2.0),
                                WordPair(words[4], words[6], 3.0)]}
    monkeypatch.setattr(firth.data, "load", benchmarks.__getitem__)
    code, out, err = cli("word2vec", "evaluate", str(trained))
    assert code == 0, err
    assert "analogies" in out and "0.0% of questions out of vocabulary" in out
    assert "wordsim353: Spearman" in out and "25.0% of pairs out of vocabulary" in out
    assert "simlex999: Spearman" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "/no/such/corpus.txt"], "no such file"),
    (["train", "rotten-tomatoes"], "not a paragraph corpus"),
    (["neighbors", "/no/such/model", "king"], "no such model directory"),
])
def test_bad_input_is_one_clear_sentence(cli, argv, message):
    code, _, err = cli("word2vec", *argv)
    assert code == 1 and message in err and "Traceback" not in err


def test_unknown_word_is_a_clear_error(cli, trained):
    code, _, err = cli("word2vec", "neighbors", str(trained), "qwxyzzy")
    assert code == 1 and "not in the vocabulary" in err
