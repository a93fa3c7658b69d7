"""The sentence encoder: padding, determinism, save/load, the paragraph sampler, and learning."""

import json

import numpy as np
import pytest
import torch

from firth.config import EncoderConfig, ProjectionConfig
from firth.errors import FirthError
from firth.features.projection import Projection, project_texts
from firth.losses import make_loss
from firth.losses.objective import EncoderObjective
from firth.models.encoder import SentenceEncoder, fold
from firth.train.paragraphs import ParagraphBatches, SentenceTargets, read_paragraph_sentences

# the engine settings these tests were written for (TrainConfig's own defaults), over the encoder's
ENGINE = dict(schedule="constant", warmup=0, clip_grad=None, eval_every=None, betas=(0.9, 0.999), eps=1e-8,
              num_workers=0, patience=None, device="cpu", progress=False)

SENTENCES = ["The cat sat on the mat.", "Dogs bark at night.", "",
             "A much longer sentence, with many more words than any of the others have in total."]


def tiny(**kw) -> SentenceEncoder:
    """A small encoder: one pooled layer and no lexical channel unless `kw` asks for them."""
    torch.manual_seed(0)
    return SentenceEncoder(**{"d_model": 32, "n_layers": 2, "n_heads": 2, "d_ff": 64,
                              "concat_layers": False, "lexical": False, **kw})


@pytest.mark.parametrize("pooling, concat, lexical", [("max", False, False), ("mean", False, True),
                                                      ("meanmax", True, False)])
def test_padding_never_changes_a_sentence_vector(pooling, concat, lexical):
    encoder = tiny(pooling=pooling, concat_layers=concat, lexical=lexical)
    alone = encoder.encode(SENTENCES[:1])
    with_longer = encoder.encode([SENTENCES[0], SENTENCES[3]], batch_size=2)
    assert np.allclose(alone[0], with_longer[0], atol=1e-5)
    assert with_longer.shape == (2, encoder.dim)


def test_encode_is_deterministic_and_batch_size_independent():
    encoder = tiny(head_dim=16)
    one = encoder.encode(SENTENCES, batch_size=1)
    three = encoder.encode(SENTENCES, batch_size=3)
    assert one.shape == (4, 16) and np.isfinite(one).all()
    assert np.array_equal(tiny(pooling="max").encode([""]), np.zeros((1, 32), dtype=np.float32))  # empty: 0
    assert np.allclose(one, three, atol=1e-5)
    assert np.array_equal(three, encoder.encode(SENTENCES, batch_size=3))
    unit = encoder.encode(SENTENCES, normalize_embeddings=True)
    assert np.allclose(np.linalg.norm(unit, axis=1), 1, atol=1e-5)


def test_save_load_round_trip(tmp_path):
    encoder = tiny(pooling="meanmax", lexical=True)
    encoder.net.fit_idf([SENTENCES[:2], SENTENCES[3:]])
    encoder.save(tmp_path / "enc")
    loaded = SentenceEncoder.load(tmp_path / "enc")
    assert loaded.config == encoder.config
    assert np.array_equal(loaded.encode(SENTENCES), encoder.encode(SENTENCES))


def test_bad_configuration_and_input_are_clear_errors(tmp_path):
    with pytest.raises(FirthError, match="not divisible"):
        EncoderConfig(d_model=30, n_heads=4)
    with pytest.raises(FirthError, match="unknown pooling"):
        EncoderConfig(pooling="sum")
    with pytest.raises(FirthError, match="lexical_share must be at least 0 and at most 1, got 1.5"):
        EncoderConfig(lexical_share=1.5)
    with pytest.raises(FirthError, match="list of texts"):
        tiny().encode("one string")
    with pytest.raises(FirthError, match="no such model directory"):
        SentenceEncoder.load(tmp_path / "missing")


def test_the_sampler_packs_whole_paragraphs_with_their_targets():
    paragraphs = [[f"p{p} s{s} words here" for s in range(size)] for p, size in enumerate([2, 5, 3, 12, 2, 4])]
    data = ParagraphBatches(paragraphs, ProjectionConfig(mode="float", n_hashes=8, bits=4), batch_size=10,
                            max_per_paragraph=4)
    batches = data.batches(seed=1)
    assert batches == data.batches(seed=1) and batches != data.batches(seed=2)
    seen = [data.group[row] for batch in batches for row in batch]
    assert sorted(set(seen)) == list(range(6))  # every paragraph once an epoch ...
    for batch in batches:
        assert len(batch) <= 10
        groups = data.group[batch]
        for g in set(groups.tolist()):  # ... whole: its rows together, at most 4 of them
            rows = np.flatnonzero(groups == g)
            assert rows.max() - rows.min() + 1 == len(rows) <= min(4, len(paragraphs[g]))
        projected, targets = data[batch]
        target = targets.groups
        assert torch.equal(target, torch.as_tensor(groups)) and len(projected) == len(batch) and targets.teacher is None
        expected = target[:, None] == target[None, :]  # the block-diagonal target the losses build
        assert expected.sum().item() == sum(int((groups == g).sum()) ** 2 for g in set(groups.tolist()))


