"""Any timm backbone on log-mel spectrograms: ``model=audio_timm:<name>`` (e.g. resnet18).

The log-mel front-end (:class:`~dfdetect.models.audio_features.LogMel`) runs inside the model,
so features are computed on the model's device; the backbone gets ``in_chans=1`` (timm sums
the pretrained RGB stem into one channel when ``pretrained=true`` or a weights path is given).

Example::

    net = build_model("audio_timm:resnet18")
    logits = net(torch.randn(2, 16000))   # (2, 2)
"""
from __future__ import annotations

import torch
from torch import nn

from dfdetect.models import MODELS, ModelError
from dfdetect.models.audio_features import LogMel


def no_pretrained(name: str, pretrained: str) -> None:
    """Models written here have no published weights: refuse instead of silently training."""
    if str(pretrained).strip().lower() not in ("false", "no", "0", ""):
        raise ModelError(f"{name} has no pretrained weights; use pretrained=false (or start from "
                         "a dfdetect checkpoint with `train` resume options when available)")


class LogMelClassifier(nn.Module):
    """Waveform (B, T) -> log-mel (B, 1, n_mels, frames) -> timm backbone -> (B, num_classes)."""

    modality = "audio"

    def __init__(self, backbone: nn.Module, sample_rate: int = 16000, n_mels: int = 64) -> None:
        super().__init__()
        self.sample_rate = int(sample_rate)  # checked against the checkpoint's preprocessing
        self.features = LogMel(sample_rate=sample_rate, n_mels=n_mels)
        self.backbone = backbone

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.features(wave))  # (B, num_classes)


def _timm_members(name: str) -> list[str] | None:
    from dfdetect.models.timm_models import timm_members

    return timm_members(name)


@MODELS.register("audio_timm:", members=_timm_members)
def audio_timm(name: str, pretrained: str = "false", num_classes: int = 2,
               drop_rate: float = 0.0, sample_rate: int = 16000) -> nn.Module:
    """timm backbone ``name`` with one input channel behind a log-mel front-end at
    ``sample_rate`` (train passes the data's rate; the checkpoint records it)."""
    from dfdetect.models.timm_models import build_timm

    kwargs = {"num_classes": num_classes, "drop_rate": drop_rate, "in_chans": 1}
    backbone = build_timm(name, pretrained, **kwargs)  # false, true, imagenet or a path
    return LogMelClassifier(backbone, sample_rate=sample_rate)
