"""LCNN on LFCC (Lavrentyeva et al., Interspeech 2017; the ASVspoof 2021 LFCC-LCNN baseline).

Light CNN: every convolution outputs twice the channels it keeps and a Max-Feature-Map (MFM)
takes the element-wise max of the two halves, a learned competitive selection that suits
artefact detection. After the conv stack, frequency is averaged, a bidirectional LSTM reads
time (as in the 2021 baseline), and the time-average goes to the classifier.

Example::

    net = build_model("lcnn")
    logits = net(torch.randn(2, 16000))   # (2, 2)
"""
from __future__ import annotations

import torch
from torch import nn

from dfdetect.models import MODELS
from dfdetect.models.audio_features import LFCC


class MFM(nn.Module):
    """Max-Feature-Map over the channel axis: (B, 2C, ...) -> (B, C, ...)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return torch.maximum(a, b)


def _conv(c_in: int, c_out: int, k: int) -> nn.Sequential:
    """conv producing 2*c_out channels, then MFM down to c_out."""
    return nn.Sequential(nn.Conv2d(c_in, 2 * c_out, k, padding=k // 2), MFM())


class LCNN(nn.Module):
    """LFCC -> LCNN -> BiLSTM -> (B, num_classes); ``width`` scales every channel count."""

    modality = "audio"

    def __init__(self, num_classes: int = 2, width: float = 1.0, drop_rate: float = 0.0,
                 sample_rate: int = 16000) -> None:
        super().__init__()
        c = [max(4, int(v * width)) for v in (32, 48, 64, 32)]
        self.sample_rate = int(sample_rate)  # checked against the checkpoint's preprocessing
        self.features = LFCC(sample_rate=sample_rate)
        self.convs = nn.Sequential(
            _conv(1, c[0], 5), nn.MaxPool2d(2),
            _conv(c[0], c[0], 1), nn.BatchNorm2d(c[0]), _conv(c[0], c[1], 3), nn.MaxPool2d(2),
            nn.BatchNorm2d(c[1]), _conv(c[1], c[1], 1), nn.BatchNorm2d(c[1]),
            _conv(c[1], c[2], 3), nn.MaxPool2d(2),
            _conv(c[2], c[2], 1), nn.BatchNorm2d(c[2]), _conv(c[2], c[3], 3), nn.BatchNorm2d(c[3]),
            _conv(c[3], c[3], 1), nn.BatchNorm2d(c[3]), _conv(c[3], c[3], 3), nn.MaxPool2d(2),
            nn.Dropout(0.7 * drop_rate))
        self.lstm = nn.LSTM(c[3], c[3] // 2, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(nn.Dropout(drop_rate), nn.Linear(c[3], num_classes))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = self.convs(self.features(wave))      # (B, C, F', T')
        x = x.mean(dim=2).transpose(1, 2)         # (B, T', C)
        y, _ = self.lstm(x)                       # (B, T', C)
        return self.head((x + y).mean(dim=1))     # (B, num_classes)


@MODELS.register("lcnn")
def lcnn(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.0,
         sample_rate: int = 16000) -> nn.Module:
    """LFCC-LCNN at the baseline's widths; LFCC filters span 0 to ``sample_rate`` / 2."""
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained("lcnn", pretrained)
    return LCNN(num_classes=num_classes, drop_rate=drop_rate, sample_rate=sample_rate)