@pytest.fixture
def corpus(fixtures, tmp_path) -> list[str]:
    """22 real paragraphs of two or more sentences: BBC articles (a paragraph a line), a wiki dump, an article."""
    lines = [line for p in sorted((fixtures / "bbc").rglob("*.txt"))
             for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path / "bbc_lines.txt"
    path.write_text("\n\n".join(lines), encoding="utf-8")
    return [str(path), str(fixtures / "wiki_small.xml.bz2"), str(fixtures / "bbc_article.txt")]


def test_a_tiny_encoder_learns_paragraphs_of_real_text(corpus, tmp_path):
    paragraphs = read_paragraph_sentences(corpus)
    assert len(paragraphs) == 22 and all(len(p) >= 2 for p in paragraphs)
    settings = dict(ENGINE, d_model=32, n_layers=1, n_heads=2, d_ff=64, epochs=8, batch_size=32, lr=3e-3, seed=0,
                    loss="bxent", val_paragraphs=0)
    encoder = SentenceEncoder(**settings).fit(paragraphs, out_dir=tmp_path / "run")
    history = encoder.history_
    assert history[-1]["train_loss"] < 0.9 * history[0]["train_loss"]
    assert {"tokens_per_s", "data_wait"} <= set(history[0])
    assert encoder.net.idf.table.max() > 1  # the bag's IDF is counted on the training paragraphs
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())  # the run's resolved configuration
    assert resolved["type"] == "EncoderConfig" and resolved["config"]["loss"] == "bxent"
    again = SentenceEncoder(**settings).fit(paragraphs)
    assert np.array_equal(encoder.encode(SENTENCES), again.encode(SENTENCES))  # deterministic on CPU


def test_validation_by_retrieval_and_data_workers(corpus):
    paragraphs = read_paragraph_sentences(corpus)
    settings = dict(ENGINE, d_model=16, n_layers=1, n_heads=2, d_ff=32, epochs=2, batch_size=16, lr=3e-3,
                    loss="infonce", val_paragraphs=8, word_weight=0.3)
    encoder = SentenceEncoder(**{**settings, "num_workers": 1}).fit(paragraphs)
    assert {"val_R1", "val_R5", "val_MRR"} <= set(encoder.history_[-1])
    assert 0 < encoder.history_[-1]["val_MRR"] <= 1
    in_process = SentenceEncoder(**settings).fit(paragraphs)
    assert np.array_equal(encoder.encode(SENTENCES), in_process.encode(SENTENCES))


def test_too_small_a_corpus_is_a_clear_error(tmp_path):
    path = tmp_path / "small.txt"
    path.write_text("One sentence here. And another one here.\n\nA lone paragraph of one sentence.\n")
    with pytest.raises(FirthError, match="1 paragraphs of two or more sentences"):
        SentenceEncoder(d_model=16, n_heads=2, val_paragraphs=0, progress=False).fit(
            read_paragraph_sentences([str(path)]))


def test_the_lexical_bag_weighs_unit_projections_by_idf_and_takes_its_share():
    encoder = tiny(pooling="mean", lexical=True, fold=4, lexical_share=0.6,
                   projection={"mode": "float", "ngram_range": (3, 5), "bits": 16})
    encoder.net.fit_idf([["Dogs bark at night.", "Cats do not."], ["Dogs sleep."], ["Birds sing at dawn."]])
    assert encoder.dim == 32 + 1280
    words = ["Dogs", "bark", "at", "night"]
    with torch.no_grad():
        unit = torch.nn.functional.normalize(encoder.net.projection.project_words(words).float(), dim=1)
        idf = torch.tensor([np.log(4 / 3) + 1, np.log(4 / 2) + 1, np.log(4 / 3) + 1, np.log(4 / 2) + 1])
        bag = (idf[:, None] * unit).sum(0)
    vector = encoder.encode(["Dogs bark at night."])[0]
    assert np.allclose(vector[32:], np.sqrt(0.6) * (bag / bag.norm()).numpy(), atol=1e-5)
    assert np.isclose(np.linalg.norm(vector[:32]) ** 2, 0.4, atol=1e-5)  # the Transformer channel's share


