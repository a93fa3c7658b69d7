"""The Trainer: resume, early stopping, schedules, clipping, evaluation points."""

import json
import math

import numpy as np
import pytest
import scipy.sparse
import torch
from torch import nn

from firth.config import TrainConfig
from firth.errors import FirthError
from firth.evaluate.evaluators import Evaluator, LossEvaluator
from firth.models.mlp import MLP
from firth.train import ArrayDataset, Trainer
from firth.train.schedules import lr_factor


def make_data(n: int, seed: int) -> ArrayDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    y = ((x[:, 0] + x[:, 1] + 0.5 * torch.randn(n, generator=g)) > 0).long()
    return ArrayDataset(x.numpy(), y.numpy())


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))


def config(**kw) -> TrainConfig:
    base = dict(epochs=4, batch_size=16, lr=0.05, schedule="cosine", warmup=3, clip_grad=1.0,
                patience=None, device="cpu", progress=False)
    return TrainConfig(**{**base, **kw})


def test_resume_after_a_killed_run_gives_identical_weights(tmp_path, monkeypatch):
    train, val = make_data(120, 1), make_data(40, 2)
    whole = Trainer(make_model(), config(), out_dir=tmp_path / "whole")
    whole.fit(train, val)

    killed = Trainer(make_model(), config(), out_dir=tmp_path / "killed")
    run_epoch = Trainer._run_epoch

    def dies_in_epoch_3(self, train, val, epoch, total_steps):
        if epoch == 3:
            raise KeyboardInterrupt
        return run_epoch(self, train, val, epoch, total_steps)

    monkeypatch.setattr(Trainer, "_run_epoch", dies_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        killed.fit(train, val)
    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)

    resumed = Trainer(make_model(), config(), out_dir=tmp_path / "killed")
    resumed.fit(train, val, resume=True)
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    timing = {"seconds", "data_wait", "tokens_per_s"}
    strip = lambda path: [{k: v for k, v in json.loads(line).items() if k not in timing}  # noqa: E731
                          for line in path.read_text().splitlines()]
    assert strip(tmp_path / "killed" / "metrics.jsonl") == strip(tmp_path / "whole" / "metrics.jsonl")
    assert len(strip(tmp_path / "whole" / "metrics.jsonl")) == 4


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FirthError, match="nothing to resume"):
        Trainer(make_model(), config(), out_dir=tmp_path).fit(make_data(20, 1), resume=True)


def test_early_stopping_restores_the_best_epoch():
    train, val = make_data(60, 3), make_data(200, 4)
    trainer = Trainer(make_model(), config(epochs=60, lr=0.5, schedule="constant", warmup=0,
                                           clip_grad=None, patience=3))
    history = trainer.fit(train, val)
    losses = [h["val_loss"] for h in history]
    assert len(history) < 60  # stopped early
    assert losses.index(min(losses)) == len(losses) - 4  # 3 evaluations without improvement
    assert trainer.evaluate(val)["loss"] == pytest.approx(min(losses), rel=1e-6)


def test_monitoring_accuracy_keeps_the_most_accurate_weights():
    train, val = make_data(60, 3), make_data(200, 4)
    trainer = Trainer(make_model(), config(epochs=15, lr=0.5, patience=None))
    history = trainer.fit(train, LossEvaluator(val, "acc"))
    assert trainer.evaluate(val)["acc"] == max(h["val_acc"] for h in history)


def test_evaluation_every_n_steps():
    history = Trainer(make_model(), config(epochs=2, eval_every=3)).fit(make_data(96, 1), make_data(20, 2))
    # 6 steps an epoch: evaluations at steps 3 and 6 of each epoch, none extra at the epoch end
    assert [h["step"] for h in history] == [3, 6, 9, 12]


def test_gradient_clipping_bounds_the_step():
    model = nn.Linear(10, 2)
    before = [p.detach().clone() for p in model.parameters()]
    trainer = Trainer(model, config(epochs=1, batch_size=64, optimizer="sgd", lr=1.0, schedule="constant",
                                    warmup=0, clip_grad=0.01))
    trainer.fit(make_data(64, 1))
    moved = torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert 0 < moved <= 0.01 + 1e-6


def test_schedules():
    assert lr_factor("constant", 10, 100) == 1.0
    assert lr_factor("linear", 5, 100, warmup=10) == 0.5
    assert lr_factor("linear", 100, 100, warmup=10) == 0.0
    assert lr_factor("cosine", 55, 100, warmup=10) == pytest.approx(0.5)
    assert lr_factor("noam", 4000, 10**6, warmup=4000) == 1.0
    assert lr_factor("noam", 16000, 10**6, warmup=4000) == pytest.approx(0.5)
    assert lr_factor("noam", 1000, 10**6, warmup=4000) == 0.25
    with pytest.raises(FirthError, match="unknown schedule 'step'"):
        lr_factor("step", 1, 10)


