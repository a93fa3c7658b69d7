"""Training under torchrun (DistributedDataParallel, gloo on CPU): the same steps as one process, rank 0 alone
writing, resume after a kill, two "nodes" on localhost, and clear errors for what cannot be shared."""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

BBC = str(Path(__file__).parent / "fixtures" / "bbc")  # 9 articles: one step of 8 an epoch (the 9th is left out)
# plain SGD (Adam's first step normalizes the gradient away), no batch norm (each rank normalizes its own rows)
# and no dropout (each rank draws its own masks): so one process and two make the same steps
EXACT = ["--model", "sgnn", "--hidden", "16", "--no-batch-norm", "--optimizer", "sgd", "--lr", "0.5", "--dropout", "0",
         "--val-fraction", "0", "--batch-size", "8", "--quiet"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun(*args: str, processes: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}", *args]


def train(out: Path, *options: str, processes: int = 1, timeout: float = 120) -> subprocess.CompletedProcess:
    """`firth classify train` on the fixture, in one process or under torchrun."""
    command = ["-m", "firth", "classify", "train", BBC, *options, "--out", str(out)]
    launch = torchrun(*command, processes=processes) if processes > 1 else [sys.executable, *command]
    return subprocess.run(launch, capture_output=True, text=True, env=ENV, timeout=timeout)


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants: torchrun starts each rank in a session of its own, out of reach of killpg."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid] + [p for child in children for p in process_tree(int(child))]


def kill_tree(run: subprocess.Popen) -> None:
    """SIGKILL torchrun and every rank at once, as a lost machine would, and return when all are gone."""
    tree = process_tree(run.pid)
    for pid in tree:
        os.kill(pid, signal.SIGKILL)
    run.wait()
    while any(running(pid) for pid in tree[1:]):
        time.sleep(0.02)


def running(pid: int) -> bool:
    """Whether `pid` still runs (a killed rank whose new parent has not reaped it yet is a zombie: it does not)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def weights(out: Path) -> dict:
    return load_file(str(out / "model" / "model.safetensors"))


def largest_difference(a: dict, b: dict) -> float:
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def test_two_processes_make_the_steps_of_one(tmp_path):
    single = train(tmp_path / "one", *EXACT, "--epochs", "3")
    double = train(tmp_path / "two", *EXACT, "--epochs", "3", processes=2)
    assert single.returncode == 0 and double.returncode == 0, double.stderr[-2000:]
    assert largest_difference(weights(tmp_path / "one"), weights(tmp_path / "two")) <= 1e-5
    assert double.stdout.count("trained sgnn") == 1  # rank 0 alone reports
    records = [json.loads(line) for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]  # one line an epoch: rank 0 alone writes
    first = json.loads((tmp_path / "one" / "metrics.jsonl").read_text().splitlines()[0])
    assert records[0]["train_loss"] == pytest.approx(first["train_loss"], abs=1e-5)  # over both ranks' rows


ENCODER_SCRIPT = """
import json
import sys
import firth
from firth.train.paragraphs import read_paragraph_sentences

settings = json.loads(sys.argv[3])
if "teacher" in settings:  # a fake teacher: a sentence's vector sums fixed random vectors of its words
    import zlib
    import numpy as np
    import firth.train.teacher as teachers

    def fake(texts):
        return np.stack([sum((np.random.default_rng(zlib.crc32(w.encode())).standard_normal(8)
                              for w in text.lower().split()), np.zeros(8)) for text in texts])
    teachers.load_teacher = lambda directory: fake
paragraphs = read_paragraph_sentences([sys.argv[1]])  # in memory: the global batches of one process
encoder = firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32, epochs=1, batch_size=16,
                                val_paragraphs=10, optimizer="sgd", lr=0.5, schedule="constant", progress=False,
                                **settings)
encoder.fit(paragraphs, out_dir=sys.argv[2])
if firth.train.distributed.is_main():
    encoder.save(sys.argv[2] + "/model")
