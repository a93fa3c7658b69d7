"""`firth serve`: a model behind an HTTP API (FastAPI), with a page to try it.

    firth serve runs/bbc/model --port 8000        # or an exported (ONNX) directory
    curl -s localhost:8000/predict -d '{"texts": ["The striker scored twice"]}'

Endpoints: `POST /predict` (classifiers: label, probability, the top k labels),
`POST /embed` (encoders: vectors), `POST /similar` (encoders: the nearest
sentences of the `--corpus` file, indexed once at start-up), `GET /health`,
`GET /info` (the model card as JSON), `GET /` (a page to try the model) and
the OpenAPI docs at `/docs`. Concurrent requests are gathered into one model
call (micro-batching: up to `max_batch` texts, waiting at most `batch_wait_ms`
for company). Requests are bounded (`max_texts` texts of at most
`max_text_bytes` bytes each: 413 beyond, 422 for a malformed body, 400 for
broken JSON) and every error is a one-sentence JSON `{"error": ...}`; nothing
a client sends produces a 500. `workers` > 1 runs that many server processes,
each with its own model, on one port: the Python of HTTP and featurization holds
one core per process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from firth.errors import FirthError
from firth.io.card import read_card
from firth.io.jsonfiles import read_json
from firth.runtime.session import EXPORTED, EXPORTED_ENCODER


@dataclass(frozen=True)
class Limits:
    """What one request may ask, and how requests are batched together."""

    max_texts: int = 256  # texts in one request
    max_text_bytes: int = 100_000  # UTF-8 bytes of one text
    max_batch: int = 256  # texts of one model call, gathered across requests
    batch_wait_ms: float = 5.0  # how long the first request of a batch waits for others

    def __post_init__(self):
        for name in ("max_texts", "max_text_bytes", "max_batch"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise FirthError(f"{name} must be a whole number of at least 1, got {getattr(self, name)!r}.")
        if not 0 <= self.batch_wait_ms <= 1000:
            raise FirthError(f"batch_wait_ms must be between 0 and 1000, got {self.batch_wait_ms}.")


class Texts(BaseModel):
    texts: list[str] = Field(min_length=1, description="the texts, one item each")
    top_k: int = Field(default=3, ge=1, le=100, description="predict: how many labels to list")
    normalize: bool = Field(default=False, description="embed: unit-length vectors")


class Query(BaseModel):
    query: str = Field(min_length=1)
    k: int = Field(default=10, ge=1, le=1000)


class TooLarge(Exception):
    """A request over the limits (413)."""


class Batcher:
    """Gathers the texts of concurrent requests into model calls of at most `max_batch` texts."""

    def __init__(self, compute: Callable[[list[str]], np.ndarray], limits: Limits):
        self.compute, self.limits = compute, limits
        self.queue: asyncio.Queue | None = None

    async def __call__(self, texts: list[str]) -> np.ndarray:
        if self.queue is None:
            self.queue = asyncio.Queue()
            asyncio.get_running_loop().create_task(self._run())
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((texts, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            waiting = [await self.queue.get()]
            size = len(waiting[0][0])
            deadline = loop.time() + self.limits.batch_wait_ms / 1000
            while size < self.limits.max_batch and (left := deadline - loop.time()) > 0:
                try:
                    waiting.append(await asyncio.wait_for(self.queue.get(), left))
                except asyncio.TimeoutError:
                    break
                size += len(waiting[-1][0])
            texts = [text for request, _ in waiting for text in request]
            try:
                rows = await loop.run_in_executor(None, self.compute, texts)
            except Exception as e:  # the model's own failure reaches each request as an error, not a hang
                for _, future in waiting:
                    future.set_exception(e)
                continue
            start = 0
            for request, future in waiting:
                future.set_result(rows[start:start + len(request)])
                start += len(request)


def load_servable(directory: str | Path):
    """A full model directory (firth.load), an exported one (firth.runtime.load), or a shipped model's name."""
    from firth.io.pretrained import model_path

    directory = model_path(directory)
    if not Path(directory).is_dir():
        raise FirthError(f"{directory}: no such model directory.")
    saved = read_json(Path(directory) / "config.json")
    if isinstance(saved, dict) and saved.get("type") in (EXPORTED, EXPORTED_ENCODER):
        import firth.runtime

        return firth.runtime.load(directory)
    import firth

    model = firth.load(directory)
    if type(model).__name__ not in ("TextClassifier", "SentenceEncoder"):
        raise FirthError(f"{directory}: a {type(model).__name__} cannot be served; classifiers and sentence "
                         "encoders can.")
    return model


WORKER_ENV = "FIRTH_SERVE"  # how `serve` tells its worker processes what to serve (JSON)


def serve(directory: str | Path, corpus_file: str | None, limits: Limits, host: str, port: int,
          workers: int = 1) -> None:
    """Serve the model in `directory` at http://host:port until interrupted, in `workers` processes."""
    import uvicorn

    spec = {"directory": str(directory), "corpus_file": corpus_file, "limits": dataclasses.asdict(limits)}
    if workers > 1 and corpus_file == "-":
        raise FirthError("--corpus - (standard input) cannot be read by several --workers; give a file.")
    app = app_from_spec(spec)  # a model that cannot be served fails here, once, in one sentence
    print(f"serving {directory} at http://{host}:{port} (page at /, API docs at /docs)"
          f"{f' in {workers} processes' if workers > 1 else ''}", flush=True)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    del app
    os.environ[WORKER_ENV] = json.dumps(spec)
    uvicorn.run("firth.serve:worker_app", factory=True, host=host, port=port, workers=workers, log_level="warning")


