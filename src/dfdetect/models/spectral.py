"""A small CNN on the linear-frequency log spectrogram: the CPU recipe for vocoded speech.

Waveform -> log power spectrogram, every FFT bin kept (``LogSpec``: 257 bins at 16 kHz, 25 ms
frames every 10 ms, per-clip normalised) -> five 3x3 conv blocks (BN, ReLU; the first strided
2x2, three followed by 2x2 max-pooling) -> per (channel, frequency band) mean and max over time
-> dropout -> linear -> 2 logits.

Why this shape: a neural vocoder is trained to reproduce the mel spectrogram it is given, so its
errors sit in the fine structure inside wide high-frequency mel bands; the linear axis keeps it,
and the readout keeps *where* in frequency a pattern occurs (pooling only over time), since
vocoder artefacts live in particular bands. Pretrained-free, 0.1 M parameters at ``width=8``,
about 50 M multiply-adds per 2 s crop: it trains in minutes on a CPU.

Example::

    net = build_model("spec_cnn")
    logits = net(torch.randn(2, 32000))   # (2, 2)
"""
from __future__ import annotations

import torch
from torch import nn

from dfdetect.models import MODELS
from dfdetect.models.audio_features import LogSpec, PhaseStats, frame_sizes


def _block(c_in: int, c_out: int, stride: int = 1, pool: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1),
                               nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    return layers + [nn.MaxPool2d(2)] if pool else layers


class SpecCNN(nn.Module):
    """LogSpec -> 5 conv blocks -> mean/max over time per band -> (B, num_classes)."""

    modality = "audio"

    def __init__(self, num_classes: int = 2, width: int = 8, drop_rate: float = 0.5,
                 sample_rate: int = 16000) -> None:
        super().__init__()
        self.sample_rate = int(sample_rate)  # checked against the checkpoint's preprocessing
        self.features = LogSpec(sample_rate=sample_rate)
        w = int(width)
        self.body = nn.Sequential(*_block(1, w, stride=2, pool=False), *_block(w, 2 * w),
                                  *_block(2 * w, 4 * w), *_block(4 * w, 8 * w),
                                  *_block(8 * w, 8 * w, pool=False))
        bands = frame_sizes(sample_rate, 25.0, 10.0)[0] // 2 + 1     # FFT bins
        bands = (bands - 1) // 2 + 1                                   # strided first conv
        for _ in range(3):
            bands //= 2                                                # three max-pools
        self.drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(2 * 8 * w * bands, num_classes)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        e = self.body(self.features(wave))                             # (B, C, bands, T')
        z = torch.cat([e.mean(-1).flatten(1), e.amax(-1).flatten(1)], dim=1)
        return self.head(self.drop(z))


@MODELS.register("spec_cnn")
def spec_cnn(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.5,
             sample_rate: int = 16000) -> nn.Module:
    """Small CNN on the linear log spectrogram (configs/audio/speech_cpu.yaml)."""
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained("spec_cnn", pretrained)
    return SpecCNN(num_classes=num_classes, drop_rate=drop_rate or 0.5, sample_rate=sample_rate)


class PhaseStatsNet(nn.Module):
    """PhaseStats (B, 6, F) -> BatchNorm (a learned standardisation of each statistic) ->
    dropout -> linear -> (B, num_classes): a logistic regression on per-frequency phase and
    magnitude statistics of the clip, trained end to end by the usual loop."""

    modality = "audio"

    def __init__(self, num_classes: int = 2, drop_rate: float = 0.2,
                 sample_rate: int = 16000, channels: tuple[int, ...] = (0, 1, 2, 3, 4, 5)) -> None:
        super().__init__()
        self.sample_rate = int(sample_rate)  # checked against the checkpoint's preprocessing
        self.features = PhaseStats(sample_rate=sample_rate)
        self.channels = tuple(int(c) for c in channels)
        bins = frame_sizes(sample_rate, 25.0, 10.0)[0] // 2 + 1
        dim = len(self.channels) * bins
        self.norm = nn.BatchNorm1d(dim)
        self.drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        stats = self.features(wave)[:, list(self.channels)]           # (B, C, F)
        return self.head(self.drop(self.norm(stats.flatten(1))))


@MODELS.register("phase_stats")
def phase_stats(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.2,
                sample_rate: int = 16000) -> nn.Module:
    """Linear model on STFT phase (instantaneous-frequency deviation) and magnitude statistics
    per frequency bin (configs/audio/speech_cpu.yaml)."""
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained("phase_stats", pretrained)
    return PhaseStatsNet(num_classes=num_classes, drop_rate=drop_rate or 0.2,
                         sample_rate=sample_rate)


@MODELS.register("phase_stats_if")
def phase_stats_if(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.2,
                   sample_rate: int = 16000) -> nn.Module:
    """``phase_stats`` on the two phase channels only (mean |IF deviation|, its std)."""
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained("phase_stats_if", pretrained)
    return PhaseStatsNet(num_classes=num_classes, drop_rate=drop_rate or 0.2,
                         sample_rate=sample_rate, channels=(0, 1))
