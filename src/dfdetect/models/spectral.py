"""Phase-aware speech deepfake detection that trains in minutes on a CPU.

``phase_stats``: waveform -> :class:`~dfdetect.models.audio_features.PhaseStats` (per FFT bin:
mean |instantaneous-frequency deviation|, its std, and four magnitude statistics, over the
clip's voiced frames) -> BatchNorm -> dropout -> linear -> 2 logits. ``phase_stats_if`` keeps
the two phase statistics only (514 inputs at 16 kHz, 2,058 parameters).

Why: a neural vocoder is trained to reproduce the magnitude (mel) spectrogram it is given and has
to invent the phase; how coherently each frequency's phase advances from frame to frame is where
it differs from a recording, and magnitude front-ends (log-mel, LFCC) throw the phase away. On
``speech_vocoded`` a linear model on these statistics separates the five vocoders where CNNs on
magnitude spectrograms, an LFCC GMM and LFCC-LCNN did not (docs/audio.md, "speech_vocoded").

Example::

    net = build_model("phase_stats_if")
    logits = net(torch.randn(2, 64000))   # (2, 2)
"""
from __future__ import annotations

import torch
from torch import nn

from dfdetect.models import MODELS
from dfdetect.models.audio_features import PhaseStats, frame_sizes


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
