"""Model cards: every saved model directory says what it is, what it learned from, how, and how well."""

import json
import shutil


import firth
from firth.io.card import CARD, PAGE


def test_a_classifier_trained_from_the_cli_carries_its_data_command_and_test_scores(cli, fixtures, tmp_path):
    out = tmp_path / "run"
    argv = ["classify", "train", str(fixtures / "bbc"), "--features", "counts", "--epochs", "3", "--val-fraction",
            "0.34", "--test", str(fixtures / "bbc"), "--out", str(out), "--quiet", "--device", "cpu"]
    code, _, err = cli(*argv)
    assert code == 0, err
    code, page, err = cli("info", str(out / "model"))
    assert code == 0, err
    assert page == (out / "model" / PAGE).read_text()
    assert page.startswith("# TextClassifier: softmax network on counts features, 3 classes")
    for expected in ["## Training data", "- documents: 9", "- classes: business 3, sports 3, tech 3",
                     f"the folder {fixtures / 'bbc'}", "firth " + " ".join(argv), "- features: counts",
                     f"test accuracy ({fixtures / 'bbc'}, 9 documents)", "best validation loss (early stopping)", "## Intended use",
                     "## Limits", f"firth {firth.__version__}"]:
        assert expected in page, expected
    card = json.loads((out / "model" / CARD).read_text())
    assert card["type"] == "TextClassifier" and card["size_bytes"] > 0
    assert 0 <= card["metrics"][next(k for k in card["metrics"] if k.startswith("test accuracy"))] <= 1


def test_every_family_writes_a_card_and_keeps_it_through_load_and_save(tmp_path):
    paragraphs = [[f"Sentence {i} of paragraph {p} is here." for i in range(3)] for p in range(8)]
    encoder = firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32, batch_size=12, max_per_paragraph=3,
                                    epochs=1, val_paragraphs=2, num_workers=0, device="cpu", progress=False)
    encoder.fit(paragraphs).save(tmp_path / "enc")
    w2v = firth.Word2Vec(dim=4, min_count=1, epochs=1, progress=False).fit([p[0].split() for p in paragraphs])
    w2v.save(tmp_path / "w2v")
    w2v.wv_.save(tmp_path / "kv")
    pages = {name: (tmp_path / name / PAGE).read_text() for name in ("enc", "w2v", "kv")}
    assert "- paragraphs: 6" in pages["enc"] and "validation MRR" in pages["enc"]
    assert pages["w2v"].startswith("# Word2Vec: negative skip-gram vectors of") and "- tokens: 56" in pages["w2v"]
    assert pages["kv"].startswith("# KeyedVectors:") and "- words:" in pages["kv"]
    for name in ("enc", "w2v"):
        firth.load(tmp_path / name).save(tmp_path / f"{name}-again")
        again = json.loads((tmp_path / f"{name}-again" / CARD).read_text())
        assert again["data"] == json.loads((tmp_path / name / CARD).read_text())["data"], name


def test_info_on_a_missing_or_cardless_directory_is_one_sentence(cli, tmp_path):
    code, _, err = cli("info", str(tmp_path / "missing"))
    assert code == 1 and err == f"firth: error: {tmp_path / 'missing'}: no such model directory.\n"
    firth.KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).save(tmp_path / "kv")
    shutil.copytree(tmp_path / "kv", tmp_path / "old")
    (tmp_path / "old" / PAGE).unlink()
    code, _, err = cli("info", str(tmp_path / "old"))
    assert code == 1 and "has no model card" in err and err.count("\n") == 1
