"""Memory of training on corpora streamed from disk against corpora held in memory, as the corpus grows.

    python benchmarks/streaming.py [--quick]

The corpus is wiki-sample's first 2,000 paragraphs (with `--quick`; else
wiki-sample and bbc-paragraphs), written to a JSON-lines file 1, 2 and 4 times over. For each
size, in a fresh process each, the peak memory of:

- the encoder (d_model 64, one layer, 80 steps of 128 sentences, whatever the
  corpus size, validated after each epoch and at the end): streamed
  (`SentenceEncoder.fit(ParagraphSources([file]))`, what `firth encoder
  train` runs) and in memory (`fit(read_paragraph_sentences([file]))`);
- word2vec (the fast model, dim 50, one epoch): streamed
  (`Word2Vec.fit(paragraph_words([file]))`, what `firth word2vec train`
  runs) and in memory (`fit(list(paragraph_words([file])))`).

The peak is that of the proportional set size (PSS, /proc/PID/smaps_rollup)
of the training process and its children (the DataLoader worker that reads the
stream) together, sampled every 50 ms: pages they share count once. word2vec trains whole epochs (its chunks
are what streams), so the larger corpus also trains longer. Reports the growth
of the peak from 1x to 4x (target for the streamed pipelines: under 10%). The last line is one JSON object
{"encoder": {"streamed": {...}, "in_memory": {...}}, "word2vec": {...}}, each
with the peak MB at 1x, 2x, 4x and "growth_1x_to_4x".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import firth
import firth.data
from serve import processes

RUN = """
import sys
kind, pipeline, path = sys.argv[1:4]
import firth
from firth.data import paragraph_words
from firth.train.paragraphs import ParagraphSources, read_paragraph_sentences
if kind == "encoder":
    data = ParagraphSources([path]) if pipeline == "streamed" else read_paragraph_sentences([path])
    firth.SentenceEncoder(d_model=64, n_layers=1, n_heads=4, d_ff=128, epochs=100, max_steps=80, batch_size=128,
                          val_paragraphs=100, patience=None, progress=False).fit(data)
else:
    data = paragraph_words([path]) if pipeline == "streamed" else list(paragraph_words([path]))
    firth.Word2Vec(dim=50, epochs=1, progress=False).fit(data)
"""


def write_corpus(path: Path, paragraphs: list[dict], times: int) -> None:
    """The paragraphs `times` over, each copy's documents renamed (a larger corpus, not a repeated file)."""
    with open(path, "w", encoding="utf-8") as f:
        for copy in range(times):
            for p in paragraphs:
                f.write(json.dumps({"doc": f"{p['doc']} ({copy})", "text": p["text"]}) + "\n")


def tree_pss_mb(pid: int) -> float:
    """The proportional set size of a process and its descendants, in MB: each shared page counted once
    over them (a DataLoader worker forked from the trainer shares most of its pages)."""
    total = 0
    for process in processes(pid):
        try:
            for line in Path(f"/proc/{process}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:  # it ended between the listing and the reading
            pass
    return total / 1024


def peak_mb(kind: str, pipeline: str, corpus: Path) -> tuple[float, float]:
    """(the peak of the run's memory, sampled every 50 ms, in MB; wall seconds) of one training run."""
    started, peak = time.perf_counter(), 0.0
    run = subprocess.Popen([sys.executable, "-c", RUN, kind, pipeline, str(corpus)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    while run.poll() is None:
        peak = max(peak, tree_pss_mb(run.pid))
        time.sleep(0.05)
    _, err = run.communicate()
    if run.returncode:
        sys.exit(f"{kind} {pipeline} on {corpus.name} failed:\n{err[-3000:]}")
    return peak, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 wiki-sample paragraphs as the 1x corpus")
    args = parser.parse_args()
    names = ["wiki-sample"] if args.quick else ["wiki-sample", "bbc-paragraphs"]
    paragraphs = [{"doc": p.doc, "text": p.text} for name in names for p in firth.data.paragraphs(name)]
    paragraphs = paragraphs[:2000] if args.quick else paragraphs
    print(f"firth {firth.__version__}; 1x corpus: {', '.join(names)}, {len(paragraphs):,} paragraphs", flush=True)
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpora = {}
        for times in (1, 2, 4):
            corpora[times] = Path(tmp) / f"corpus-{times}x.jsonl"
            write_corpus(corpora[times], paragraphs, times)
        for kind in ("encoder", "word2vec"):
            for pipeline in ("streamed", "in_memory"):
                row = {}
                for times, corpus in corpora.items():
                    mb, seconds = peak_mb(kind, pipeline.replace("_", "-"), corpus)
                    row[f"{times}x_mb"] = round(mb, 1)
                    print(f"{kind} {pipeline} {times}x: peak {mb:,.1f} MB ({seconds:.0f} s)", flush=True)
                row["growth_1x_to_4x"] = round(row["4x_mb"] / row["1x_mb"] - 1, 4)
                result.setdefault(kind, {})[pipeline] = row
                print(f"{kind} {pipeline}: peak RSS grows {row['growth_1x_to_4x']:+.1%} from 1x to 4x", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
