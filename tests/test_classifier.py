import json

import numpy as np
import pytest
import torch
from sklearn.base import clone

from firth.config import ClassifierConfig
from firth.data.splits import stratified_split
from firth.errors import FirthError
from firth.models.classifier import TextClassifier
from firth.text.readers import read_labelled


@pytest.fixture
def bbc(fixtures):
    return read_labelled(fixtures / "bbc")


def small_classifier(**kw) -> TextClassifier:
    params = dict(epochs=40, batch_size=4, lr=0.05, patience=None, val_fraction=0.34, device="cpu")
    params.update(kw)
    return TextClassifier(**params)


def test_learns_the_training_articles(bbc, tmp_path):
    # 3 articles a class: a 10% validation share rounds to none, so all 9 are trained on
    clf = small_classifier(features="counts", val_fraction=0.1)
    clf.fit(bbc.texts, bbc.labels, out_dir=tmp_path / "run")
    assert clf.score(bbc.texts, bbc.labels) == 1.0
    proba = clf.predict_proba(bbc.texts)
    assert proba.shape == (9, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 40 and metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    assert {"epoch", "step", "lr", "train_loss", "train_acc", "seconds"} <= set(metrics[0])
    assert (tmp_path / "run" / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_val_fraction_zero_trains_on_everything_and_a_bad_one_is_a_clear_error(bbc):
    clf = small_classifier(features="counts", val_fraction=0.0, epochs=3).fit(bbc.texts, bbc.labels)
    assert len(clf.history_) == 3 and all("val_loss" not in record for record in clf.history_)
    for bad in (-0.1, 1.0):
        with pytest.raises(FirthError, match="val_fraction"):
            small_classifier(val_fraction=bad).fit(bbc.texts, bbc.labels)


def test_same_seed_same_model(bbc):
    a = small_classifier(epochs=5).fit(bbc.texts, bbc.labels).predict_proba(bbc.texts)
    b = small_classifier(epochs=5).fit(bbc.texts, bbc.labels).predict_proba(bbc.texts)
    assert np.array_equal(a, b)


def test_save_load_round_trip(bbc, tmp_path):
    clf = small_classifier(epochs=5).fit(bbc.texts, bbc.labels)
    clf.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "README.md", "card.json", "checksums.json", "config.json", "features.json", "features.safetensors",
        "labels.json", "model.safetensors"]
    loaded = TextClassifier.load(tmp_path / "model")
    assert np.allclose(loaded.predict_proba(bbc.texts), clf.predict_proba(bbc.texts), atol=1e-6)
    assert list(loaded.classes_) == ["business", "sports", "tech"]


def test_early_stopping_keeps_the_best_epoch(bbc):
    clf = small_classifier(epochs=50, patience=2, lr=0.5).fit(bbc.texts, bbc.labels)
    losses = [h["val_loss"] for h in clf.history_]
    assert len(losses) <= 50
    if len(losses) < 50:  # stopped early: the last `patience` epochs were no better
        assert min(losses[-2:]) >= min(losses)


@pytest.mark.parametrize("features", ["tfidf", "projection"])
def test_held_out_rows_are_featurized_as_prediction_featurizes_them(bbc, features):
    """fit featurizes its training rows in the featurizer's fit and the held-out rows apart, then puts them
    back in order: the validation loss it kept is that of predicting the held-out texts afresh."""
    clf = small_classifier(features=features, epochs=5).fit(bbc.texts, bbc.labels)
    _, held_out = stratified_split(list(bbc.labels), 0.34, 0)
    proba = clf.predict_proba([bbc.texts[i] for i in held_out])
    truth = np.searchsorted(clf.classes_, [bbc.labels[i] for i in held_out])
    loss = -np.log(proba[np.arange(len(held_out)), truth]).mean()
    assert min(record["val_loss"] for record in clf.history_) == pytest.approx(loss, rel=1e-4)


def test_sklearn_api(bbc):
    clf = small_classifier(epochs=2)
    assert clone(clf).get_params() == clf.get_params()
    with pytest.raises(Exception):
        clf.predict(["not fitted yet"])


def test_one_class_is_a_clear_error():
    with pytest.raises(FirthError, match="only one class"):
        TextClassifier().fit(["a", "b"], ["x", "x"])


def test_empty_and_mismatched_data():
    with pytest.raises(FirthError, match="empty"):
        TextClassifier().fit([], [])
    with pytest.raises(FirthError, match="2 texts but 1 labels"):
        TextClassifier().fit(["a", "b"], ["x"])


def test_loading_something_else_is_a_clear_error(tmp_path):
    with pytest.raises(FirthError, match="no such model directory"):
        TextClassifier.load(tmp_path / "nothing")
    (tmp_path / "m").mkdir()
    with pytest.raises(FirthError, match="config.json: no such file"):
        TextClassifier.load(tmp_path / "m")


def test_projection_features_train_and_round_trip(bbc, tmp_path):
    clf = small_classifier(features="projection", epochs=100, lr=0.2).fit(bbc.texts, bbc.labels)
    assert clf.history_[-1]["train_acc"] == 1.0  # fits the 6 articles it trained on
    clf.save(tmp_path / "model")
    loaded = TextClassifier.load(tmp_path / "model")
    assert np.allclose(loaded.predict_proba(bbc.texts), clf.predict_proba(bbc.texts), atol=1e-6)


def test_unknown_features_name_the_choices():
    with pytest.raises(FirthError, match="unknown features 'bow'; choose one of tfidf, counts, ppmi, glove, projection"):
        TextClassifier(features="bow").fit(["a", "b"], ["x", "y"])


COMBINATIONS = [
    ("tfidf", "softmax"), ("counts", "mlp"), ("ppmi", "softmax"), ("projection", "mlp"),
    ("projection", "sgnn"),
]


@pytest.mark.parametrize("features,model", COMBINATIONS)
def test_every_feature_model_combination_fits_predicts_and_round_trips(bbc, tmp_path, features, model):
    feature_params = {"min_count": 1, "dim": None} if features == "ppmi" else None
    clf = small_classifier(features=features, model=model, feature_params=feature_params, epochs=60,
                           lr=0.01, val_fraction=0.1, hidden=(16,), dropout=0.0)
    clf.fit(bbc.texts, bbc.labels)
    assert clf.score(bbc.texts, bbc.labels) == 1.0  # fits its 9 articles
    clf.save(tmp_path / "model")
    loaded = TextClassifier.load(tmp_path / "model")
    assert np.allclose(loaded.predict_proba(bbc.texts), clf.predict_proba(bbc.texts), atol=1e-6)


def test_glove_features_with_a_local_vectors_file(bbc, tmp_path):
    rng = np.random.default_rng(0)
    vocabulary = sorted({w for t in bbc.texts for w in t.lower().split()})[:300]
    lines = [f"{w} " + " ".join(f"{v:.4f}" for v in rng.normal(size=8)) for w in vocabulary]
    (tmp_path / "vectors.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    clf = small_classifier(features="glove", model="mlp", hidden=(16,), epochs=60, val_fraction=0.1, lr=0.01,
                           feature_params={"vectors": str(tmp_path / "vectors.txt")})
    clf.fit(bbc.texts, bbc.labels)
    clf.save(tmp_path / "model")
    assert np.array_equal(TextClassifier.load(tmp_path / "model").predict(bbc.texts), clf.predict(bbc.texts))


@pytest.mark.parametrize("pooling", ["max", "attention"])
def test_sgnn_per_word_pooling(bbc, pooling):
    def fitted() -> TextClassifier:
        return small_classifier(model="sgnn", pooling=pooling, hidden=(16, 8), epochs=60, lr=0.01,
                                val_fraction=0.1, dropout=0.0).fit(bbc.texts, bbc.labels)

    clf = fitted()
    assert clf.score(bbc.texts, bbc.labels) == 1.0
    assert np.array_equal(fitted().predict_proba(bbc.texts), clf.predict_proba(bbc.texts))  # deterministic


@pytest.mark.parametrize("pooling,hidden", [("mean", (8,)), ("max", (8, 4)), ("meanmax", (8, 4))])
def test_sgnn_pooling_matches_a_per_text_loop(pooling, hidden):
    """Bag pooling (and the mean shortcut) equal pooling each text's refined words by hand."""
    from firth.models.sgnn import SGNNClassifierNet

    torch.manual_seed(0)
    net = SGNNClassifierNet(3, hidden=hidden, pooling=pooling).eval()
    docs = [["the", "cat", "sat"], [], ["a", "dog", "the", "cat"]]
    words = ["the", "cat", "sat", "a", "dog"]
    refined = dict(zip(words, net.word_layers(net.projection.project_words(words).float())))
    pooled = []
    for doc in docs:
        rows = torch.stack([refined[w] for w in doc]) if doc else torch.zeros(1, hidden[-1])
        mean, peak = rows.mean(0), rows.max(0).values
        pooled.append({"mean": mean, "max": peak, "meanmax": torch.cat([mean, peak])}[pooling])
    assert torch.allclose(net(docs), net.head(torch.stack(pooled)), atol=1e-5)
    with torch.no_grad():  # inference: from the kept word vectors
        assert torch.allclose(net(docs), net.head(torch.stack(pooled)), atol=1e-5)


@pytest.mark.parametrize("pooling,hidden", [("mean", (8,)), ("meanmax", (8, 4)), ("attention", (8,))])
def test_sgnn_inference_keeps_each_words_vector_while_the_weights_stay(pooling, hidden):
    from firth.models.sgnn import SGNNClassifierNet

    torch.manual_seed(0)
    net = SGNNClassifierNet(3, hidden=hidden, pooling=pooling, dropout=0.0)
    docs = [["the", "cat", "sat"], [], ["a", "dog", "the", "cat"], ["cat"]]
    net.eval()
    with torch.no_grad():
        kept = net(docs)
    assert net.word_cache.size == 5  # each distinct word once
    assert torch.allclose(kept, net(docs), atol=1e-5)  # with gradients: the training path
    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1, fused=True)  # as the Trainer steps: uncounted
    net(docs).sum().backward()
    optimizer.step()
    net.eval()
    with torch.no_grad():
        stepped = net(docs)
    assert torch.allclose(stepped, net(docs), atol=1e-5) and not torch.allclose(stepped, kept, atol=1e-3)


