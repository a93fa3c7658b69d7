"""`firth serve`: the API's answers equal the model's, every bad request is a 4xx with one sentence, and
concurrent requests are batched into fewer model calls."""

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

import firth
from firth.errors import FirthError
from firth.models.export import export
from firth.serve import Batcher, Limits, create_app
from firth.text.readers import read_labelled

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = ["Cats sleep all day.", "Dogs bark at night.", "The market fell sharply.", "Shares rose on profits."]


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory) -> Path:
    bbc = read_labelled(FIXTURES / "bbc")
    directory = tmp_path_factory.mktemp("serve") / "clf"
    firth.TextClassifier(features="counts", epochs=3, batch_size=4, val_fraction=0, device="cpu",
                         progress=False).fit(bbc.texts, bbc.labels).save(directory)
    return directory


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("serve") / "enc"
    firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32).save(directory)
    return directory


def test_predict_answers_as_the_model_does(classifier_dir):
    model = firth.load(classifier_dir)
    with TestClient(create_app(classifier_dir)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/info").json()["kind"] == "classifier"
        texts = ["shares rose again", "the team won the match", "a new phone"]
        answer = client.post("/predict", json={"texts": texts, "top_k": 2}).json()["predictions"]
        assert [a["label"] for a in answer] == list(model.predict(texts))
        assert np.allclose([a["probability"] for a in answer], model.predict_proba(texts).max(1), atol=1e-6)
        assert all(len(a["top"]) == 2 and a["top"][0]["label"] == a["label"] for a in answer)
        page = client.get("/")
        assert page.status_code == 200 and "<textarea" in page.text and '"predict"' in page.text


def test_an_exported_directory_is_served_alike(classifier_dir, tmp_path):
    export(classifier_dir, tmp_path / "onnx")
    with TestClient(create_app(classifier_dir)) as full, TestClient(create_app(tmp_path / "onnx")) as exported:
        body = {"texts": ["shares rose again", "the team won"]}
        assert full.post("/predict", json=body).json() == exported.post("/predict", json=body).json()


BAD = [
    ("/predict", b"{not json", 400, "the request body is not valid JSON."),
    ("/predict", b'{"text": ["a"]}', 422, "texts: Field required."),
    ("/predict", b'{"texts": []}', 422, "texts: List should have at least 1 item after validation, not 0."),
    ("/predict", b'{"texts": [1, 2]}', 422, "texts.0: Input should be a valid string."),
    ("/predict", b'{"texts": ["a"], "top_k": 0}', 422, "top_k: Input should be greater than or equal to 1."),
    ("/predict", b'{"texts": ["a", "b", "c", "d"]}', 413, "4 texts in one request; at most 3 are taken."),
    ("/predict", b'{"texts": ["' + b"x" * 101 + b'"]}', 413, "a text of 101 bytes; at most 100 bytes a text."),
    ("/embed", b'{"texts": ["a"]}', 422, "this model is a classifier; use /predict."),
    ("/similar", b'{"query": "a"}', 422, "this server has no corpus; start it with --corpus FILE (sentence encoders only)."),
]


@pytest.mark.parametrize("path, body, status, message", BAD, ids=[m for *_, m in BAD])
def test_a_bad_request_is_a_4xx_with_one_sentence(path, body, status, message, classifier_dir):
    with TestClient(create_app(classifier_dir, limits=Limits(max_texts=3, max_text_bytes=100))) as client:
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status and response.json() == {"error": message}


def test_an_encoder_embeds_and_searches_its_corpus(encoder_dir):
    model = firth.load(encoder_dir)
    with TestClient(create_app(encoder_dir, CORPUS)) as client:
        vectors = np.array(client.post("/embed", json={"texts": CORPUS[:2]}).json()["vectors"])
        assert np.allclose(vectors, model.encode(CORPUS[:2]), atol=1e-5)
        unit = np.array(client.post("/embed", json={"texts": CORPUS[:1], "normalize": True}).json()["vectors"])
        assert np.isclose(np.linalg.norm(unit), 1, atol=1e-5)
        results = client.post("/similar", json={"query": CORPUS[2], "k": 2}).json()["results"]
        assert results[0] == {"line": 3, "text": CORPUS[2], "score": pytest.approx(1.0, abs=1e-4)} and len(results) == 2
        assert client.post("/predict", json={"texts": ["a"]}).json() == {
            "error": "this model is a sentence encoder; use /embed or /similar."}


def test_concurrent_requests_share_model_calls(classifier_dir, monkeypatch):
    calls = []
    plain = Batcher.__init__

    def counting(self, compute, limits):
        plain(self, lambda texts: calls.append(len(texts)) or compute(texts), limits)

    monkeypatch.setattr(Batcher, "__init__", counting)
    texts = [f"shares rose {i}" for i in range(16)]
    with TestClient(create_app(classifier_dir, limits=Limits(batch_wait_ms=50))) as client:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda text: client.post("/predict", json={"texts": [text]}).json(), texts))
    assert [a["predictions"][0]["label"] for a in answers] == list(firth.load(classifier_dir).predict(texts))
    assert sum(calls) == 16 and len(calls) < 16  # requests were answered together


def test_several_worker_processes_serve_one_port(classifier_dir):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "firth", "serve", str(classifier_dir), "--port", str(port),
                               "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        texts = ["shares rose again", "the team won the match"]
        answers = [httpx.post(f"http://127.0.0.1:{port}/predict", json={"texts": texts}, timeout=30).json()
                   for _ in range(4)]  # requests land on either worker
        expected = list(firth.load(classifier_dir).predict(texts))
        assert all([p["label"] for p in a["predictions"]] == expected for a in answers)
        assert len(child_processes(server.pid)) >= 2  # the workers (and multiprocessing's resource tracker)
    finally:
        server.terminate()
        server.wait(30)
    assert b"in 2 processes" in server.stdout.read()


def child_processes(pid: int) -> list[str]:
    """The child processes of `pid` (from /proc)."""
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def test_what_cannot_be_served_is_one_sentence(tmp_path, encoder_dir, classifier_dir):
    firth.KeyedVectors(["a", "b"], np.eye(2)).save(tmp_path / "kv")
    with pytest.raises(FirthError, match="a KeyedVectors cannot be served"):
        create_app(tmp_path / "kv")
    with pytest.raises(FirthError, match="--corpus is for sentence encoders"):
        create_app(classifier_dir, CORPUS)


@pytest.mark.parametrize("argv, message", [
    (["serve", "MISSING"], "MISSING: no such model directory."),
    (["export", "MISSING", "OUT"], "MISSING: no such model directory."),
    (["info", "MISSING"], "MISSING: no such model directory."),
    (["serve", "MODEL", "--batch-wait-ms", "5000"], "batch_wait_ms must be between 0 and 1000, got 5000.0."),
    (["serve", "MODEL", "--port", "70000"], "--port must be at most 65535, got 70000."),
    (["serve", "MODEL", "--corpus", "BAD"], "line 1 is not valid UTF-8"),
    (["serve", "MODEL", "--workers", "2", "--corpus", "-"], "--corpus - (standard input) cannot be read by several"),
])
def test_shipping_verbs_refuse_bad_input_in_one_sentence(argv, message, cli, classifier_dir, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe not text\n")
    names = {"MISSING": str(tmp_path / "missing"), "OUT": str(tmp_path / "out"), "MODEL": str(classifier_dir),
             "BAD": str(tmp_path / "bad.txt")}
    code, _, err = cli(*[names.get(a, a) for a in argv])
    expected = message.replace("MISSING", str(tmp_path / "missing"))
    assert code == 1 and expected in err and err.startswith("firth: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()
