"""`firth encoder`: train a tiny encoder on real paragraphs, then embed, search and draw the heatmap."""

import json

import numpy as np
import pytest

from firth.models.encoder import SentenceEncoder

LINES = ["Shares in the bank rose after profits jumped.", "The striker scored twice in the final.",
         "Profits at the bank beat forecasts."]


@pytest.fixture
def trained(cli, fixtures, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("encoder", "train", str(fixtures / "wiki_small.xml.bz2"),
                            str(fixtures / "bbc_article.txt"), "--loss", "infonce", "--d-model", "16", "--n-heads", "2",
                            "--d-ff", "32", "--n-layers", "1", "--batch-size", "8", "--max-per-paragraph", "4",
                            "--epochs", "2", "--val-paragraphs", "2", "--num-workers", "0", "--out", str(out), "--quiet")
    assert code == 0, err
    assert "parameter encoder (infonce): validation R@1" in stdout
    return out


def test_train_writes_model_metrics_plot_and_checkpoint(trained):
    encoder = SentenceEncoder.load(trained / "model")
    assert encoder.config.d_model == 16 and encoder.config.lexical and encoder.config.concat_layers  # defaults
    assert encoder.encode(LINES).shape == (3, 16 * 2 + 5120)  # input and one layer, mean-pooled; the word bag
    records = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2 and {"val_MRR", "tokens_per_s", "data_wait"} <= set(records[-1])
    assert (trained / "learning_curve.png").stat().st_size > 0
    assert (trained / "checkpoint").is_dir()


def test_embed_writes_npy_and_json_lines(cli, trained, tmp_path):
    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join(LINES) + "\n")
    code, out, _ = cli("encoder", "embed", str(trained / "model"), str(lines), "--output",
                       str(tmp_path / "v.npy"), "--normalize")
    vectors = np.load(tmp_path / "v.npy")
    assert code == 0 and f"3 vectors of dim {16 * 2 + 5120}" in out
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    code, _, _ = cli("encoder", "embed", str(trained / "model"), str(lines), "--output",
                     str(tmp_path / "v.jsonl"), "--normalize")
    rows = [json.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert code == 0 and np.allclose(rows, vectors, atol=1e-5)


def test_similar_ranks_the_corpus_lines(cli, trained, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(LINES) + "\n")
    code, out, _ = cli("encoder", "similar", str(trained / "model"), "--query", LINES[0],
                       "--corpus", str(corpus), "-k", "2")
    hits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(hits) == 2
    assert hits[0] == {"score": 1.0, "line": 1, "text": LINES[0]}  # the query itself comes first
    assert hits[0]["score"] >= hits[1]["score"]


def test_heatmap_prints_the_block_overlap(cli, trained, tmp_path):
    groups = tmp_path / "groups.txt"
    groups.write_text(f"{LINES[0]}\n{LINES[2]}\n\n{LINES[1]}\nThe team won the cup.\n")
    code, out, _ = cli("encoder", "heatmap", str(trained / "model"), str(groups))
    assert code == 0 and "jaccard" in out.lower() and "f1" in out.lower()
    assert (tmp_path / "groups.png").stat().st_size > 0


@pytest.mark.parametrize("argv, message", [
    (["encoder", "train", "no-such-corpus"], "no-such-corpus"),
    (["encoder", "embed", "{model}", "{empty}", "--output", "{tmp}/v.npy"], "line 2 is empty"),
    (["encoder", "heatmap", "{model}", "{lines}"], "at least two groups"),
    (["encoder", "similar", "{tmp}/missing", "--query", "x", "--corpus", "{lines}"], "no such model directory"),
])
def test_bad_input_is_one_clear_line(cli, trained, tmp_path, argv, message):
    (tmp_path / "empty.txt").write_text("one line\n\nthird line\n")
    (tmp_path / "lines.txt").write_text("\n".join(LINES) + "\n")
    paths = {"model": trained / "model", "empty": tmp_path / "empty.txt", "lines": tmp_path / "lines.txt",
             "tmp": tmp_path}
    code, out, err = cli(*[a.format(**paths) for a in argv])
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "v.npy").exists()  # nothing half-written


def test_embed_writes_quantized_codes_and_the_ranges_that_queries_share(cli, tmp_path):
    from firth.cli.encoder import PRECISIONS
    from firth.runtime import quantize

    assert PRECISIONS == quantize.PRECISIONS
    lines, query = tmp_path / "lines.txt", tmp_path / "query.txt"
    lines.write_text("\n".join(LINES) + "\n")
    query.write_text(LINES[2] + "\n")
    encoder = SentenceEncoder.load("firth-static")
    vectors = encoder.encode(LINES, normalize_embeddings=True)
    code, out, err = cli("encoder", "embed", "firth-static", str(lines), "--output", str(tmp_path / "c.npy"),
                         "--normalize", "--precision", "int8")
    ranges = np.load(tmp_path / "c.npy.ranges.npy")
    assert code == 0, err
    assert "3 vectors of dim 384" in out and "int8 codes, ranges in" in out
    assert np.array_equal(ranges, quantize.calibration_ranges(vectors))  # fewer lines than the calibration
    assert np.array_equal(np.load(tmp_path / "c.npy"), quantize.quantize_embeddings(vectors, "int8", ranges))
    code, _, err = cli("encoder", "embed", "firth-static", str(query), "--output", str(tmp_path / "q.jsonl"),
                       "--normalize", "--precision", "int8", "--ranges", str(tmp_path / "c.npy.ranges.npy"))
    rows = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines()]
    assert code == 0 and rows == np.load(tmp_path / "c.npy")[2:].tolist()  # the query cut as the corpus was
    assert not (tmp_path / "q.jsonl.ranges.npy").exists()
    code, out, _ = cli("encoder", "embed", "firth-static", str(lines), "--output", str(tmp_path / "b.npy"),
                       "--precision", "ubinary")
    assert code == 0 and np.array_equal(np.load(tmp_path / "b.npy"), quantize.quantize_embeddings(vectors, "ubinary"))


@pytest.mark.parametrize("extra, message", [
    (["--precision", "binary", "--ranges", "r.npy"], "--ranges is for --precision int8 or uint8, not binary."),
    (["--precision", "int8", "--ranges", "bad.npy"], "int8 ranges must be a [2, dim] array"),
    (["--precision", "int8", "--ranges", "missing.npy"], "cannot read int8 ranges"),
])
def test_embed_rejects_ranges_it_cannot_use(cli, tmp_path, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lines.txt").write_text(LINES[0] + "\n")
    np.save(tmp_path / "bad.npy", np.zeros((3, 384)))
    code, _, err = cli("encoder", "embed", "firth-static", "lines.txt", "--output", "v.npy", *extra)
    assert code != 0 and message in err and "Traceback" not in err and not (tmp_path / "v.npy").exists()
