"""RawNet2 for anti-spoofing (Tak et al., ICASSP 2021), written from the paper's description.

Raw waveform -> fixed mel-spaced sinc filters -> residual 1-D conv blocks with filter-wise feature
map scaling (FMS: a sigmoid gate per channel from the time-averaged activations, applied as
``x * s + s``) -> GRU over time -> fully connected -> 2 logits. Paper sizes: 20 sinc filters of
length 1024, two blocks of 20 and four of 128 channels, a 1024-unit GRU.

Example::

    net = build_model("rawnet2")
    logits = net(torch.randn(2, 64000))   # (2, 2)
"""
from __future__ import annotations

import torch
from torch import nn

from dfdetect.models import MODELS
from dfdetect.models.audio_features import SincConv


class FMS(nn.Module):
    """Filter-wise feature map scaling: (B, C, T) -> (B, C, T)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(self.fc(x.mean(dim=-1))).unsqueeze(-1)  # (B, C, 1)
        return x * s + s


class ResBlock1d(nn.Module):
    """BN-LeakyReLU-conv3-BN-LeakyReLU-conv3 + skip, max-pool by 3, then FMS."""

    def __init__(self, c_in: int, c_out: int, first: bool = False) -> None:
        super().__init__()
        self.pre = nn.Identity() if first else nn.Sequential(nn.BatchNorm1d(c_in),
                                                             nn.LeakyReLU(0.3))
        self.body = nn.Sequential(
            nn.Conv1d(c_in, c_out, 3, padding=1), nn.BatchNorm1d(c_out), nn.LeakyReLU(0.3),
            nn.Conv1d(c_out, c_out, 3, padding=1))
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.pool = nn.MaxPool1d(3)
        self.fms = FMS(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, T) -> (B, C_out, T/3)
        return self.fms(self.pool(self.body(self.pre(x)) + self.skip(x)))


class RawNet2(nn.Module):
    """RawNet2 anti-spoofing classifier; input (B, T) waveform, output (B, num_classes)."""

    modality = "audio"

    def __init__(self, num_classes: int = 2, sinc_filters: int = 20, sinc_kernel: int = 1024,
                 channels: tuple[int, int] = (20, 128), gru: int = 1024, fc: int = 1024,
                 drop_rate: float = 0.0, sample_rate: int = 16000) -> None:
        super().__init__()
        self.sample_rate = int(sample_rate)  # checked against the checkpoint's preprocessing
        self.sinc = SincConv(sinc_filters, sinc_kernel, sample_rate)
        self.stem = nn.Sequential(nn.MaxPool1d(3), nn.BatchNorm1d(sinc_filters), nn.LeakyReLU(0.3))
        c1, c2 = channels
        blocks = [ResBlock1d(sinc_filters, c1, first=True), ResBlock1d(c1, c1),
                  ResBlock1d(c1, c2)] + [ResBlock1d(c2, c2) for _ in range(3)]
        self.blocks = nn.Sequential(*blocks)
        self.pre_gru = nn.Sequential(nn.BatchNorm1d(c2), nn.LeakyReLU(0.3))
        self.gru = nn.GRU(c2, gru, num_layers=3, batch_first=True)
        self.head = nn.Sequential(nn.Linear(gru, fc), nn.Dropout(drop_rate),
                                  nn.Linear(fc, num_classes))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = self.stem(self.sinc(wave).abs())      # (B, S, T/3)
        x = self.pre_gru(self.blocks(x))          # (B, C2, T')
        out, _ = self.gru(x.transpose(1, 2))      # (B, T', H)
        return self.head(out[:, -1])              # (B, num_classes)


@MODELS.register("rawnet2")
def rawnet2(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.0,
            sample_rate: int = 16000) -> nn.Module:
    """RawNet2 at the paper's sizes (about 25 M parameters); sinc bands span 0 to
    ``sample_rate`` / 2 (train passes the data's rate; the checkpoint records it)."""
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained("rawnet2", pretrained)
    return RawNet2(num_classes=num_classes, drop_rate=drop_rate, sample_rate=sample_rate)


@MODELS.register("rawnet2_light")
def rawnet2_light(pretrained: str = "false", num_classes: int = 2,
                  drop_rate: float = 0.0, sample_rate: int = 16000) -> nn.Module:
    """A small RawNet2 for CPUs and tests: short sinc filters, 16/32 channels, 64-unit GRU."""
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained("rawnet2_light", pretrained)
    return RawNet2(num_classes=num_classes, sinc_filters=16, sinc_kernel=129, channels=(16, 32),
                   gru=64, fc=64, drop_rate=drop_rate, sample_rate=sample_rate)
