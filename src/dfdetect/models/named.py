"""Architectures the training guides name, registered under short names.

``swin`` is timm's Swin-T built with a dynamic input size (any multiple of 32 works, so the same
model trains at 224 and smoke-tests at 64); ``xception`` is timm's ``legacy_xception`` (the
FaceForensics++ baseline architecture).
"""
from __future__ import annotations

from torch import nn

from dfdetect.models import MODELS


@MODELS.register("swin")
def swin(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.0) -> nn.Module:
    """Swin-T (``swin_tiny_patch4_window7_224``) accepting any input size."""
    from dfdetect.models.timm_models import timm_model

    return timm_model("swin_tiny_patch4_window7_224", pretrained, num_classes, drop_rate,
                      strict_img_size=False, dynamic_img_size=True)


@MODELS.register("xception")
def xception(pretrained: str = "false", num_classes: int = 2,
             drop_rate: float = 0.0) -> nn.Module:
    """Xception (``legacy_xception``), the classic FaceForensics++ detector."""
    from dfdetect.models.timm_models import timm_model

    return timm_model("legacy_xception", pretrained, num_classes, drop_rate)