def test_sgnn_needs_the_projection():
    with pytest.raises(FirthError, match="the sgnn model reads words through the projection"):
        TextClassifier(model="sgnn", features="tfidf").fit(["a b", "c d"], ["x", "y"])


def test_defaults_are_per_model_and_explicit_settings_win():
    """The softmax's C and learning rate, and the SGNN's shape and schedule, default to the values chosen
    across datasets; the mlp keeps the engine's; a weight decay the user sets is not overridden by a default
    C, and projection parameters the user sets go over the SGNN's projection defaults."""
    from firth.config import SGNN_DEFAULTS, SGNN_PROJECTION, SOFTMAX_DEFAULTS

    softmax = ClassifierConfig()
    assert (softmax.C, softmax.lr, softmax.epochs, softmax.schedule) == (SOFTMAX_DEFAULTS["C"], SOFTMAX_DEFAULTS["lr"],
                                                                         30, "constant")
    mlp = ClassifierConfig(model="mlp")
    assert (mlp.C, mlp.lr, mlp.hidden, mlp.clip_grad) == (None, 0.01, (256,), None)
    sgnn = ClassifierConfig(model="sgnn")
    assert {name: getattr(sgnn, name) for name in SGNN_DEFAULTS} == SGNN_DEFAULTS
    assert sgnn.feature_params == SGNN_PROJECTION and sgnn.C is None
    given = ClassifierConfig(model="sgnn", hidden=(32,), epochs=3, schedule="constant", feature_params={"bits": 64})
    assert (given.hidden, given.epochs, given.schedule, given.warmup) == ((32,), 3, "constant", SGNN_DEFAULTS["warmup"])
    assert given.feature_params == {**SGNN_PROJECTION, "bits": 64}
    assert ClassifierConfig(weight_decay=1e-4).C is None
    given = ClassifierConfig(C=3.0, lr=0.1)
    assert (given.C, given.lr) == (3.0, 0.1)
    assert TextClassifier().fit(["good film", "bad film"] * 3, ["pos", "neg"] * 3).config_.C == SOFTMAX_DEFAULTS["C"]


