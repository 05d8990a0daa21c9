"""PhaseStats (instantaneous-frequency deviation and magnitude statistics) and phase_stats."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dfdetect.models import build_model
from dfdetect.models.audio_features import PhaseStats

pytestmark = pytest.mark.usefixtures("one_torch_thread")
RATE, N_FFT, HOP = 16000, 512, 160


def tone(bin_pos: float, seconds: float = 1.0) -> torch.Tensor:
    t = torch.arange(int(seconds * RATE), dtype=torch.float64) / RATE
    return torch.sin(2 * math.pi * bin_pos * RATE / N_FFT * t).float()[None]


def test_a_tone_at_a_bin_centre_advances_as_expected_there():
    """A sinusoid at bin 40's centre frequency advances its phase by exactly 2 pi 40 hop / n_fft
    per frame: deviation ~0 there (the two reflect-padded edge frames aside)."""
    stats = PhaseStats()(tone(40))[0]
    assert stats.shape == (6, N_FFT // 2 + 1)
    assert stats[0, 40] < 0.05 and stats[1, 40] < 0.3


def test_a_tone_between_bins_deviates_by_the_hand_computed_amount():
    """At 40.5 bins, bin 40 sees the phase advance 2 pi 40.5 hop / n_fft per frame, i.e.
    pi hop / n_fft = 0.9817 rad more than its own centre frequency would."""
    stats = PhaseStats()(tone(40.5))[0]
    assert stats[0, 40].item() == pytest.approx(math.pi * HOP / N_FFT, abs=0.03)
    assert stats[0, 41].item() == pytest.approx(math.pi * HOP / N_FFT, abs=0.03)  # -0.98: |.|


def test_noise_has_uniform_phase_deviation():
    """White noise in frames that do not overlap (hop = window = 25 ms): deviations uniform on
    (-pi, pi], so mean |d| = pi/2 and std = pi/sqrt(3). (With the default 10 ms hop the frames
    share 15 ms and the deviation is not uniform.)"""
    x = torch.randn(1, 8 * RATE, generator=torch.Generator().manual_seed(0))
    stats = PhaseStats(hop_ms=25.0)(x)[0]
    mid = slice(20, 240)  # away from DC and Nyquist, whose phase is 0 or pi only
    assert stats[0, mid].mean().item() == pytest.approx(math.pi / 2, abs=0.05)
    assert stats[1, mid].mean().item() == pytest.approx(math.pi / math.sqrt(3), abs=0.05)


def test_statistics_ignore_gain_and_silent_frames():
    x = torch.randn(1, 2 * RATE, generator=torch.Generator().manual_seed(1)) * 0.1
    fe = PhaseStats()
    a, b = fe(x), fe(4 * x)
    torch.testing.assert_close(a[:, :2], b[:, :2], atol=1e-3, rtol=1e-3)  # phase: exact
    # magnitude: the log's 1e-7 floor moves the few bins a noise frame leaves near zero
    assert (a[:, 2:] - b[:, 2:]).abs().median() < 1e-3
    padded = torch.cat([x, torch.zeros(1, RATE) + 1e-6 * torch.randn(1, RATE)], dim=1)
    # the near-silent second appended: its frames fall 26 dB below the loudest and are dropped
    torch.testing.assert_close(fe(padded)[:, :2], fe(x)[:, :2], atol=0.05, rtol=0.05)


def test_phase_stats_models_sizes_and_phase_only_variant():
    full, phase = build_model("phase_stats"), build_model("phase_stats_if")
    count = lambda n: sum(p.numel() for p in n.parameters())  # noqa: E731
    assert count(phase) == 2 * 514 + 514 * 2 + 2  # BN (weight, bias) + linear, 257 bins x 2
    assert count(full) == 2 * 1542 + 1542 * 2 + 2
    with torch.no_grad():
        assert full.eval()(torch.randn(3, 8000)).shape == phase.eval()(torch.randn(3, 8000)).shape
    # built for the data's rate: 8 kHz keeps the FFT at 512 but halves the bin spacing in Hz
    assert build_model("phase_stats_if", sample_rate=8000).sample_rate == 8000


def test_the_phase_statistics_separate_a_tone_from_noise_where_magnitude_std_cannot():
    """A steady tone in noise vs the same noise with a tone of random phase per frame: equal
    magnitude spectra on average, different phase coherence at the tone's bin."""
    g = torch.Generator().manual_seed(2)
    noise = 0.05 * torch.randn(1, 2 * RATE, generator=g)
    steady = tone(60, 2.0) + noise
    frames = []
    for i in range(0, 2 * RATE, HOP):  # phase jumps every hop
        t = torch.arange(HOP, dtype=torch.float64) / RATE
        phi = float(torch.rand(1, generator=g)) * 2 * math.pi
        frames.append(torch.sin(2 * math.pi * 60 * RATE / N_FFT * t + phi).float())
    jumpy = torch.cat(frames)[None, :2 * RATE] + noise
    a, b = PhaseStats()(steady)[0], PhaseStats()(jumpy)[0]
    assert a[0, 60] < 0.2 < 0.8 < b[0, 60]
    assert np.isfinite(a.numpy()).all() and np.isfinite(b.numpy()).all()