"""


@pytest.mark.parametrize("settings", [{}, {"loss": "bxent", "learn_scale": True},
                                      {"teacher": "TEACHER", "head_dim": 8}])  # distilled: each rank's own rows
def test_an_encoder_with_gathered_negatives_makes_the_steps_of_one_process(settings, tmp_path):
    if "teacher" in settings:  # the script fakes the model; its vectors are cached under this FIRTH_HOME
        (tmp_path / "teacher").mkdir()
        settings = {**settings, "teacher": str(tmp_path / "teacher")}
    env = {**ENV, "FIRTH_HOME": str(tmp_path / "home")}
    rng = random.Random(0)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(" ".join(f"Paragraph {p} tells fact {s} about {rng.choice(['cats', 'ships'])}."
                                           for s in range(3)) for p in range(80)) + "\n")
    script = tmp_path / "train.py"
    script.write_text(ENCODER_SCRIPT)
    for name, processes in (("one", 1), ("two", 2)):
        args = [str(script), str(corpus), str(tmp_path / name), json.dumps(settings)]
        launch = torchrun(*args, processes=2) if processes > 1 else [sys.executable, *args]
        result = subprocess.run(launch, capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
    assert largest_difference(weights(tmp_path / "one"), weights(tmp_path / "two")) <= 1e-5
    logged = [(tmp_path / name / "metrics.jsonl").read_text().splitlines()[-1] for name in ("one", "two")]
    assert [json.loads(line)["val_MRR"] for line in logged][0] == pytest.approx(json.loads(logged[1])["val_MRR"])


def test_a_killed_two_process_run_resumes_at_either_world_size(tmp_path):
    epochs = ["--epochs", "60"]
    whole = train(tmp_path / "whole", *EXACT, *epochs, processes=2)
    assert whole.returncode == 0, whole.stderr[-2000:]
    out = tmp_path / "killed"
    command = torchrun("-m", "firth", "classify", "train", BBC, *EXACT, *epochs, "--out", str(out))
    run = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    progress, deadline = out / "checkpoint" / "progress.json", time.monotonic() + 90
    while not (progress.exists() and json.loads(progress.read_text())["epoch"] >= 5):
        assert run.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.02)
    kill_tree(run)
    assert not (out / "model").exists()
    shutil.copytree(out, tmp_path / "again")
    for where, processes, tolerance in ((out, 2, 1e-6), (tmp_path / "again", 1, 1e-4)):
        resumed = train(where, *EXACT, *epochs, "--resume", processes=processes)
        assert resumed.returncode == 0, resumed.stderr[-8000:]  # a rank's own abort message comes before torchrun's
        assert largest_difference(weights(where), weights(tmp_path / "whole")) <= tolerance
        logged = [json.loads(line)["epoch"] for line in (where / "metrics.jsonl").read_text().splitlines()]
        assert logged == list(range(1, 61))


def test_two_nodes_rendezvous_on_localhost(tmp_path):
    port = free_port()
    command = ["-m", "firth", "classify", "train", BBC, *EXACT, "--epochs", "2", "--out", str(tmp_path / "nodes")]
    nodes = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes=2", f"--node-rank={rank}",
                               "--nproc-per-node=1", "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{port}",
                               "--rdzv-id=firth-test", *command], env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for rank in (0, 1)]
    results = [node.communicate(timeout=120) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], results[0][1][-2000:]
    single = train(tmp_path / "one", *EXACT, "--epochs", "2")
    assert single.returncode == 0
    assert largest_difference(weights(tmp_path / "one"), weights(tmp_path / "nodes")) <= 1e-5


def test_a_batch_too_small_to_share_is_one_sentence(tmp_path):
    result = train(tmp_path / "small", *EXACT, "--epochs", "1", "--batch-size", "1", processes=2)
    assert result.returncode != 0
    assert "firth: error: 2 processes cannot share batches of 1 rows: each needs at least 2; use fewer processes or " \
           "a larger --batch-size." in result.stderr


# --- sharded batch inference -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    import torch

    import firth
    from firth.text.readers import read_labelled

    root = tmp_path_factory.mktemp("models")
    bbc = read_labelled(BBC)
    firth.TextClassifier(features="counts", epochs=2, val_fraction=0, device="cpu", progress=False).fit(
        bbc.texts, bbc.labels).save(root / "classifier")
    torch.manual_seed(0)
    firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32).save(root / "encoder")
    (root / "lines.txt").write_text("".join(f"line {i}: shares rose and the team won {i} times\n" for i in range(11)))
    return root


def sorted_rows(parts: list) -> list:
    """Shard outputs back in input order: line l is row l // n of shard l % n."""
    n = len(parts)
    return [parts[line % n][line // n] for line in range(sum(map(len, parts)))]


def test_shards_together_equal_one_run(cli, models, tmp_path):
    import numpy as np

    lines = str(models / "lines.txt")
    code, _, err = cli("classify", "predict", str(models / "classifier"), lines, "--output", str(tmp_path / "p.jsonl"))
    assert code == 0, err
    code, _, err = cli("encoder", "embed", str(models / "encoder"), lines, "--output", str(tmp_path / "v.npy"))
    assert code == 0, err
    for i in range(3):
        assert cli("classify", "predict", str(models / "classifier"), lines, "--output", str(tmp_path / "p.jsonl"),
                   "--shard", f"{i}/3")[0] == 0
        assert cli("encoder", "embed", str(models / "encoder"), lines, "--output", str(tmp_path / "v.npy"),
                   "--shard", f"{i}/3")[0] == 0
    predictions = [(tmp_path / f"p-{i:05d}-of-00003.jsonl").read_text().splitlines() for i in range(3)]
    assert [len(p) for p in predictions] == [4, 4, 3]
    assert sorted_rows(predictions) == (tmp_path / "p.jsonl").read_text().splitlines()
    vectors = [list(np.load(tmp_path / f"v-{i:05d}-of-00003.npy")) for i in range(3)]
    # equal to float rounding: a batch's matrix products run over its distinct words, fewer in a shard's batch
    assert np.allclose(np.stack(sorted_rows(vectors)), np.load(tmp_path / "v.npy"), rtol=0, atol=1e-6)


@pytest.mark.parametrize("shard, code, message", [
    ("3/2", 2, "argument --shard: must be I/N with 0 <= I < N, or rank, got '3/2'"),
    ("rank", 2, "'rank' takes torchrun's RANK and WORLD_SIZE, and this process was not started by torchrun"),
    ("11/12", 1, "has 11 lines, none of them for shard 11/12; use at most 11 shards."),
])
def test_a_shard_that_cannot_be_is_one_sentence(shard, code, message, models, tmp_path, monkeypatch, capsys):
    from firth.cli import main

    monkeypatch.delenv("RANK", raising=False)
    argv = ["encoder", "embed", str(models / "encoder"), str(models / "lines.txt"), "--output", str(tmp_path / "v.npy"),
            "--shard", shard]
    try:
        exit_code = main(argv)
    except SystemExit as e:  # argparse's refusal of the option itself
        exit_code = e.code
    err = capsys.readouterr().err
    assert exit_code == code and message in err and err.strip().splitlines()[-1].startswith("firth")
    assert not list(tmp_path.iterdir())


def test_a_rank_other_than_0_writes_nothing(tmp_path, monkeypatch):
    import torch

    from firth.config import TrainConfig
    from firth.train import ArrayDataset, Trainer, distributed

    monkeypatch.setattr(distributed, "rank", lambda: 1)  # as rank 1 of a torchrun job sees itself (no validation:
    # rank 1 would wait for rank 0's result)
    data = ArrayDataset(torch.randn(32, 4).numpy(), (torch.arange(32) % 2).numpy())
    trainer = Trainer(torch.nn.Linear(4, 2), TrainConfig(epochs=2, batch_size=8, device="cpu", progress=False),
                      out_dir=tmp_path / "run")
    history = trainer.fit(data)
    assert len(history) == 2 and not (tmp_path / "run").exists()  # no metrics, plot or checkpoint
