"""One pattern for every family: config -> fit -> save -> firth.load; a light `import firth`; no import cycles."""

import argparse
import ast
import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

import firth
from firth.cli import build_parser
from firth.cli.options import _flag, _is_dict
from firth.config import ClassifierConfig, EncoderConfig, Word2VecConfig, default_of
from firth.errors import FirthError
from firth.text.readers import read_labelled

SRC = Path(firth.__file__).parent
TEXTS = ["The striker scored twice.", "Shares fell sharply on Monday.", "A new phone was unveiled."]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """One small trained model of each family, saved: name -> model directory."""
    root = tmp_path_factory.mktemp("models")
    bbc = read_labelled(Path(__file__).parent / "fixtures" / "bbc")
    firth.TextClassifier(features="counts", epochs=3, batch_size=4, val_fraction=0, device="cpu",
                         progress=False).fit(bbc.texts, bbc.labels).save(root / "classifier")
    firth.TextClassifier(model="sgnn", epochs=2, batch_size=4, val_fraction=0, hidden=(8,), device="cpu",
                         progress=False).fit(bbc.texts, bbc.labels).save(root / "sgnn")
    paragraphs = [[f"Sentence {i} of paragraph {p} is here." for i in range(3)] for p in range(8)]
    firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32, batch_size=12, max_per_paragraph=3,
                          epochs=1, val_paragraphs=0, num_workers=0, device="cpu", progress=False
                          ).fit(paragraphs).save(root / "encoder")
    sentences = [text.lower().split() for text in bbc.texts]
    w2v = firth.Word2Vec(dim=8, min_count=1, epochs=1, progress=False).fit(sentences)
    w2v.save(root / "word2vec")
    w2v.wv_.save(root / "vectors")
    return {"classifier": root / "classifier", "sgnn": root / "sgnn", "encoder": root / "encoder",
            "word2vec": root / "word2vec", "vectors": root / "vectors"}


def outputs(model) -> np.ndarray:
    """What a model of any family gives for the same input."""
    if isinstance(model, firth.TextClassifier):
        return model.predict_proba(TEXTS)
    if isinstance(model, firth.SentenceEncoder):
        return model.encode(TEXTS)
    vectors = model.wv_ if isinstance(model, firth.Word2Vec) else model
    return vectors.vectors


@pytest.mark.parametrize("name, kind", [("classifier", "TextClassifier"), ("sgnn", "TextClassifier"),
                                        ("encoder", "SentenceEncoder"), ("word2vec", "Word2Vec"),
                                        ("vectors", "KeyedVectors")])
def test_firth_load_returns_each_family_and_it_predicts_as_its_own_load(saved, name, kind):
    model = firth.load(saved[name])
    assert type(model).__name__ == kind
    again = type(model).load(saved[name])
    assert np.array_equal(outputs(model), outputs(again))
    stamped = json.loads((saved[name] / "config.json").read_text())
    assert stamped["type"] == kind and stamped["firth_version"] == firth.__version__


def test_a_round_trip_predicts_identically(saved, tmp_path):
    for name in ("classifier", "sgnn", "encoder", "word2vec", "vectors"):
        model = firth.load(saved[name])
        model.save(tmp_path / name)
        assert np.array_equal(outputs(model), outputs(firth.load(tmp_path / name))), name


def test_the_word2vec_directory_holds_its_configuration_and_its_vectors(saved):
    w2v = firth.load(saved["word2vec"])
    assert w2v.config_.dim == 8 and w2v.config_.min_count == 1
    assert np.array_equal(firth.KeyedVectors.load(saved["word2vec"]).vectors, w2v.wv_.vectors)


def test_each_family_writes_its_resolved_configuration_into_the_run_directory(tmp_path):
    bbc = read_labelled(Path(__file__).parent / "fixtures" / "bbc")
    firth.TextClassifier(features="counts", epochs=1, C=5, device="cpu", progress=False).fit(
        bbc.texts, bbc.labels, out_dir=tmp_path / "clf")
    sentences = [text.lower().split() for text in bbc.texts]
    for model in ("negative", "softmax"):
        firth.Word2Vec(model=model, dim=4, min_count=3, epochs=1, progress=False).fit(sentences, out_dir=tmp_path / model)
    for run, kind, field, value in [("clf", "ClassifierConfig", "C", 5), ("negative", "Word2VecConfig", "model", "negative"),
                                    ("softmax", "Word2VecConfig", "lr", 0.003)]:
        stamped = json.loads((tmp_path / run / "config.json").read_text())
        assert stamped["type"] == kind and stamped["config"][field] == value, run


def test_foreign_and_damaged_directories_are_one_sentence(saved, tmp_path):
    with pytest.raises(FirthError, match=r"no such model directory\.$"):
        firth.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FirthError, match="config.json: no such file"):
        firth.load(tmp_path / "empty")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "config.json").write_text('{"type": "Pipeline", "config": {}}')
    with pytest.raises(FirthError, match="is not a firth .* directory .*type 'Pipeline'"):
        firth.load(foreign)
    (foreign / "config.json").write_text("{not json")
    with pytest.raises(FirthError, match="is not valid JSON"):
        firth.load(foreign)
    with pytest.raises(FirthError, match="is not a firth TextClassifier directory .*type 'SentenceEncoder'"):
        firth.TextClassifier.load(saved["encoder"])
    with pytest.raises(FirthError, match="is not a firth KeyedVectors or Word2Vec directory"):
        firth.KeyedVectors.load(saved["classifier"])


