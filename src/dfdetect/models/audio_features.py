"""Audio front-ends as ``nn.Module``s: log-mel, LFCC and sinc filters, all computed in torch.

Why in torch: the features then run on the model's device (a GPU does the work when there is
one) and are part of the checkpointed model, so predict cannot compute them differently. The mel
matrix comes from ``librosa.filters.mel`` (plain numpy, no numba compile); ``torch.stft`` on
top matches ``librosa.feature.melspectrogram`` to ~3e-7.

Example::

    fe = LogMel(sample_rate=16000, n_mels=64)
    feats = fe(torch.randn(2, 16000))   # (2, 1, 64, 101)
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


class _STFT(nn.Module):
    """Power spectrogram with a Hann window (centre-padded, like librosa)."""

    def __init__(self, n_fft: int, hop: int, win: int) -> None:
        super().__init__()
        self.n_fft, self.hop, self.win = n_fft, hop, win
        self.register_buffer("window", torch.hann_window(win), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, n_fft//2+1, frames)
        spec = torch.stft(wave.float(), self.n_fft, self.hop, self.win, self.window,
                          center=True, pad_mode="reflect", return_complex=True)
        return spec.abs() ** 2


def mel_matrix(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 20.0,
               fmax: float | None = None) -> torch.Tensor:
    """(n_mels, n_fft//2+1) Slaney mel filter bank from librosa (numpy only, fast)."""
    from librosa.filters import mel

    return torch.from_numpy(mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                                fmax=fmax).astype(np.float32))


def linear_matrix(sample_rate: int, n_fft: int, n_filters: int) -> torch.Tensor:
    """(n_filters, n_fft//2+1) triangular filters spaced linearly in Hz (for LFCC)."""
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    edges = np.linspace(0, sample_rate / 2, n_filters + 2)
    bank = np.zeros((n_filters, freqs.size), dtype=np.float32)
    for i in range(n_filters):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        bank[i] = np.maximum(0, np.minimum(up, down))
    return torch.from_numpy(bank)


def dct_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) orthonormal DCT-II, as scipy.fft.dct(norm='ortho')."""
    k = torch.arange(n_out, dtype=torch.float64)[:, None]
    n = torch.arange(n_in, dtype=torch.float64)[None]
    m = torch.cos(math.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    m[0] /= math.sqrt(2.0)
    return m.float()


def deltas(x: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Regression deltas along the last (time) axis: (..., F, T) -> (..., F, T)."""
    pad = torch.nn.functional.pad(x, (width, width), mode="replicate")
    num = sum(k * (pad[..., width + k: pad.shape[-1] - width + k]
                   - pad[..., width - k: pad.shape[-1] - width - k]) for k in range(1, width + 1))
    return num / (2 * sum(k * k for k in range(1, width + 1)))


class LogMel(nn.Module):
    """Waveform (B, T) -> log-mel (B, 1, n_mels, frames), per-clip normalised."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, hop: int = 160,
                 win: int = 400, n_mels: int = 64) -> None:
        super().__init__()
        self.stft = _STFT(n_fft, hop, win)
        self.register_buffer("mel", mel_matrix(sample_rate, n_fft, n_mels), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        power = self.stft(wave)                                   # (B, F, frames)
        feats = torch.log(self.mel @ power + 1e-6)                # (B, n_mels, frames)
        mu = feats.mean(dim=(1, 2), keepdim=True)
        sd = feats.std(dim=(1, 2), keepdim=True) + 1e-5
        return ((feats - mu) / sd).unsqueeze(1)                   # (B, 1, n_mels, frames)


class LFCC(nn.Module):
    """Waveform (B, T) -> LFCC with deltas (B, 1, 3*n_coef, frames), as the ASVspoof baseline.

    Linear filters (not mel) keep the high band, where vocoder artefacts live.
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, hop: int = 160,
                 win: int = 320, n_filters: int = 20, n_coef: int = 20) -> None:
        super().__init__()
        self.stft = _STFT(n_fft, hop, win)
        self.register_buffer("bank", linear_matrix(sample_rate, n_fft, n_filters), persistent=False)
        self.register_buffer("dct", dct_matrix(n_filters, n_coef), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        power = self.stft(wave)                                    # (B, F, frames)
        cep = self.dct @ torch.log(self.bank @ power + 1e-6)       # (B, n_coef, frames)
        d1 = deltas(cep)
        feats = torch.cat([cep, d1, deltas(d1)], dim=1)            # (B, 3*n_coef, frames)
        return feats.unsqueeze(1)                                  # (B, 1, 3*n_coef, frames)


class SincConv(nn.Module):
    """Band-pass sinc filters on the raw waveform (SincNet, Ravanelli & Bengio 2018).

    Bands are initialised on the mel scale; the filters here are fixed (as in RawNet2 and
    AASIST, which found learning them brings nothing), so they live in a buffer.
    (B, T) -> (B, out_channels, T - kernel + 1)
    """

    def __init__(self, out_channels: int = 70, kernel_size: int = 129,
                 sample_rate: int = 16000, min_hz: float = 0.0) -> None:
        super().__init__()
        kernel_size += 1 - kernel_size % 2  # odd, symmetric around the centre tap
        mel = np.linspace(2595 * np.log10(1 + min_hz / 700),
                          2595 * np.log10(1 + sample_rate / 2 / 700), out_channels + 1)
        hz = 700 * (10 ** (mel / 2595) - 1)
        n = torch.arange(kernel_size, dtype=torch.float32) - (kernel_size - 1) / 2
        window = torch.hamming_window(kernel_size, periodic=False)
        filters = []
        for lo, hi in zip(hz[:-1], hz[1:]):
            lo_n, hi_n = lo / sample_rate, hi / sample_rate
            band = 2 * hi_n * torch.special.sinc(2 * hi_n * n) - 2 * lo_n * torch.special.sinc(2 * lo_n * n)
            filters.append(band * window)
        self.register_buffer("filters", torch.stack(filters).unsqueeze(1), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return nn.functional.conv1d(wave.float().unsqueeze(1), self.filters)  # (B, C, T')
