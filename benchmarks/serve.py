"""`firth serve` under load: requests/s, docs/s, latency and memory with 1, 8 and 32 concurrent clients.

    python benchmarks/serve.py [--quick] [--classifier DIR]

Starts `firth serve` on 127.0.0.1 (a free port) with the SGNN classifier
trained here on bbc-news (2 epochs with `--quick`, else 8), or `--classifier
DIR`, and drives it from this process with 1, 8 and 32 client threads, each
sending requests of one bbc-news test article (`--quick`: 200 requests per
client count, else 1,000; each client keeps its HTTP/1.1 connection alive;
every loop bounded in count and time; loopback only). Reports requests/s, docs/s, p50 and p99 latency, errors, and the
server's peak RSS (VmHWM) after each client count, beside the in-process
`predict` docs/s on the same texts (the best of three passes). The last line is one JSON object
{"clients": {"1": {...}, "8": {...}, "32": {...}}, "errors": N,
"inprocess_docs_per_s": x, "served_docs_per_s": y, "ratio": y/x, "peak_rss_mb": z}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
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


class Client:
    """One client: an HTTP/1.1 connection kept alive across its requests, as requests.Session keeps one."""

    def __init__(self, port: int):
        self.port, self.connection = port, None

    def post(self, path: str, texts: list[str]) -> tuple[bool, float]:
        """(whether it answered 200 with predictions, seconds)."""
        body = json.dumps({"texts": texts})
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request("POST", path, body, {"Content-Type": "application/json"})
            response = self.connection.getresponse()
            answer = response.read()  # all of it, so that the connection can take the next request
            ok = response.status == 200 and "predictions" in json.loads(answer)
        except (OSError, ValueError, http.client.HTTPException):
            self.connection, ok = None, False
        return ok, time.perf_counter() - started


def processes(pid: int) -> list[int]:
    """`pid` and its descendants (a server with --workers runs its model in child processes); none once ended."""
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid] + [p for child in found for p in processes(int(child))]


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of `pid` and its descendants, summed."""
    total = 0
    for process in processes(pid):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds that `pid` and its descendants have used so far."""
    ticks = 0
    for process in processes(pid):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def drive(port: int, server_pid: int, texts: list[str], clients: int, requests: int) -> dict:
    """`requests` single-text requests to /predict from `clients` threads, each with its own connection;
    bounded by DEADLINE_S. Also how many of the machine's cores the server and the clients kept busy."""
    stop = time.monotonic() + DEADLINE_S
    per_client = [[texts[i % len(texts)] for i in range(c, requests, clients)] for c in range(clients)]

    def run(work: list[str]) -> list[tuple[bool, float]]:
        client = Client(port)
        return [client.post("/predict", [text]) if time.monotonic() < stop else (False, 0.0) for text in work]

    started, server_cpu, client_cpu = time.perf_counter(), cpu_seconds(server_pid), sum(os.times()[:2])
    with ThreadPoolExecutor(clients) as pool:
        results = [result for done in pool.map(run, per_client) for result in done]
    seconds = time.perf_counter() - started
    server_cores = (cpu_seconds(server_pid) - server_cpu) / seconds
    client_cores = (sum(os.times()[:2]) - client_cpu) / seconds
    latencies = np.array([s for ok, s in results if ok])
    return {"requests_per_s": round(len(latencies) / seconds, 1), "docs_per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1) if len(latencies) else None,
            "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 1) if len(latencies) else None,
            "errors": sum(not ok for ok, _ in results),
            "server_cores": round(server_cores, 2), "client_cores": round(client_cores, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests a client count, a 2-epoch model")
    parser.add_argument("--classifier", metavar="DIR", help="a classifier model directory to serve")
    parser.add_argument("--workers", type=int, default=1, help="`firth serve --workers`: server processes")
    args = parser.parse_args()
    texts = list(firth.data.load("bbc-news").test.texts)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(args.classifier) if args.classifier else Path(tmp) / "run" / "model"
        if not args.classifier:
            subprocess.run([*FIRTH, "classify", "train", "bbc-news", "--model", "sgnn", "--epochs",
                            "2" if args.quick else "8", "--out", str(Path(tmp) / "run"), "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
        model = firth.load(model_dir)
        inprocess = 0.0
        for _ in range(3):  # the best of three passes, as the server sees these texts again and again
            started = time.perf_counter()
            model.predict(texts)
            inprocess = max(inprocess, len(texts) / (time.perf_counter() - started))
        port = free_port()
        server = subprocess.Popen([*FIRTH, "serve", str(model_dir), "--port", str(port), "--workers",
                                   str(args.workers)],
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
                row = drive(port, server.pid, texts, clients, 200 if args.quick else 1000)
                row["peak_rss_mb"] = round(peak_rss_mb(server.pid), 1)
                result["clients"][str(clients)] = row
                print(f"{clients:>2} clients: {row['requests_per_s']:,.1f} requests/s, p50 {row['p50_ms']} ms, "
                      f"p99 {row['p99_ms']} ms, {row['errors']} errors, server peak RSS {row['peak_rss_mb']} MB, "
                      f"cores busy: server {row['server_cores']}, clients {row['client_cores']}",
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
