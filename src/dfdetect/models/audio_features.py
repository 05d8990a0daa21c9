"""Audio front-ends as ``nn.Module``s: log-mel, LFCC and sinc filters, all computed in torch.

Every front-end takes the ``sample_rate`` it is built for: filter frequencies and frame lengths
(milliseconds) are converted to samples at that rate, and the models keep it as an attribute
that ``load_checkpoint`` checks against the checkpoint's preprocessing.

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
    """Power spectrogram of centre-padded frames: Hann window and reflect padding (librosa's
    defaults, for log-mel) or, for the ASVspoof LFCC, ``window="hamming"``, ``pad="constant"``.

    Under ``torch.onnx.export`` the same transform is written as a strided convolution with
    windowed cosine / sine kernels (a DFT by matmul): the TorchScript exporter cannot lower the
    complex ``torch.stft``. The export's parity check compares both paths.
    """

    def __init__(self, n_fft: int, hop: int, win: int, window: str = "hann",
                 pad: str = "reflect") -> None:
        super().__init__()
        if window not in ("hann", "hamming") or pad not in ("reflect", "constant"):
            raise ValueError(f"window must be hann or hamming, pad reflect or constant "
                             f"(got {window!r}, {pad!r})")
        self.n_fft, self.hop, self.win, self.pad = n_fft, hop, win, pad
        fn = torch.hann_window if window == "hann" else torch.hamming_window
        self.register_buffer("window", fn(win), persistent=False)  # periodic, as torch's

    def forward(self, wave: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, n_fft//2+1, frames)
        if torch.onnx.is_in_onnx_export():
            return self._dft_power(wave.float())
        spec = torch.stft(wave.float(), self.n_fft, self.hop, self.win, self.window,
                          center=True, pad_mode=self.pad, return_complex=True)
        return spec.abs() ** 2

    def parts(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Real and imaginary parts of the STFT, each (B, n_fft//2+1, frames)."""
        if torch.onnx.is_in_onnx_export():
            spec = self._dft(wave.float())
            n = self.n_fft // 2 + 1
            return spec[:, :n], spec[:, n:]
        spec = torch.stft(wave.float(), self.n_fft, self.hop, self.win, self.window,
                          center=True, pad_mode=self.pad, return_complex=True)
        return spec.real, spec.imag

    def _dft_power(self, wave: torch.Tensor) -> torch.Tensor:
        """|DFT|^2 of centre-padded windowed frames as one conv1d (exportable, real-valued)."""
        spec = self._dft(wave)
        n_freq = self.n_fft // 2 + 1
        return spec[:, :n_freq] ** 2 + spec[:, n_freq:] ** 2

    def _dft(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, 2F, frames): real parts then imaginary parts, by a strided conv1d."""
        n_freq, left = self.n_fft // 2 + 1, (self.n_fft - self.win) // 2
        window = torch.zeros(self.n_fft, dtype=torch.float64)
        window[left: left + self.win] = self.window.double().cpu()  # as torch.stft pads it
        k = torch.arange(n_freq, dtype=torch.float64)[:, None]
        angle = 2 * math.pi * k * torch.arange(self.n_fft, dtype=torch.float64)[None] / self.n_fft
        kernels = torch.cat([torch.cos(angle), -torch.sin(angle)]) * window  # (2F, n_fft)
        pad = nn.functional.pad(wave.unsqueeze(1), (self.n_fft // 2, self.n_fft // 2),
                                mode=self.pad)                               # (B, 1, T + n_fft)
        return nn.functional.conv1d(pad, kernels.float().unsqueeze(1).to(wave.device),
                                    stride=self.hop)                        # (B, 2F, frames)


def frame_sizes(sample_rate: int, win_ms: float, hop_ms: float) -> tuple[int, int, int]:
    """(n_fft, hop, win) in samples for a window and hop given in milliseconds at ``sample_rate``.

    The frames last as long at every rate (25 ms / 10 ms at 16 kHz: 400 / 160 samples, FFT 512);
    the FFT is the next power of two of the window, at least 512.
    """
    win = max(16, round(sample_rate * win_ms / 1000))
    hop = max(1, round(sample_rate * hop_ms / 1000))
    return max(512, 1 << (win - 1).bit_length()), hop, win


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
    """Regression deltas along the last (time) axis: (..., F, T) -> (..., F, T).

    ``sum_k k (x[t+k] - x[t-k]) / (2 sum_k k^2)`` with edge frames repeated (HTK / librosa's
    convention, up to librosa's edge handling).
    """
    pad = torch.nn.functional.pad(x, (width, width), mode="replicate")
    num = sum(k * (pad[..., width + k: pad.shape[-1] - width + k]
                   - pad[..., width - k: pad.shape[-1] - width - k]) for k in range(1, width + 1))
    return num / (2 * sum(k * k for k in range(1, width + 1)))


def asvspoof_deltas(x: torch.Tensor) -> torch.Tensor:
    """The ASVspoof baselines' deltas: ``x[t+1] - x[t-1]``, edge frames repeated, not divided
    by 2 (``deltas(x, 3)`` of the MATLAB baseline and ``delta`` of the 2021 PyTorch one)."""
    pad = torch.nn.functional.pad(x, (1, 1), mode="replicate")
    return pad[..., 2:] - pad[..., :-2]


def pre_emphasis(wave: torch.Tensor, coef: float) -> torch.Tensor:
    """y[0] = x[0], y[t] = x[t] - coef x[t-1] (a new tensor; the input is left alone)."""
    return torch.cat([wave[..., :1], wave[..., 1:] - coef * wave[..., :-1]], dim=-1)


class LogMel(nn.Module):
    """Waveform (B, T) -> log-mel (B, 1, n_mels, frames), per-clip normalised."""

    def __init__(self, sample_rate: int = 16000, n_mels: int = 64, win_ms: float = 25.0,
                 hop_ms: float = 10.0) -> None:
        super().__init__()
        n_fft, hop, win = frame_sizes(sample_rate, win_ms, hop_ms)
        self.stft = _STFT(n_fft, hop, win)
        self.register_buffer("mel", mel_matrix(sample_rate, n_fft, n_mels), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        power = self.stft(wave)                                   # (B, F, frames)
        feats = torch.log(self.mel @ power + 1e-6)                # (B, n_mels, frames)
        mu = feats.mean(dim=(1, 2), keepdim=True)
        sd = feats.std(dim=(1, 2), keepdim=True) + 1e-5
        return ((feats - mu) / sd).unsqueeze(1)                   # (B, 1, n_mels, frames)


class PhaseStats(nn.Module):
    """Waveform (B, T) -> per-frequency statistics of the STFT phase and magnitude over the
    clip's voiced frames: (B, 6, n_fft//2+1).

    Channels, per FFT bin (25 ms Hann frames every 10 ms, FFT 512 at 16 kHz):

    0. mean |d| and 1. std d, where d is the **instantaneous-frequency deviation**: the phase
       advance of the bin from one frame to the next minus the advance a stationary sinusoid
       at the bin's centre frequency would have (2 pi k hop / n_fft), wrapped to (-pi, pi].
       Neural vocoders regenerate phase from a magnitude-only mel input; how coherently the
       phase advances across frames is what they get wrong, and what magnitude front-ends
       (log-mel, LFCC) cannot see;
    2. mean and 3. std of the log power (the clip's mean log power subtracted: gain-free);
    4. mean |log power[t+1] - log power[t]| (temporal roughness) and 5. mean |log power[f+1] -
       log power[f]| (spectral fine structure; the last bin repeats its neighbour).

    Frames more than 6 nats (26 dB) below the clip's loudest frame are left out (silence has
    random phase). Measured on speech_vocoded (docs/audio.md): a linear model on channels 0-1
    alone separates the vocoders far better than on the magnitude channels.
    """

    def __init__(self, sample_rate: int = 16000, win_ms: float = 25.0, hop_ms: float = 10.0,
                 floor: float = 6.0) -> None:
        super().__init__()
        n_fft, hop, win = frame_sizes(sample_rate, win_ms, hop_ms)
        self.stft = _STFT(n_fft, hop, win)
        self.floor = float(floor)
        advance = 2 * math.pi * torch.arange(n_fft // 2 + 1) * hop / n_fft
        self.register_buffer("cos_adv", torch.cos(advance)[:, None], persistent=False)
        self.register_buffer("sin_adv", torch.sin(advance)[:, None], persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        re, im = self.stft.parts(wave)                              # (B, F, frames)
        logp = torch.log(re ** 2 + im ** 2 + 1e-7)
        # X_t conj(X_{t-1}) rotated back by the expected advance: its angle is the deviation
        pr = re[..., 1:] * re[..., :-1] + im[..., 1:] * im[..., :-1]
        pi_ = im[..., 1:] * re[..., :-1] - re[..., 1:] * im[..., :-1]
        dev = torch.atan2(pi_ * self.cos_adv - pr * self.sin_adv,
                          pr * self.cos_adv + pi_ * self.sin_adv)    # (B, F, frames-1)
        energy = torch.log((re ** 2 + im ** 2).sum(dim=1) + 1e-7)     # (B, frames)
        keep = (energy >= energy.amax(dim=1, keepdim=True) - self.floor).float()
        k2 = keep[:, 1:] * keep[:, :-1]                              # both frames voiced
        m = keep.unsqueeze(1)
        n, n2 = m.sum(-1).clamp_min(1), k2.sum(-1, keepdim=True).clamp_min(1)

        def mean_std(x, w, cnt):
            mu = (x * w).sum(-1) / cnt
            var = ((x - mu.unsqueeze(-1)) ** 2 * w).sum(-1) / cnt
            return mu, (var + 1e-6).sqrt()

        w2 = k2.unsqueeze(1)
        dev_abs = (dev.abs() * w2).sum(-1) / n2
        _, dev_std = mean_std(dev, w2, n2)
        logp = logp - (logp * m).sum(dim=(1, 2), keepdim=True) / (n.unsqueeze(1) * logp.shape[1])
        p_mean, p_std = mean_std(logp, m, n)
        rough_t = ((logp[..., 1:] - logp[..., :-1]).abs() * w2).sum(-1) / n2
        df = (logp[:, 1:] - logp[:, :-1]).abs()
        rough_f = (torch.cat([df, df[:, -1:]], dim=1) * m).sum(-1) / n
        return torch.stack([dev_abs, dev_std, p_mean, p_std, rough_t, rough_f], dim=1)


class LFCC(nn.Module):
    """Waveform (B, T) -> LFCC with deltas (B, 1, 3*n_coef, frames), with the ASVspoof 2021
    LFCC-LCNN baseline's options by default.

    Linear filters (not mel) keep the high band, where vocoder artefacts live. The baseline's
    choices, each a switch here (``tests/models/test_lfcc.py`` recomputes every one by hand):

    - ``pre_emphasis=0.97``: y[t] = x[t] - 0.97 x[t-1] before framing (0 turns it off);
    - ``window="hamming"``: 20 ms Hamming frames every 10 ms, FFT 512 at 16 kHz, centred with
      zero padding (``pad="constant"``), as its ``torch.stft`` call;
    - 20 triangular filters spaced linearly from 0 to ``sample_rate``/2, ``log10(bank @ power +
      eps)``, orthonormal DCT-II;
    - ``energy_c0=True``: c0 replaced by the frame's log energy, ``log10(sum(power) / n_fft)``;
    - ``delta="asvspoof"``: Δ = c[t+1] - c[t-1] (edges repeated), ΔΔ the same on Δ;
      ``delta="regression"`` uses the HTK regression over ±2 frames instead.
    """

    def __init__(self, sample_rate: int = 16000, n_filters: int = 20, n_coef: int = 20,
                 win_ms: float = 20.0, hop_ms: float = 10.0, pre_emphasis: float = 0.97,
                 window: str = "hamming", energy_c0: bool = True,
                 delta: str = "asvspoof") -> None:
        super().__init__()
        if delta not in ("asvspoof", "regression"):
            raise ValueError(f"delta must be asvspoof or regression, got {delta!r}")
        n_fft, hop, win = frame_sizes(sample_rate, win_ms, hop_ms)
        self.n_fft, self.pre_emphasis, self.energy_c0 = n_fft, float(pre_emphasis), energy_c0
        self.delta = asvspoof_deltas if delta == "asvspoof" else deltas
        self.stft = _STFT(n_fft, hop, win, window=window,
                          pad="constant" if window == "hamming" else "reflect")
        self.register_buffer("bank", linear_matrix(sample_rate, n_fft, n_filters), persistent=False)
        self.register_buffer("dct", dct_matrix(n_filters, n_coef), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        wave = wave.float()
        if self.pre_emphasis:
            wave = pre_emphasis(wave, self.pre_emphasis)
        power = self.stft(wave)                                    # (B, F, frames)
        eps = torch.finfo(torch.float32).eps
        cep = self.dct @ torch.log10(self.bank @ power + eps)      # (B, n_coef, frames)
        if self.energy_c0:
            energy = torch.log10(power.sum(dim=1, keepdim=True) / self.n_fft + eps)
            cep = torch.cat([energy, cep[:, 1:]], dim=1)
        d1 = self.delta(cep)
        feats = torch.cat([cep, d1, self.delta(d1)], dim=1)        # (B, 3*n_coef, frames)
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
