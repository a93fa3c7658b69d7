"""The paragraph losses against hand-computed values."""

import math

import pytest
import torch

from firth.errors import FirthError
from firth.losses import InfoNCE, SimilarityBXENT, SupCon, make_loss
from firth.losses.infonce import next_in_group

# Three sentences, two paragraphs: sentences 0 and 1 share one, 2 is alone.
# Cosines: (0, 1) = 0, (0, 2) = -1, (1, 2) = 0; rescaled (cos + 1) / 2: 0.5, 0, 0.5.
VECTORS = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
GROUPS = torch.tensor([0, 0, 1])


def test_similarity_bxent_by_hand():
    # target [[1,1,0],[1,1,0],[0,0,1]]: the diagonal costs 0 (P = 1), (0,2) and (2,0) cost 0 (P = 0),
    # and (0,1), (1,0), (1,2), (2,1) each cost log 2: 4 log 2 over the 9 cells
    assert SimilarityBXENT()(VECTORS, GROUPS).item() == pytest.approx(4 * math.log(2) / 9, abs=1e-5)
    assert SimilarityBXENT(exclude_diagonal=True)(VECTORS, GROUPS).item() == pytest.approx(
        4 * math.log(2) / 6, abs=1e-5)
    # positive cells (3 diagonal + 2) weigh 2: (2 * 2 log 2 + 2 log 2) / (5 * 2 + 4)
    assert SimilarityBXENT(pos_weight=2.0)(VECTORS, GROUPS).item() == pytest.approx(
        6 * math.log(2) / 14, abs=1e-5)


def test_similarity_bxent_is_scale_free_and_lowest_for_the_blocks():
    assert SimilarityBXENT()(3 * VECTORS, GROUPS).item() == pytest.approx(SimilarityBXENT()(VECTORS, GROUPS).item())
    perfect = torch.tensor([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    assert SimilarityBXENT()(perfect, GROUPS).item() < 1e-5


def test_infonce_and_supcon_by_hand():
    # anchors 0 and 1 (sentence 2 has no partner); tau = 1:
    # anchor 0: -log(e^0 / (e^0 + e^-1)); anchor 1: -log(e^0 / (e^0 + e^0))
    expected = (math.log(1 + math.exp(-1)) + math.log(2)) / 2
    assert InfoNCE(temperature=1.0)(VECTORS, GROUPS).item() == pytest.approx(expected, abs=1e-6)
    assert SupCon(temperature=1.0)(VECTORS, GROUPS).item() == pytest.approx(expected, abs=1e-6)


def test_supcon_uses_every_positive_and_infonce_the_next_one():
    vectors = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-1.0, 0.0]])
    groups = torch.tensor([0, 0, 0, 1])
    assert next_in_group(groups).tolist() == [1, 2, 0, 3]
    cos = torch.nn.functional.normalize(vectors, dim=1) @ torch.nn.functional.normalize(vectors, dim=1).T
    log_prob = lambda i, j: (cos[i, j] - torch.logsumexp(cos[i][torch.arange(4) != i], 0)).item()  # noqa: E731
    supcon = -sum((log_prob(i, a) + log_prob(i, b)) / 2 for i, a, b in [(0, 1, 2), (1, 0, 2), (2, 0, 1)]) / 3
    infonce = -sum(log_prob(i, j) for i, j in [(0, 1), (1, 2), (2, 0)]) / 3
    assert SupCon(temperature=1.0)(vectors, groups).item() == pytest.approx(supcon, abs=1e-6)
    assert InfoNCE(temperature=1.0)(vectors, groups).item() == pytest.approx(infonce, abs=1e-6)


def test_no_positive_pair_gives_zero_with_a_gradient():
    vectors = torch.randn(3, 4, requires_grad=True)
    loss = InfoNCE()(vectors, torch.tensor([0, 1, 2]))
    loss.backward()
    assert loss.item() == 0 and vectors.grad is not None


def test_losses_by_name_with_clear_errors():
    assert isinstance(make_loss("infonce", temperature=0.1), InfoNCE)
    with pytest.raises(FirthError, match="unknown loss 'cosine'"):
        make_loss("cosine")
    with pytest.raises(FirthError, match="bad option for loss 'bxent'"):
        make_loss("bxent", temperature=0.1)


def test_bxent_with_a_learned_scale_is_siglips_sigmoid_loss():
    import torch.nn.functional as F

    vectors = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    groups = torch.tensor([0, 0, 1])
    scale, bias = torch.tensor(math.log(2.0)), torch.tensor(-1.0)
    cosines = F.normalize(vectors, dim=1) @ F.normalize(vectors, dim=1).T
    target = (groups[:, None] == groups[None, :]).float()
    probability = torch.sigmoid(2.0 * cosines - 1.0)
    expected = -(target * probability.log() + (1 - target) * (1 - probability).log()).mean()
    assert torch.allclose(SimilarityBXENT()(vectors, groups, scale, bias), expected, atol=1e-6)
    assert not torch.allclose(SimilarityBXENT()(vectors, groups), expected)  # the reference form differs
