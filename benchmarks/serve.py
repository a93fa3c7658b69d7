"""`firth serve` under load: requests/s, docs/s, latency and memory with 1, 8 and 32 concurrent clients.

    python benchmarks/serve.py [--quick] [--classifier DIR]

Starts `firth serve` on 127.0.0.1 (a free port) with the SGNN classifier
trained here on bbc-news (2 epochs with `--quick`, else 8), or `--classifier
DIR`, and drives it from this process with 1, 8 and 32 client threads, each
sending requests of one bbc-news test article (`--quick`: 200 requests per
client count, else 1,000; every loop bounded in count and time; loopback
only). Reports requests/s, docs/s, p50 and p99 latency, errors, and the
server's peak RSS (VmHWM) after each client count, beside the in-process
`predict` docs/s on the same texts. The last line is one JSON object
{"clients": {"1": {...}, "8": {...}, "32": {...}}, "errors": N,
"inprocess_docs_per_s": x, "served_docs_per_s": y, "ratio": y/x, "peak_rss_mb": z}.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import firth
import firth.data

FIRTH = [sys.executable, "-m", "firth"]
DEADLINE_S = 120  # no client count runs longer than this


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, texts: list[str]) -> tuple[bool, float]:
    """(whether it answered 200, seconds)."""
    body = json.dumps({"texts": texts}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            ok = response.status == 200 and "predictions" in json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        ok = False
    return ok, time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drive(url: str, texts: list[str], clients: int, requests: int) -> dict:
    """`requests` single-text requests from `clients` threads; bounded by DEADLINE_S."""
    stop = time.monotonic() + DEADLINE_S
    work = [texts[i % len(texts)] for i in range(requests)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda text: post(url, [text]) if time.monotonic() < stop else (False, 0.0), work))
    seconds = time.perf_counter() - started
    latencies = np.array([s for ok, s in results if ok])
    return {"requests_per_s": round(len(latencies) / seconds, 1), "docs_per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1) if len(latencies) else None,
            "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 1) if len(latencies) else None,
            "errors": sum(not ok for ok, _ in results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests a client count, a 2-epoch model")
    parser.add_argument("--classifier", metavar="DIR", help="a classifier model directory to serve")
    args = parser.parse_args()
    texts = list(firth.data.load("bbc-news").test.texts)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(args.classifier) if args.classifier else Path(tmp) / "run" / "model"
        if not args.classifier:
            subprocess.run([*FIRTH, "classify", "train", "bbc-news", "--model", "sgnn", "--feature-param",
                            "mode=float", "--hidden", "256", "128", "--pooling", "meanmax", "--epochs",
                            "2" if args.quick else "8", "--out", str(Path(tmp) / "run"), "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
        model = firth.load(model_dir)
        model.predict(texts[:10])
        started = time.perf_counter()
        model.predict(texts)
        inprocess = len(texts) / (time.perf_counter() - started)
        port = free_port()
        server = subprocess.Popen([*FIRTH, "serve", str(model_dir), "--port", str(port)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"{url}/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            result: dict = {"clients": {}}
            for clients in (1, 8, 32):
                row = drive(f"{url}/predict", texts, clients, 200 if args.quick else 1000)
                row["peak_rss_mb"] = round(peak_rss_mb(server.pid), 1)
                result["clients"][str(clients)] = row
                print(f"{clients:>2} clients: {row['requests_per_s']:,.1f} requests/s, p50 {row['p50_ms']} ms, "
                      f"p99 {row['p99_ms']} ms, {row['errors']} errors, server peak RSS {row['peak_rss_mb']} MB",
                      flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result["errors"] = sum(row["errors"] for row in result["clients"].values())
    result["inprocess_docs_per_s"] = round(inprocess, 1)
    result["served_docs_per_s"] = result["clients"]["32"]["docs_per_s"]
    result["ratio"] = round(result["served_docs_per_s"] / inprocess, 3)
    result["peak_rss_mb"] = max(row["peak_rss_mb"] for row in result["clients"].values())
    print(f"in-process predict: {inprocess:,.1f} docs/s; served at 32 clients: {result['served_docs_per_s']:,.1f} "
          f"docs/s ({result['ratio']:.2f}x)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