def worker_app() -> FastAPI:
    """The app of one worker process of `serve(..., workers=N)`, from the spec it left in the environment."""
    return app_from_spec(json.loads(os.environ[WORKER_ENV]))


def app_from_spec(spec: dict) -> FastAPI:
    """create_app on a model directory, a corpus file (or none) and limits, as JSON can carry them."""
    from firth.text.readers import text_lines

    corpus = text_lines(spec["corpus_file"]) if spec["corpus_file"] else None
    return create_app(spec["directory"], corpus, Limits(**spec["limits"]))


def create_app(directory: str | Path, corpus: list[str] | None = None, limits: Limits = Limits()) -> FastAPI:
    """The API of the model in `directory`; `corpus` lines are what /similar searches."""
    model = load_servable(directory)
    is_classifier = hasattr(model, "predict_proba")
    if corpus is not None and is_classifier:
        raise FirthError("--corpus is for sentence encoders; this model is a classifier.")
    card = read_card(directory) or {}
    app = FastAPI(title="firth", description=f"{card.get('summary', '')}")
    batcher = Batcher(model.predict_proba if is_classifier else model.encode, limits)
    index = model.encode(corpus, normalize_embeddings=True) if corpus else None

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problem = exc.errors()[0] if exc.errors() else {}
        if problem.get("type") == "json_invalid":
            return error(400, "the request body is not valid JSON.")
        where = ".".join(str(p) for p in problem.get("loc", ())[1:]) or "the body"
        return error(422, f"{where}: {problem.get('msg', 'is not valid')}.")

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, exc: TooLarge) -> JSONResponse:
        return error(413, str(exc))

    @app.exception_handler(FirthError)
    async def refused(request: Request, exc: FirthError) -> JSONResponse:
        return error(422, str(exc))

    def check(texts: list[str]) -> None:
        if len(texts) > limits.max_texts:
            raise TooLarge(f"{len(texts)} texts in one request; at most {limits.max_texts} are taken.")
        longest = max(len(t.encode("utf-8")) for t in texts)
        if longest > limits.max_text_bytes:
            raise TooLarge(f"a text of {longest:,} bytes; at most {limits.max_text_bytes:,} bytes a text.")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/info")
    async def info() -> dict:
        return {"kind": "classifier" if is_classifier else "encoder", "card": card,
                "corpus_lines": len(corpus or ()),
                "limits": {"max_texts": limits.max_texts, "max_text_bytes": limits.max_text_bytes}}

    @app.post("/predict")
    async def predict(body: Texts) -> dict:
        if not is_classifier:
            raise FirthError("this model is a sentence encoder; use /embed or /similar.")
        check(body.texts)
        rows = await batcher(body.texts)
        classes = [str(c) for c in model.classes_]
        results = []
        for row in rows:
            order = np.argsort(-row, kind="stable")[:body.top_k]
            results.append({"label": classes[order[0]], "probability": round(float(row[order[0]]), 6),
                            "top": [{"label": classes[i], "probability": round(float(row[i]), 6)} for i in order]})
        return {"predictions": results}

    @app.post("/embed")
    async def embed(body: Texts) -> dict:
        if is_classifier:
            raise FirthError("this model is a classifier; use /predict.")
        check(body.texts)
        rows = await batcher(body.texts)
        if body.normalize:
            rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return {"vectors": np.round(rows, 6).tolist()}

    @app.post("/similar")
    async def similar(body: Query) -> dict:
        if index is None:
            raise FirthError("this server has no corpus; start it with --corpus FILE (sentence encoders only).")
        check([body.query])
        query = (await batcher([body.query]))[0]
        scores = index @ (query / max(float(np.linalg.norm(query)), 1e-12))
        best = np.argsort(-scores, kind="stable")[:body.k]
        return {"results": [{"line": int(i) + 1, "text": corpus[i], "score": round(float(scores[i]), 4)}
                            for i in best]}

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE.replace("{title}", html.escape(card.get("summary", "firth model"))) \
                   .replace("{mode}", "predict" if is_classifier else "similar" if index is not None else "embed")

    return app


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>firth</title>
<style>body{font:16px/1.4 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
textarea{width:100%;height:6rem;font:inherit}button{font:inherit;margin:.5rem 0}
table{border-collapse:collapse}td{padding:.2rem .6rem;border-bottom:1px solid #ddd}</style></head>
<body><h1>firth</h1><p>{title}</p>
<textarea id="text" placeholder="Type a text"></textarea><br><button id="go">Try it</button>
<div id="result"></div>
<script>
const mode = "{mode}";
const escape = s => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");
const show = rows => document.getElementById("result").innerHTML = "<table>" + rows.map(
  r => "<tr><td>" + escape(r[0]) + "</td><td>" + escape(r[1]) + "</td></tr>").join("") + "</table>";
document.getElementById("go").onclick = async () => {
  const text = document.getElementById("text").value;
  const body = mode === "similar" ? {query: text, k: 10} : {texts: [text], top_k: 5};
  const response = await fetch("/" + mode, {method: "POST", headers: {"Content-Type": "application/json"},
                                            body: JSON.stringify(body)});
  const data = await response.json();
  if (!response.ok) { document.getElementById("result").textContent = data.error; return; }
  if (mode === "predict") {
    show(data.predictions[0].top.map(t => [t.label, t.probability.toFixed(4)]));
    document.getElementById("result").insertAdjacentHTML("afterbegin",
      "<p id='label'>" + escape(data.predictions[0].label) + "</p>");
  } else if (mode === "similar") {
    show(data.results.map(r => [r.text, r.score.toFixed(4)]));
  } else {
    show([["dimensions", data.vectors[0].length]]);
  }
};
</script></body></html>
"""
