"""The command line: help, version, and one clear sentence for each bad input."""

import json
import subprocess
import sys

import pytest

import firth
from firth.cli import main


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and firth.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "data" in out and "classify" in out


def test_train_eval_predict(cli, fixtures, tmp_path):
    out_dir = tmp_path / "run"
    code, out, err = cli("classify", "train", str(fixtures / "bbc"), "--features", "counts",
                         "--epochs", "30", "--batch-size", "4", "--lr", "0.05", "--patience", "30", "--C", "50",
                         "--test", str(fixtures / "bbc"), "--out", str(out_dir), "--quiet", "--device", "cpu")
    assert code == 0, err
    assert "test: accuracy" in out
    assert json.loads((out_dir / "model" / "config.json").read_text())["config"]["C"] == 50
    assert (out_dir / "learning_curve.png").exists()

    code, out, err = cli("classify", "eval", str(out_dir / "model"), str(fixtures / "bbc"))
    assert code == 0, err
    assert "macro-F1" in out and "business" in out
    assert (out_dir / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"

    texts = tmp_path / "texts.txt"
    texts.write_text("Shares in the company rose after profits jumped\nThe team won the match\n", encoding="utf-8")
    code, out, err = cli("classify", "predict", str(out_dir / "model"), str(texts))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2 and rows[0]["label"] in ("business", "sports", "tech")
    assert abs(sum(rows[0]["probabilities"].values()) - 1) < 1e-4


def test_train_on_a_headerless_file(cli, tmp_path):
    rows = [("business", "shares rose sharply"), ("sports", "the team won the cup"), ("business", "profits fell"),
            ("sports", "a late goal won it")] * 3
    data = tmp_path / "train.txt"
    data.write_text("".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    for extra in ([], ["--no-header"]):
        code, out, err = cli("classify", "train", str(data), "--features", "counts", "--epochs", "1", "--quiet",
                             "--out", str(tmp_path / f"run{len(extra)}"), "--device", "cpu", *extra)
        assert code == 0, err
        from firth.models.classifier import TextClassifier

        model = TextClassifier.load(tmp_path / f"run{len(extra)}" / "model")
        assert sorted(model.classes_) == ["business", "sports"]  # the labels, not the texts


def _trained_model(tmp) -> str:
    """A tiny model (business/sports) for the eval and predict error cases."""
    data = _write(tmp / "train.tsv", b"text\tlabel\nshares rose\tbusiness\nthe team won\tsports\n")
    main(["classify", "train", data, "--features", "counts", "--out", str(tmp / "run"), "--epochs", "1",
          "--quiet", "--device", "cpu"])
    return str(tmp / "run" / "model")


BAD_INPUTS = {
    "missing file": (lambda tmp: ["classify", "train", str(tmp / "nope.tsv")], "nope.tsv: no such file or folder"),
    "unknown dataset": (lambda tmp: ["data", "get", "bbc"], "unknown dataset 'bbc'"),
    "empty file": (lambda tmp: ["classify", "train", _write(tmp / "e.tsv", b"")], "contains no labelled examples"),
    "unknown column": (lambda tmp: ["classify", "train", _write(tmp / "c.csv", b"review,label\ngood,a\nbad,b\n")],
                       "no column named 'text'"),
    "not utf-8": (lambda tmp: ["classify", "train", _write(tmp / "l.tsv", "text\tlabel\ncaf\u00e9\ta\n".encode("latin-1"))],
                  "line 2 is not valid UTF-8"),
    "one class": (lambda tmp: ["classify", "train", _write(tmp / "o.tsv", b"text\tlabel\ngood\ta\nfine\ta\n")],
                  "only one class"),
    "missing model": (lambda tmp: ["classify", "predict", str(tmp / "no-model")], "no such model directory"),
    "bad feature param": (lambda tmp: ["classify", "train", _write(tmp / "f.tsv", b"text\tlabel\ngood\ta\nbad\tb\n"),
                                       "--feature-param", "colour=blue"], "unknown parameter 'colour' for features 'tfidf'"),
    "unknown label at eval": (lambda tmp: ["classify", "eval", _trained_model(tmp),
                                           _write(tmp / "t.tsv", b"text\tlabel\nnew film\tfilms\n")],
                              "has labels the model was not trained on (films)"),
    "empty text line at predict": (lambda tmp: ["classify", "predict", _trained_model(tmp),
                                                _write(tmp / "p.txt", b"shares fell\n\nthe match\n")],
                                   "p.txt: line 2 is empty"),
    "empty text in training data": (lambda tmp: ["classify", "train", _write(tmp / "e2.tsv", b"text\tlabel\ngood\ta\n \tb\n")],
                                    "e2.tsv: line 3 has an empty text"),
    "no vocabulary": (lambda tmp: ["classify", "train", _write(tmp / "v.tsv", b"text\tlabel\na\ta\nb\tb\n")],
                      "features 'tfidf' could not be fitted on the training texts"),
    "ambiguous headerless table": (lambda tmp: ["classify", "train", _write(tmp / "h.tsv", b"a b\tc d\ne f\tg h\n")],
                                   "neither of the two columns looks like the label"),
    "named column without a header": (lambda tmp: ["classify", "train", _write(tmp / "n.tsv", b"a\tgood one\n"),
                                                   "--no-header", "--text-column", "review"],
                                      "without a header, columns are numbers"),
    "tune on one class": (lambda tmp: ["classify", "tune", _write(tmp / "t1.tsv", b"text\tlabel\ngood\ta\nfine\ta\n"),
                                       "--out", str(tmp / "tune")], "only one class"),
    "tune on a class of two texts": (lambda tmp: ["classify", "tune", _write(tmp / "t2.tsv", b"text\tlabel\n"
                                                  b"good\ta\nfine\ta\nok\ta\nbad\tb\nawful\tb\n"),
                                                  "--out", str(tmp / "tune")],
                                     "tuning needs at least 3 texts of every class (for 3 folds); the rarest class has 2."),
    "tune with a negative seed": (lambda tmp: ["classify", "tune", _write(tmp / "t3.tsv", b"text\tlabel\ngood\ta\n"
                                               b"bad\tb\n"), "--seed", "-1", "--out", str(tmp / "tune")],
                                  "seed must be a whole number of at least 0, got -1."),
    "tune into a file": (lambda tmp: ["classify", "tune", "bbc-news", "--out", _write(tmp / "f", b"x")],
                         "is a file, not a directory"),
    "malformed feature param": (lambda tmp: ["classify", "train", "bbc-news", "--feature-param", "mode"],
                                "--feature-param 'mode' is not KEY=VALUE"),
}


def _write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_sentence_and_exit_1(case, cli, capsys, tmp_path):
    make_argv, message = BAD_INPUTS[case]
    argv = make_argv(tmp_path)
    capsys.readouterr()  # drop what building a fixture model printed
    code, out, err = cli(*argv)
    assert code == 1
    assert message in err
    assert err.startswith("firth: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_no_traceback_from_the_real_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "firth", "classify", "train", str(tmp_path / "x.tsv")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f"firth: error: {tmp_path / 'x.tsv'}: no such file or folder, and not a dataset name (see `firth data list`)."