def test_a_tampered_configuration_is_a_clear_error(saved, tmp_path):
    for name, field, value, message in [("classifier", "surprise", 1, "unknown configuration field 'surprise'"),
                                        ("encoder", "pooling", "sum", "unknown pooling 'sum'"),
                                        ("classifier", "hidden", 5,
                                         "hidden must be a list of whole numbers, or none, got 5")]:
        copy = tmp_path / name
        subprocess.run(["cp", "-r", str(saved[name]), str(copy)], check=True)
        stamped = json.loads((copy / "config.json").read_text())
        stamped["config"][field] = value
        (copy / "config.json").write_text(json.dumps(stamped))
        with pytest.raises(FirthError, match=message):
            firth.load(copy)
        subprocess.run(["rm", "-r", str(copy)], check=True)


def test_a_classifier_directory_of_the_earlier_layout_still_loads(saved, tmp_path):
    """Before the shared layout a classifier stamped its parameters under "params", with no "config"."""
    old = tmp_path / "old"
    subprocess.run(["cp", "-r", str(saved["classifier"]), str(old)], check=True)
    stamped = json.loads((old / "config.json").read_text())
    (old / "config.json").write_text(json.dumps({"firth_version": "0.1.0", "type": "TextClassifier",
                                                 "params": stamped["config"]}))
    assert np.array_equal(outputs(firth.load(old)), outputs(firth.load(saved["classifier"])))


def test_estimators_take_their_configuration_fields_and_nothing_else():
    clf = firth.TextClassifier(C=30, model="mlp")
    assert clf.get_params()["C"] == 30 and clf.config == ClassifierConfig(C=30, model="mlp")
    assert firth.Word2Vec().config == Word2VecConfig() and firth.SentenceEncoder().config == EncoderConfig()
    with pytest.raises(TypeError, match="unexpected keyword argument 'layers'"):
        firth.SentenceEncoder(layers=3)
    with pytest.raises(FirthError, match="unknown model 'forest'"):
        firth.TextClassifier(model="forest").fit(TEXTS, ["a", "b", "a"])


def _train_parsers() -> dict[str, argparse.ArgumentParser]:
    families = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parsers = {}
    for family in ("classify", "word2vec", "encoder"):
        verbs = next(a for a in families.choices[family]._actions if isinstance(a, argparse._SubParsersAction))
        parsers[family] = verbs.choices["train"]
    return parsers


@pytest.mark.parametrize("family, config_class", [("classify", ClassifierConfig), ("word2vec", Word2VecConfig),
                                                  ("encoder", EncoderConfig)])
def test_the_cli_defaults_are_the_configuration_defaults(family, config_class):
    actions = {a.dest: a for a in _train_parsers()[family]._actions}
    for f in fields(config_class):
        if not f.metadata["cli"]:
            continue
        action = actions[f.name]
        assert _flag(f) in action.option_strings, f.name
        if _is_dict(f):
            assert action.default is None and str(default_of(f)) in action.help, f.name
        else:
            assert action.default == default_of(f), f.name
        assert tuple(action.choices or ()) == (f.metadata["choices"] or ()), f.name


def test_parsed_defaults_give_the_python_defaults():
    from firth.cli.options import config_from_args

    parsers = _train_parsers()
    for family, config_class, positional in [("classify", ClassifierConfig, ["data.tsv"]),
                                             ("word2vec", Word2VecConfig, ["corpus.txt"]),
                                             ("encoder", EncoderConfig, ["corpus.txt"])]:
        args = parsers[family].parse_args(positional)
        assert config_from_args(config_class, args) == config_class(), family


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    return dict(action.choices) if action else {}


def test_every_help_shows_each_options_default():
    verbs = [verb for family in _subparsers(build_parser()).values() for verb in _subparsers(family).values()]
    assert len(verbs) == 16
    for verb in verbs:
        options = [a for a in verb._actions if a.option_strings and not a.required and a.default is not argparse.SUPPRESS]
        for action in options:
            assert "(default" in verb._get_formatter()._get_help_string(action), (verb.prog, action.dest)
        assert verb.format_help().count("(default") >= len(options), verb.prog


def _modules_loaded_by(code: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                            capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("code", ["import firth",
                                  "import firth.cli, contextlib, io\n"
                                  "with contextlib.redirect_stdout(io.StringIO()):\n"
                                  "    try: firth.cli.main(['--help'])\n"
                                  "    except SystemExit: pass",
                                  "import firth.config, firth.registry"])
def test_import_firth_and_firth_help_load_neither_torch_nor_sklearn(code):
    loaded = _modules_loaded_by(code)
    assert not {m for m in loaded if m.split(".")[0] in ("torch", "sklearn", "scipy", "numpy")}


def _imports() -> dict[str, set[str]]:
    """Every module of src/firth -> the firth modules it imports anywhere (functions included)."""
    modules = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    return next((found for node in sorted(graph) if node not in state and (found := visit(node))), None)


def _package_of(module: str) -> str:
    """firth.models.encoder -> firth.models; firth.config -> firth.config; firth -> firth."""
    return ".".join(module.split(".")[:2])


def test_no_import_cycle_between_modules():
    assert _cycle(_imports()) is None


def test_no_import_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        edges = packages.setdefault(_package_of(module), set())
        edges |= {_package_of(t) for t in targets} - {_package_of(module)}
    assert _cycle(packages) is None


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