def test_learning_rate_follows_the_schedule():
    trainer = Trainer(make_model(), config(epochs=1, batch_size=10, lr=0.1, schedule="linear", warmup=2))
    trainer.fit(make_data(40, 1))  # 4 steps: factors 0.5, 1, 0.5, 0
    assert trainer.history[-1]["lr"] == pytest.approx(0.0)
    assert math.isfinite(trainer.history[-1]["train_loss"])


class PairedBatches(ArrayDataset):
    """A dataset that chooses its own batches: rows in pairs, order shuffled by the seed."""

    def batches(self, seed: int) -> list[list[int]]:
        order = torch.randperm(len(self) // 2, generator=torch.Generator().manual_seed(seed)).tolist()
        return [[2 * i, 2 * i + 1] for i in order]


def test_a_dataset_may_choose_its_batches():
    base = make_data(20, 1)
    data = PairedBatches(base.features, base.labels.numpy())
    trainer = Trainer(make_model(), config(epochs=2))
    trainer.fit(data)
    assert trainer.step == 2 * 10  # ten pairs an epoch, not ceil(20 / 16) batches
    assert all(record["data_wait"] >= 0 for record in trainer.history)


class Scripted(Evaluator):
    """An evaluator returning scripted scores; it records whether the model was in eval mode."""

    def __init__(self, metric: str, scores: list[float], greater_is_better: bool = True):
        self.primary_metric, self.greater_is_better = metric, greater_is_better
        self.scores, self.calls = scores, []

    def __call__(self, model: nn.Module) -> dict:
        self.calls.append(model.training)
        return {"score": self.scores[len(self.calls) - 1]}


def test_the_evaluator_names_the_metric_and_its_direction():
    rising = Scripted("score", [0.2, 0.9, 0.5, 0.4])
    trainer = Trainer(make_model(), config(patience=2))
    history = trainer.fit(make_data(64, 1), rising)
    assert rising.calls == [False, False, False, False]  # evaluated in eval mode
    assert [h["val_score"] for h in history] == [0.2, 0.9, 0.5, 0.4]  # stopped after 2 worse than 0.9
    assert trainer.best_score == -0.9  # higher is better, as the evaluator says
    falling = Scripted("score", [0.2, 0.9, 0.5, 0.4], greater_is_better=False)
    trainer = Trainer(make_model(), config(patience=2))
    assert len(trainer.fit(make_data(64, 1), falling)) == 3 and trainer.best_score == 0.2  # lower is better


def test_a_primary_metric_the_evaluator_does_not_report_is_a_clear_error():
    trainer = Trainer(make_model(), config())
    with pytest.raises(FirthError, match="primary metric 'f1' is not among its results"):
        trainer.fit(make_data(32, 1), Scripted("f1", [0.5]))


def test_a_non_classifier_reports_no_accuracy():
    trainer = Trainer(make_model(), config(epochs=1), loss_fn=nn.CrossEntropyLoss(), classifier=False)
    history = trainer.fit(make_data(32, 1), make_data(16, 2))
    assert "train_acc" not in history[0] and "val_acc" not in history[0] and "val_loss" in history[0]


def test_workers_prepare_the_same_batches():
    data, val = make_data(64, 1), make_data(16, 2)
    alone = Trainer(make_model(), config(epochs=2))
    alone.fit(data, val)
    helped = Trainer(make_model(), config(epochs=2, num_workers=1))
    helped.fit(data, val)
    for a, b in zip(alone.model.state_dict().values(), helped.model.state_dict().values()):
        assert torch.equal(a, b)


def test_sparse_rows_train_as_their_dense_rows_do():
    """TF-IDF-like scipy rows reach the first layer as a sparse batch, also from a worker process, and
    train the network that the same rows densified train (without batch norm: a bias before it gets a
    gradient of rounding noise only, which Adam makes a full step of)."""
    features = scipy.sparse.random(64, 40, density=0.1, format="csr", dtype=np.float32, random_state=0)
    sums = np.asarray(features.sum(axis=1)).ravel()
    labels = (sums > np.median(sums)).astype(np.int64)
    x, _ = ArrayDataset(features, labels)[[0, 5, 9]]
    assert x.layout == torch.sparse_coo
    outputs = []
    for data, workers in ((ArrayDataset(features.toarray(), labels), 0), (ArrayDataset(features, labels), 1)):
        torch.manual_seed(0)
        trainer = Trainer(MLP(40, 2, hidden=(8,), batch_norm=False), config(epochs=2, num_workers=workers))
        trainer.fit(data, data.subset(list(range(16))))
        outputs.append(trainer.model.eval()(torch.as_tensor(features.toarray())))
    assert torch.allclose(outputs[0], outputs[1], atol=1e-5)
    assert outputs[0].std(0).min() > 0.01  # it learned something


def test_max_steps_stops_within_an_epoch_and_ends_the_schedule_there():
    trainer = Trainer(make_model(), config(epochs=5, batch_size=8, max_steps=7, schedule="linear"))
    history = trainer.fit(make_data(40, 0), make_data(16, 1))  # 5 steps an epoch
    assert trainer.step == 7 and [r["step"] for r in history] == [5, 7]
    assert history[-1]["lr"] == pytest.approx(config().lr * lr_factor("linear", 7, 7))