def test_folding_a_projection_gives_the_narrower_one():
    words = ["fold", "the", "projection", "Unvergleichlichkeit", "x"]
    wide = Projection(ProjectionConfig(mode="float", bits=64)).project_words(words)
    for by in (2, 4, 8):
        narrow = Projection(ProjectionConfig(mode="float", bits=64 // by)).project_words(words)
        assert torch.allclose(fold(wide, by), narrow, atol=1e-6)
    with pytest.raises(FirthError, match="fold 3 does not divide the projection's bits 64"):
        EncoderConfig(fold=3)


def test_loading_weights_that_do_not_fit_the_configuration_is_a_clear_error(tmp_path):
    tiny().save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    config["config"]["d_ff"] = 128
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(FirthError, match="model.safetensors: its weights do not fit the configuration beside them"):
        SentenceEncoder.load(tmp_path / "model")


def test_beside_a_lexical_channel_the_transformer_is_also_trained_alone():
    texts = [["Dogs", "bark"], ["Dogs", "sleep", "late"], ["Birds", "sing"], ["Birds", "fly", "south"]]
    groups = torch.tensor([0, 0, 1, 1])
    loss = make_loss("infonce")
    mixed = tiny(lexical=True).net
    output = mixed(project_texts(mixed.projection, texts))
    expected = loss(output.sentences, groups) + loss(output.transformer, groups)
    targets = SentenceTargets(groups)
    assert output.transformer.shape == (4, 32) and torch.isclose(EncoderObjective(loss)(output, targets), expected)
    plain = tiny().net
    output = plain(project_texts(plain.projection, texts))
    assert output.transformer is None and torch.isclose(EncoderObjective(loss)(output, targets),
                                                        loss(output.sentences, groups))


def test_a_learned_bxent_scale_trains_saves_and_is_refused_with_other_losses(tmp_path):
    with pytest.raises(FirthError, match="learn_scale is for the bxent loss; 'infonce' has its own temperature."):
        EncoderConfig(learn_scale=True)
    paragraphs = [[f"Paragraph {p} says fact {s} about {'cats' if p % 2 else 'ships'}." for s in range(3)]
                  for p in range(40)]
    encoder = SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32, loss="bxent", learn_scale=True,
                                    batch_size=16, val_paragraphs=8, epochs=2, progress=False, num_workers=0)
    before = encoder.net.logit_scale.item(), encoder.net.logit_bias.item()
    encoder.fit(paragraphs)
    assert (encoder.net_.logit_scale.item(), encoder.net_.logit_bias.item()) != before  # they learn
    encoder.save(tmp_path / "model")
    loaded = SentenceEncoder.load(tmp_path / "model")
    assert loaded.net.logit_bias.item() == encoder.net_.logit_bias.item()
    assert np.allclose(loaded.encode(paragraphs[0]), encoder.encode(paragraphs[0]), atol=1e-6)


def test_scaled_word_vectors_are_not_drowned_by_the_positions(tmp_path):
    def init_cosine(scale: bool) -> float:
        torch.manual_seed(0)
        encoder = SentenceEncoder(d_model=256, n_heads=2, d_ff=64, lexical=False, scale_embeddings=scale)
        a, b = encoder.encode(["The cat sat on the mat today.", "Stocks fell sharply in London."],
                              normalize_embeddings=True)
        return float(a @ b)

    assert init_cosine(False) > 0.95 > 0.85 > init_cosine(True)  # at the start, unscaled sentences all look alike
    scaled = tiny(scale_embeddings=True)
    scaled.save(tmp_path / "scaled")
    saved = json.loads((tmp_path / "scaled" / "config.json").read_text())
    del saved["config"]["scale_embeddings"]  # as a model written before the option existed
    (tmp_path / "scaled" / "config.json").write_text(json.dumps(saved))
    assert SentenceEncoder.load(tmp_path / "scaled").config.scale_embeddings is False


def test_the_word_head_reads_input_word_vectors_and_its_curriculum_fades_it_out():
    net = tiny().net
    texts = ["Dogs bark at night.", "Dogs bark loudly.", "Cats sleep all day.", "Cats purr softly."]
    groups = torch.tensor([0, 0, 1, 1])
    output = net(project_texts(net.projection, texts))
    projected = project_texts(net.projection, texts)
    inputs = net.embed(fold(projected.vectors, net.config.fold))[projected.ids]  # the Linear after the projection
    assert torch.equal(output.words[output.mask], inputs)
    loss, targets = make_loss("bxent"), SentenceTargets(groups)
    sentence = loss(output.sentences, groups)
    steady = EncoderObjective(loss, word_weight=0.4)
    word = (steady(output, targets) - 0.6 * sentence) / 0.4
    faded = EncoderObjective(loss, word_weight=0.4, word_fade=True)
    for progress, weight in ((0.0, 0.4), (0.5, 0.2), (1.0, 0.0)):
        faded.set_progress(progress)
        assert torch.isclose(faded(output, targets), (1 - weight) * sentence + weight * word, atol=1e-6)
    steady.set_progress(1.0)
    assert torch.isclose(steady(output, targets), 0.6 * sentence + 0.4 * word)  # no fade: the clock is ignored
    with pytest.raises(FirthError, match="word_fade fades the word-level head, which needs word_weight above 0."):
        EncoderConfig(word_fade=True)


def test_the_trainer_winds_the_curriculum_clock(monkeypatch):
    clock = []
    monkeypatch.setattr(EncoderObjective, "set_progress", lambda self, fraction: clock.append(fraction))
    paragraphs = [[f"Paragraph {p} says fact {s} about {'cats' if p % 2 else 'ships'}." for s in range(3)]
                  for p in range(24)]
    SentenceEncoder(**{**ENGINE, "d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32, "batch_size": 16,
                       "val_paragraphs": 0, "epochs": 2, "word_weight": 0.5, "word_fade": True}).fit(paragraphs)
    steps = len(clock)
    assert steps >= 4 and clock == [step / steps for step in range(steps)]  # before each step: steps taken / all
