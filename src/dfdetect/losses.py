"""Registered training losses: ``ce``, ``focal``, ``soft_f1`` and ``combined``.

Every loss maps ``(logits (B, 2), target (B,))`` to a scalar. ``combined`` is the mix the training
guides recommend for imbalanced deepfake sets: class-weighted cross-entropy keeps probabilities
calibrated, focal loss concentrates on hard examples, and a soft (differentiable) macro F1 pulls
directly on the metric that picks the best checkpoint.

Example::

    loss_fn = build_loss(LossConfig(name="combined"), class_counts=[900, 100])
    loss = loss_fn(logits, target)
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from dfdetect.config.loader import ConfigError
from dfdetect.registry import Registry

LOSSES: Registry[nn.Module] = Registry("loss")


class LossConfigError(ConfigError):
    """A loss option that cannot work (bad class weights, negative mixing weights)."""


def parse_class_weights(spec: str, class_counts: Sequence[int] | None) -> torch.Tensor | None:
    """``""`` -> None; ``auto`` -> inverse frequency (mean 1); ``"1,3"`` -> those weights."""
    spec = (spec or "").strip().lower()
    if not spec:
        return None
    if spec == "auto":
        if not class_counts or min(class_counts) <= 0:
            raise LossConfigError(f"class_weights=auto needs both classes in the training data "
                                  f"(counts real,fake = {list(class_counts or [])})")
        counts = torch.tensor([float(c) for c in class_counts])
        w = counts.sum() / (len(counts) * counts)
        return w / w.mean()
    try:
        values = [float(v) for v in spec.split(",")]
    except ValueError:
        raise LossConfigError(f"class_weights='{spec}': expected auto or two numbers real,fake "
                              "like 1,3") from None
    if len(values) != 2 or min(values) <= 0:
        raise LossConfigError(f"class_weights='{spec}': expected two positive numbers real,fake")
    return torch.tensor(values)


class CrossEntropy(nn.Module):
    """Cross-entropy with optional class weights and label smoothing."""

    def __init__(self, weight: torch.Tensor | None = None, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("weight", weight, persistent=False)
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), target, weight=self.weight,
                               label_smoothing=self.label_smoothing)


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017): ``-(1 - p_t)^gamma log p_t``, optionally class-weighted."""

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.gamma = gamma
        self.register_buffer("weight", weight, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = F.log_softmax(logits.float(), dim=-1).gather(1, target[:, None]).squeeze(1)  # (B,)
        loss = -((1 - logp.exp()).clamp_min(0) ** self.gamma) * logp
        if self.weight is not None:
            w = self.weight[target]
            return (loss * w).sum() / w.sum()
        return loss.mean()


class SoftF1Loss(nn.Module):
    """``1 - macro F1`` computed from probabilities instead of hard labels (differentiable)."""

    def __init__(self, eps: float = 1e-7) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        prob = logits.float().softmax(-1)  # (B, C)
        onehot = F.one_hot(target, prob.shape[-1]).float()  # (B, C)
        tp = (prob * onehot).sum(0)
        fp = (prob * (1 - onehot)).sum(0)
        fn = ((1 - prob) * onehot).sum(0)
        f1 = 2 * tp / (2 * tp + fp + fn + self.eps)  # (C,)
        return 1 - f1.mean()


class CombinedLoss(nn.Module):
    """Weighted sum of cross-entropy, focal and soft-F1 (defaults 0.5 / 0.3 / 0.2)."""

    def __init__(self, ce: nn.Module, focal: nn.Module, f1: nn.Module,
                 weights: Sequence[float] = (0.5, 0.3, 0.2)) -> None:
        super().__init__()
        if min(weights) < 0 or sum(weights) <= 0:
            raise LossConfigError(f"combined loss weights must be >= 0 with a positive sum, "
                                  f"got ce,focal,f1 = {list(weights)}")
        self.ce, self.focal, self.f1 = ce, focal, f1
        self.weights = tuple(float(w) for w in weights)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        w_ce, w_focal, w_f1 = self.weights
        return (w_ce * self.ce(logits, target) + w_focal * self.focal(logits, target)
                + w_f1 * self.f1(logits, target))


@LOSSES.register("ce")
def _ce(cfg, weight):
    return CrossEntropy(weight, cfg.label_smoothing)


@LOSSES.register("focal")
def _focal(cfg, weight):
    return FocalLoss(cfg.focal_gamma, weight)


@LOSSES.register("soft_f1")
def _soft_f1(cfg, weight):
    return SoftF1Loss()


@LOSSES.register("combined")
def _combined(cfg, weight):
    return CombinedLoss(CrossEntropy(weight, cfg.label_smoothing), FocalLoss(cfg.focal_gamma),
                        SoftF1Loss(), (cfg.ce_weight, cfg.focal_weight, cfg.f1_weight))


def build_loss(cfg, class_counts: Sequence[int] | None = None) -> nn.Module:
    """The loss ``cfg.name`` names (a :class:`~dfdetect.config.schema.LossConfig`)."""
    return LOSSES.build(cfg.name, cfg=cfg, weight=parse_class_weights(cfg.class_weights,
                                                                      class_counts))
