"""Training beyond one process: one process against torchrun with 2 processes and with 2 "nodes" on localhost.

    python benchmarks/distributed.py [--quick]

- The SGNN classifier on bbc-news (`make run`'s settings but early stopping
  on the validation loss; 4 epochs with `--quick`, else 12) in 1 process, under `torchrun --nproc-per-node 2`, and
  as two one-process "nodes" meeting at a c10d rendezvous on 127.0.0.1:
  test accuracy, wall time, training samples/s (from metrics.jsonl).
- The first optimizer step of 1 process and of 2 with the same global batch
  (64 bbc-news training articles, every 25th, one step: plain SGD, no batch norm, no
  dropout, so that the two must agree): the largest parameter difference.
- A small encoder (d_model 64, one layer, the lexical channel, warm-up 30
  steps) on wiki-sample, 2 epochs (about 150 steps), in 1 process, in 2 with each rank's own in-batch negatives (`--no-gather-negatives`)
  and in 2 with the negatives gathered across ranks: validation R@1 and MRR,
  wall time, tokens/s.

Every run is the real CLI (`python -m firth ...`, under torchrun where it says).
The last line is one JSON object {"classifier": {"single", "ddp2", "nodes2",
"first_step_max_param_diff"}, "encoder": {"single", "ddp2", "gathered_negatives"}}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from safetensors.torch import load_file

import firth
import firth.data

PYTHON = sys.executable
TORCHRUN = [PYTHON, "-m", "torch.distributed.run"]
CLASSIC_PROJECTION = ["--feature-param", "mode=float", "--feature-param", "n_hashes=80", "--feature-param", "bits=14",
                      "--feature-param", "ngram_range=[1,3]"]  # the SGNN's before it had projection defaults of its own
SGNN = ["--model", "sgnn", *CLASSIC_PROJECTION, "--hidden", "256", "128", "--pooling", "meanmax",
        "--lr", "0.003", "--schedule", "cosine", "--warmup", "50", "--clip-grad", "1", "--batch-size", "64",
        "--quiet"]  # not `make run`'s --monitor val_acc: torchrun takes --monitor for its own --monitor-interval
EXACT = ["--model", "sgnn", *CLASSIC_PROJECTION, "--hidden", "64", "--no-batch-norm", "--dropout", "0",
         "--optimizer", "sgd", "--lr", "0.5", "--schedule", "constant", "--warmup", "0", "--val-fraction", "0",
         "--epochs", "1",
         "--batch-size", "64", "--quiet"]
ENCODER = ["wiki-sample", "--d-model", "64", "--n-layers", "1", "--n-heads", "4", "--d-ff", "128", "--epochs", "2",
           "--batch-size", "128", "--warmup", "30", "--quiet"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(kind: str, argv: list[str]) -> list[list[str]]:
    """The command lines of one run: `single` (1 process), `ddp2` (torchrun, 2 processes) or `nodes2`."""
    command = ["-m", "firth", *argv]
    if kind == "single":
        return [[PYTHON, *command]]
    if kind == "ddp2":
        return [[*TORCHRUN, "--standalone", "--nproc-per-node=2", *command]]
    endpoint = f"127.0.0.1:{free_port()}"
    return [[*TORCHRUN, "--nnodes=2", f"--node-rank={rank}", "--nproc-per-node=1", "--rdzv-backend=c10d",
             f"--rdzv-endpoint={endpoint}", "--rdzv-id=firth-bench", *command] for rank in (0, 1)]


def run(kind: str, argv: list[str]) -> tuple[str, float]:
    """(rank 0's standard output, wall seconds) of a run; a failed run stops the benchmark."""
    started = time.perf_counter()
    processes = [subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for line in launch(kind, argv)]
    outputs = [p.communicate(timeout=900) for p in processes]
    seconds = time.perf_counter() - started
    for process, (_, err) in zip(processes, outputs):
        if process.returncode:
            sys.exit(f"{kind} run failed:\n{err[-3000:]}")
    return "".join(out for out, _ in outputs), seconds


def records(out_dir: Path) -> list[dict]:
    """The run's metrics.jsonl records (one per evaluation)."""
    return [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]


def classifier(tmp: Path, epochs: int) -> dict:
    n_train = int(0.9 * len(firth.data.load("bbc-news").train.texts))  # val_fraction 0.1 is held out
    result = {}
    for kind in ("single", "ddp2", "nodes2"):
        out = tmp / f"clf-{kind}"
        stdout, seconds = run(kind, ["classify", "train", "bbc-news", *SGNN, "--epochs", str(epochs),
                                     "--out", str(out)])
        epochs_run = records(out)
        accuracy = float(re.search(r"test: accuracy ([0-9.]+)", stdout).group(1))
        result[kind] = {"test_acc": accuracy, "wall_s": round(seconds, 1), "epochs": len(epochs_run),
                        "samples_per_s": round(n_train * len(epochs_run) / sum(r["seconds"] for r in epochs_run), 1)}
        print(f"classifier {kind}: test accuracy {accuracy:.4f}, {seconds:.1f} s, "
              f"{result[kind]['samples_per_s']:,.0f} samples/s", flush=True)
    return result


def first_step_difference(tmp: Path) -> float:
    """The largest parameter difference after one step of 1 process and of 2 on the same 64 articles."""
    train = firth.data.load("bbc-news").train
    data = tmp / "first64.jsonl"
    rows = range(0, 64 * 25, 25)  # 64 articles spread over the split (it is ordered by class)
    data.write_text("".join(json.dumps({"text": train.texts[i], "label": train.labels[i]}) + "\n" for i in rows))
    weights = {}
    for kind in ("single", "ddp2"):
        run(kind, ["classify", "train", str(data), *EXACT, "--out", str(tmp / f"step-{kind}")])
        weights[kind] = load_file(str(tmp / f"step-{kind}" / "model" / "model.safetensors"))
    return max(float((weights["single"][k] - weights["ddp2"][k]).abs().max()) for k in weights["single"])


def encoder(tmp: Path) -> dict:
    result = {}
    for name, kind, extra in (("single", "single", []), ("ddp2", "ddp2", ["--no-gather-negatives"]),
                              ("gathered_negatives", "ddp2", [])):
        out = tmp / f"enc-{name}"
        stdout, seconds = run(kind, ["encoder", "train", *ENCODER, *extra, "--out", str(out)])
        found = re.search(r"validation R@1 ([0-9.]+), MRR ([0-9.]+)", stdout)
        result[name] = {"val_R1": float(found.group(1)), "val_MRR": float(found.group(2)),
                        "wall_s": round(seconds, 1), "tokens_per_s": round(sum(
                            r["tokens_per_s"] * r["seconds"] for r in records(out)) / sum(
                            r["seconds"] for r in records(out)), 1)}
        print(f"encoder {name}: validation R@1 {found.group(1)}, MRR {found.group(2)}, {seconds:.1f} s, "
              f"{result[name]['tokens_per_s']:,.0f} tokens/s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 classifier epochs instead of 12")
    args = parser.parse_args()
    import torch

    print(f"firth {firth.__version__}, torch {torch.__version__}, {os.cpu_count()} cores, "
          f"CUDA: {torch.cuda.is_available()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        result = {"classifier": classifier(tmp, 4 if args.quick else 12)}
        result["classifier"]["first_step_max_param_diff"] = first_step_difference(tmp)
        print(f"first step, 1 vs 2 processes: largest parameter difference "
              f"{result['classifier']['first_step_max_param_diff']:.2e}", flush=True)
        result["encoder"] = encoder(tmp)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
