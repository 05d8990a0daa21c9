"""``dual_branch``: a timm backbone on pixels plus a frequency branch, fused before the head.

Why: face-swap and GAN pipelines leave traces in the spectrum (up-sampling grids, blending
seams) that a pixel CNN trained on compressed video learns slowly; a second branch that sees the
crop's log-magnitude DCT (or FFT) spectrum gives the head both views.

Example::

    net = build_model("dual_branch", backbone="resnet18", spectrum="fft")
    net(torch.randn(2, 3, 128, 128)).shape     # (2, 2)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from dfdetect.models import MODELS, ModelError

SPECTRA = ("dct", "fft")


def dct_matrix(n: int, device=None) -> torch.Tensor:
    """Orthonormal DCT-II matrix (n, n): ``D @ x`` is the DCT of the column vector ``x``."""
    k = torch.arange(n, device=device, dtype=torch.float32)[:, None]
    i = torch.arange(n, device=device, dtype=torch.float32)[None, :]
    d = torch.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    d[0] /= math.sqrt(2.0)
    return d


def _dft2_abs(x: torch.Tensor) -> torch.Tensor:
    """|fft2(x, norm="ortho")| of (B, 1, H, W) with real cos / sin matrices (exportable)."""
    def cs(n: int):
        k = torch.arange(n, dtype=torch.float64)
        a = 2 * math.pi * k[:, None] * k[None] / n
        return (torch.cos(a) / math.sqrt(n)).float(), (torch.sin(a) / math.sqrt(n)).float()

    (ch, sh), (cw, sw) = cs(x.shape[-2]), cs(x.shape[-1])
    re = ch @ x @ cw - sh @ x @ sw   # cos/sin matrices are symmetric
    im = ch @ x @ sw + sh @ x @ cw
    return torch.sqrt(re * re + im * im)


def _shift(x: torch.Tensor) -> torch.Tensor:
    """fftshift over the last two axes by slicing (exportable; torch.roll is not, traced)."""
    h, w = x.shape[-2:]
    x = torch.cat([x[..., h - h // 2:, :], x[..., : h - h // 2, :]], dim=-2)
    return torch.cat([x[..., w - w // 2:], x[..., : w - w // 2]], dim=-1)


def log_spectrum(x: torch.Tensor, kind: str = "dct") -> torch.Tensor:
    """(B, C, H, W) images -> (B, 1, H, W) standardised log-magnitude spectrum of the grey image."""
    with torch.autocast(device_type=x.device.type, enabled=False):
        grey = x.float().mean(1, keepdim=True)  # (B, 1, H, W)
        if kind == "fft" and torch.onnx.is_in_onnx_export():  # ONNX has no fft2: DFT matrices
            spec = _shift(_dft2_abs(grey))
        elif kind == "fft":
            spec = torch.fft.fftshift(torch.fft.fft2(grey, norm="ortho"), dim=(-2, -1)).abs()
        else:
            h, w = grey.shape[-2:]
            spec = (dct_matrix(h, x.device) @ grey @ dct_matrix(w, x.device).T).abs()
        spec = torch.log1p(spec)
        mean = spec.mean(dim=(-2, -1), keepdim=True)
        std = spec.std(dim=(-2, -1), keepdim=True).clamp_min(1e-6)
        return (spec - mean) / std


class FrequencyBranch(nn.Module):
    """Small CNN over the spectrum: (B, 3, H, W) -> (B, out_features)."""

    def __init__(self, kind: str = "dct", width: int = 32, out_features: int = 128) -> None:
        super().__init__()
        if kind not in SPECTRA:
            raise ModelError(f"spectrum='{kind}' is not one of {', '.join(SPECTRA)}")
        self.kind = kind

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.net = nn.Sequential(block(1, width), block(width, 2 * width),
                                 block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1),
                                 nn.Flatten(), nn.Linear(4 * width, out_features),
                                 nn.ReLU(inplace=True))
        self.out_features = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(log_spectrum(x, self.kind))  # (B, F)


class DualBranchDetector(nn.Module):
    """Pixel features (timm backbone, pooled) and spectrum features, concatenated, then a head."""

    def __init__(self, backbone: nn.Module, num_classes: int = 2, drop_rate: float = 0.0,
                 spectrum: str = "dct") -> None:
        super().__init__()
        self.backbone = backbone  # timm model built with num_classes=0: (B, num_features)
        self.frequency = FrequencyBranch(spectrum)
        self.pretrained_cfg = getattr(backbone, "pretrained_cfg", None)
        self.head = nn.Sequential(
            nn.Dropout(drop_rate),
            nn.Linear(backbone.num_features + self.frequency.out_features, num_classes))

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute the backbone's activations in backward (timm's switch)."""
        self.backbone.set_grad_checkpointing(enable)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused = torch.cat([self.backbone(x), self.frequency(x)], dim=1)  # (B, Fp + Ff)
        return self.head(fused)  # (B, num_classes)


@MODELS.register("dual_branch")
def dual_branch(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.0,
                backbone: str = "efficientnet_b4", spectrum: str = "dct") -> nn.Module:
    """Dual-branch detector; ``pretrained`` applies to the backbone."""
    from dfdetect.models.timm_models import timm_model

    net = timm_model(backbone or "efficientnet_b4", pretrained, num_classes=0, drop_rate=0.0)
    return DualBranchDetector(net, num_classes, drop_rate, spectrum or "dct")
