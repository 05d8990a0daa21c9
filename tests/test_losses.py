"""Tests for the registered losses (dfdetect.losses)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dfdetect.config.schema import LossConfig
from dfdetect.losses import (LOSSES, CombinedLoss, CrossEntropy, FocalLoss, LossConfigError,
                             SoftF1Loss, build_loss, parse_class_weights)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(16, 2, generator=g), torch.randint(0, 2, (16,), generator=g)


def test_registry_names() -> None:
    assert set(LOSSES) == {"ce", "focal", "soft_f1", "combined"}


def test_ce_matches_torch_and_takes_weights_and_smoothing(batch) -> None:
    logits, y = batch
    assert torch.allclose(CrossEntropy()(logits, y), F.cross_entropy(logits, y))
    w = torch.tensor([1.0, 3.0])
    assert torch.allclose(CrossEntropy(w)(logits, y), F.cross_entropy(logits, y, weight=w))
    smooth = CrossEntropy(label_smoothing=0.2)(logits, y)
    assert torch.allclose(smooth, F.cross_entropy(logits, y, label_smoothing=0.2))
    assert not torch.allclose(smooth, CrossEntropy()(logits, y))


def test_focal_with_gamma_zero_is_ce_and_downweights_easy_examples(batch) -> None:
    logits, y = batch
    assert torch.allclose(FocalLoss(gamma=0.0)(logits, y), F.cross_entropy(logits, y), atol=1e-6)
    easy = torch.tensor([[5.0, -5.0]]), torch.tensor([0])
    ratio = FocalLoss(2.0)(*easy) / F.cross_entropy(*easy)
    assert ratio < 1e-3


def test_soft_f1_is_low_when_right_high_when_wrong_and_differentiable() -> None:
    y = torch.tensor([0, 1, 0, 1])
    right = torch.where(y[:, None] == torch.arange(2), 8.0, -8.0)
    assert SoftF1Loss()(right, y) < 0.01
    assert SoftF1Loss()(-right, y) > 0.99
    logits = torch.zeros(4, 2, requires_grad=True)
    SoftF1Loss()(logits, y).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_combined_is_the_weighted_sum_with_guide_defaults(batch) -> None:
    logits, y = batch
    cfg = LossConfig(name="combined")
    loss = build_loss(cfg)
    assert isinstance(loss, CombinedLoss) and loss.weights == (0.5, 0.3, 0.2)
    expected = (0.5 * F.cross_entropy(logits, y) + 0.3 * FocalLoss(2.0)(logits, y)
                + 0.2 * SoftF1Loss()(logits, y))
    assert torch.allclose(loss(logits, y), expected)
    custom = build_loss(LossConfig(name="combined", ce_weight=1, focal_weight=0, f1_weight=0))
    assert torch.allclose(custom(logits, y), F.cross_entropy(logits, y))
    with pytest.raises(LossConfigError):
        build_loss(LossConfig(name="combined", ce_weight=-1))


def test_class_weights() -> None:
    assert parse_class_weights("", [1, 1]) is None
    auto = parse_class_weights("auto", [900, 100])
    assert auto[1] / auto[0] == pytest.approx(9.0)
    assert parse_class_weights("1,3", None).tolist() == [1.0, 3.0]
    for bad in ("1", "a,b", "0,1"):
        with pytest.raises(LossConfigError):
            parse_class_weights(bad, None)
    with pytest.raises(LossConfigError, match="both classes"):
        parse_class_weights("auto", [10, 0])
    weighted = build_loss(LossConfig(name="ce", class_weights="auto"), [900, 100])
    assert weighted.weight[1] > weighted.weight[0]


def test_unknown_loss_suggests() -> None:
    with pytest.raises(KeyError, match="focal"):
        build_loss(LossConfig(name="focall"))
