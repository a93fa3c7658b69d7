"""Streaming: peak memory of `firth classify predict` and `firth encoder embed` as the input grows.

    python benchmarks/stream_predict.py [--quick] [--classifier DIR] [--encoder DIR]

Input: rotten-tomatoes review snippets (its train split, one a line), repeated
to 10,000, 50,000 and 200,000 lines. Each command runs in its own process,
reading the file, and its peak resident memory (ru_maxrss, taken by a parent
that waits for it alone) is reported; the target is growth below 10% from
10k to 200k lines. Then each runs with standard input a pipe: one line is
written, and the seconds until its answer exists (a JSON line on standard
output for predict; rows in the output's temporary file for embed, written
as JSON lines) are measured while the pipe stays open; the target is that
the answer comes before the input is closed.

Models: the SGNN classifier trained here on bbc-news (2 epochs with
`--quick`, else 8), or `--classifier DIR`; for embed an encoder of the
default architecture (untrained: its weights do not change its memory), or
with `--quick` a small one (d_model 64, one layer, no lexical channel, so
the 200k-line .npy stays at 100 MB), or `--encoder DIR`. The last line is
one JSON object {"predict": {"10000": mb, ...}, "embed": {...},
"growth_predict", "growth_embed", "first_line_s_predict", "first_line_s_embed"}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import firth
import firth.data

SIZES = (10_000, 50_000, 200_000)
FIRTH = [sys.executable, "-m", "firth"]
MEASURE = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); " \
          "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"


def peak_rss_mb(command: list[str]) -> float:
    """Peak resident memory (MB) of `command`, measured by a parent that runs nothing else."""
    result = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    return float(result.stdout)


def input_files(directory: Path) -> dict[int, Path]:
    """Files of 10k, 50k and 200k lines of real review snippets."""
    texts = [" ".join(t.split()) for t in firth.data.load("rotten-tomatoes").train.texts if t.strip()]
    files = {}
    for size in SIZES:
        path = directory / f"{size}.txt"
        path.write_text("".join(texts[i % len(texts)] + "\n" for i in range(size)), encoding="utf-8")
        files[size] = path
    return files


def first_answer_s(command: list[str], ready) -> float:
    """Seconds from writing one line into `command`'s open standard input until `ready()` says it answered."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(5)  # let it load its model first
        started = time.perf_counter()
        process.stdin.write(b"A funny, warm and clever film about growing up.\n")
        process.stdin.flush()
        while not ready(process):
            if process.poll() is not None or time.perf_counter() - started > 60:
                raise RuntimeError(f"no answer before the input closed: {process.stderr.read().decode()}")
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        process.kill()
        process.wait()


def stdout_has_a_line(process) -> bool:
    return bool(select.select([process.stdout], [], [], 0)[0]) and bool(process.stdout.readline())


def temporary_output_grew(directory: Path):
    return lambda process: any(p.stat().st_size > 0 for p in directory.glob(".*.tmp"))


def train_classifier(directory: Path, epochs: int) -> Path:
    subprocess.run([*FIRTH, "classify", "train", "bbc-news", "--model", "sgnn", "--epochs", str(epochs), "--out",
                    str(directory / "clf"), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return directory / "clf" / "model"


def save_encoder(directory: Path, quick: bool) -> Path:
    settings = dict(d_model=64, n_layers=1, n_heads=2, d_ff=128, lexical=False) if quick else {}
    torch.manual_seed(0)
    firth.SentenceEncoder(**settings).save(directory / "enc")
    return directory / "enc"


def growth(peaks: dict[int, float]) -> float:
    return peaks[SIZES[-1]] / peaks[SIZES[0]] - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2-epoch classifier and a small encoder")
    parser.add_argument("--classifier", metavar="DIR", help="a classifier model directory to use")
    parser.add_argument("--encoder", metavar="DIR", help="an encoder model directory to use")
    args = parser.parse_args()
    print(f"firth {firth.__version__}, torch {torch.__version__}, {os.cpu_count()} cores, {platform.machine()}",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = input_files(tmp)
        classifier = Path(args.classifier) if args.classifier else train_classifier(tmp, 2 if args.quick else 8)
        encoder = Path(args.encoder) if args.encoder else save_encoder(tmp, args.quick)
        result: dict = {"predict": {}, "embed": {}}
        for size, path in files.items():
            result["predict"][str(size)] = round(peak_rss_mb([*FIRTH, "classify", "predict", str(classifier), str(path)]), 1)
            out = tmp / "vectors.npy"
            result["embed"][str(size)] = round(peak_rss_mb([*FIRTH, "encoder", "embed", str(encoder), str(path),
                                                            "--output", str(out)]), 1)
            out.unlink()
            print(f"{size:>7,} lines: predict {result['predict'][str(size)]:,.1f} MB, "
                  f"embed {result['embed'][str(size)]:,.1f} MB peak RSS", flush=True)
        predict = {int(k): v for k, v in result["predict"].items()}
        embed = {int(k): v for k, v in result["embed"].items()}
        result["growth_predict"], result["growth_embed"] = round(growth(predict), 4), round(growth(embed), 4)
        (tmp / "piped").mkdir()
        result["first_line_s_predict"] = round(first_answer_s([*FIRTH, "classify", "predict", str(classifier)],
                                                              stdout_has_a_line), 3)
        result["first_line_s_embed"] = round(first_answer_s(
            [*FIRTH, "encoder", "embed", str(encoder), "-", "--output", str(tmp / "piped" / "v.jsonl")],
            temporary_output_grew(tmp / "piped")), 3)
    print(f"growth 10k -> 200k lines: predict {result['growth_predict']:+.1%}, embed {result['growth_embed']:+.1%} "
          f"(target < +10%)")
    print(f"first answer with the input still open: predict after {result['first_line_s_predict']:.3f} s, "
          f"embed after {result['first_line_s_embed']:.3f} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