def test_clip_grad_zero_turns_off_the_sgnns_default_clipping(bbc):
    """The SGNN clips gradients by default; clip_grad=0 trains it as an unreachable bound does, and a tight
    bound trains it otherwise."""
    def probabilities(clip_grad: float) -> np.ndarray:
        clf = small_classifier(model="sgnn", hidden=(8,), epochs=2, lr=0.05, warmup=0, clip_grad=clip_grad)
        return clf.fit(bbc.texts, bbc.labels).predict_proba(bbc.texts)

    assert ClassifierConfig(model="sgnn").clip_grad > 0 and ClassifierConfig(model="sgnn", clip_grad=0).clip_grad == 0
    unclipped = probabilities(0.0)
    assert np.array_equal(unclipped, probabilities(1e9))
    assert not np.allclose(unclipped, probabilities(1e-3))
    with pytest.raises(FirthError, match=r"clip_grad must be a finite number of at least 0 \(0: no clipping\)"):
        ClassifierConfig(clip_grad=-1.0)


def test_an_sgnn_saved_before_its_projection_defaults_loads_with_the_projection_it_was_trained_on(bbc, tmp_path):
    """Directories written before the SGNN had projection defaults of its own left out the parameters at
    ProjectionConfig's defaults (80 x 14, 1-3-grams); they load as they were trained."""
    classic = {"mode": "float", "n_hashes": 80, "bits": 14, "ngram_range": (1, 3)}
    clf = small_classifier(model="sgnn", hidden=(8,), epochs=2, feature_params=classic).fit(bbc.texts, bbc.labels)
    clf.save(tmp_path / "model")
    stamped = json.loads((tmp_path / "model" / "config.json").read_text())
    stamped["config"]["feature_params"] = {"mode": "float"}  # as such a directory holds it
    (tmp_path / "model" / "config.json").write_text(json.dumps(stamped))
    loaded = TextClassifier.load(tmp_path / "model")
    assert loaded.model_.projection.dim == 80 * 14
    assert np.allclose(loaded.predict_proba(bbc.texts), clf.predict_proba(bbc.texts), atol=1e-6)


def test_C_is_logistic_regressions(bbc):
    # the same penalized objective (bias unpenalized) has the same optimum as scikit-learn's
    from sklearn.linear_model import LogisticRegression

    clf = small_classifier(features="tfidf", C=2.0, epochs=150, batch_size=9, lr=0.05, schedule="cosine",
                           val_fraction=0.0).fit(bbc.texts, bbc.labels)
    x = clf.features_.transform(bbc.texts)
    reference = LogisticRegression(C=2.0, tol=1e-10, max_iter=10_000).fit(x, bbc.labels)
    assert np.abs(clf.predict_proba(bbc.texts) - reference.predict_proba(x)).max() < 1e-3
    with pytest.raises(FirthError, match="C must be a positive finite number"):
        small_classifier(C=0.0).fit(bbc.texts, bbc.labels)
