"""The encoders shipped in the package: loadable by name offline, checked against their recorded checksums,
within the size and width the package promises, and usable from the command line."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import firth
import firth.io.pretrained as pretrained
from firth.errors import FirthError
from firth.io.checksums import sha256_file
from firth.models.encoder import SentenceEncoder


@pytest.mark.parametrize("name", pretrained.SHIPPED)
def test_a_shipped_encoder_loads_by_name_and_embeds(name):
    directory = pretrained.pretrained_dir(name)
    recorded = pretrained.recorded_checksums()[name]
    assert {p.name: sha256_file(p) for p in directory.iterdir()} == recorded
    assert sum(p.stat().st_size for p in directory.iterdir()) <= 10 * 10**6
    encoder = SentenceEncoder.load(name)
    vectors = encoder.encode(["A sentence to embed.", "Another one, about something else."],
                             normalize_embeddings=True)
    assert vectors.shape == (2, encoder.dim) and encoder.dim <= 512 and np.isfinite(vectors).all()
    assert np.array_equal(firth.load(name).encode(["A sentence to embed."]), encoder.encode(["A sentence to embed."]))
    assert "README.md" in recorded  # a model card ships with it


def test_a_changed_shipped_file_is_refused(tmp_path, monkeypatch):
    shutil.copytree(pretrained.HERE / "firth-static", tmp_path / "firth-static")
    shutil.copy(pretrained.HERE / "checksums.json", tmp_path / "checksums.json")
    monkeypatch.setattr(pretrained, "HERE", tmp_path)
    monkeypatch.chdir(tmp_path.parent)  # no local directory called firth-static here
    assert pretrained.pretrained_dir("firth-static") == tmp_path / "firth-static"
    weights = tmp_path / "firth-static" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    with pytest.raises(FirthError, match="firth-static: model.safetensors does not match its recorded SHA-256"):
        SentenceEncoder.load("firth-static")
    (tmp_path / "firth-static" / "extra.bin").write_bytes(b"")
    with pytest.raises(FirthError, match="the shipped model's files .* are not those recorded"):
        firth.load("firth-static")


def test_a_local_directory_of_that_name_wins(tmp_path, monkeypatch):
    local = SentenceEncoder(d_model=16, n_layers=0, n_heads=2, d_ff=16, lexical=False, progress=False)
    local.save(tmp_path / "firth-mini")
    monkeypatch.chdir(tmp_path)
    assert SentenceEncoder.load("firth-mini").dim == 16


def test_similar_with_a_shipped_encoder_from_the_command_line(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The striker scored twice in the final.\nInterest rates rose again this spring.\n"
                      "The goalkeeper saved a penalty.\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "firth", "encoder", "similar", "firth-static", "--query",
                             "a football match", "--corpus", str(corpus), "-k", "3"],
                            capture_output=True, text=True, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3 and lines[-1]["line"] == 2  # the sentence about interest rates comes last
