"""Waveform augmentations for anti-spoofing training, chosen by name: ``audio_augment=gain,noise``.

Why these: spoofing detectors overfit to channel and recording conditions, so the usual remedies
are level changes, additive noise, room reverberation, codec re-encoding and RawBoost-style
filtering (Tak et al., ICASSP 2022: linear / non-linear convolutive noise, impulsive and
stationary additive noise), plus time masking. Each op is a picklable object taking
``(wave (T,), rng) -> wave (T,)`` so data-loader workers can use it; each applies with its own
probability.

Example::

    chain = build_chain("gain,noise,reverb", 16000)
    y = chain(x, np.random.default_rng(0))
"""
from __future__ import annotations

import io

import numpy as np

from dfdetect.registry import Registry

AUGMENTS: Registry = Registry("audio augmentation")
DEFAULT_AUGMENT = "gain,noise,reverb,rawboost,mask"


def _peak_safe(x: np.ndarray) -> np.ndarray:
    peak = float(np.abs(x).max()) if x.size else 0.0
    return (x / peak * 0.99).astype(np.float32) if peak > 1.0 else x.astype(np.float32)


class Gain:
    """Random level change of ±``db`` decibels."""

    def __init__(self, rate: int, p: float = 0.5, db: float = 6.0) -> None:
        self.p, self.db = p, db

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _peak_safe(x * 10 ** (rng.uniform(-self.db, self.db) / 20))


class Noise:
    """White or pink-ish Gaussian noise at a random SNR between 10 and 40 dB."""

    def __init__(self, rate: int, p: float = 0.3, snr_db: tuple[float, float] = (10, 40)) -> None:
        self.p, self.snr = p, snr_db

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = rng.standard_normal(x.size).astype(np.float32)
        if rng.random() < 0.5:  # pink-ish: integrate white noise, remove drift
            noise = np.cumsum(noise)
            noise -= np.convolve(noise, np.ones(64) / 64, mode="same")
        p_sig = float(np.mean(x ** 2)) + 1e-10
        p_noise = float(np.mean(noise ** 2)) + 1e-10
        snr = rng.uniform(*self.snr)
        return _peak_safe(x + noise * np.sqrt(p_sig / (p_noise * 10 ** (snr / 10))))


def room_response(rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """A generated room impulse response: direct path + exponentially decaying noise tail."""
    n = max(2, int(rate * rt60))
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    tail[0] = 1.0 / max(1e-3, float(np.abs(tail).max()))  # direct sound dominates
    return (tail / np.sqrt(np.sum(tail ** 2))).astype(np.float32)


class Reverb:
    """Convolve with a generated room response (RT60 0.15-0.8 s), FFT convolution."""

    def __init__(self, rate: int, p: float = 0.3) -> None:
        self.p, self.rate = p, rate

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h = room_response(self.rate, float(rng.uniform(0.15, 0.8)), rng)
        n = x.size + h.size - 1
        size = 1 << (n - 1).bit_length()
        y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: x.size]
        scale = np.sqrt((np.mean(x ** 2) + 1e-10) / (np.mean(y ** 2) + 1e-10))
        return _peak_safe(y * scale)


CODECS = (("MP3", "MPEG_LAYER_III"), ("OGG", "OPUS"), ("OGG", "VORBIS"))
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def available_codecs() -> list[tuple[str, str]]:
    """(format, subtype) pairs this libsndfile can encode (MP3 needs libsndfile >= 1.1)."""
    import soundfile as sf

    formats = sf.available_formats()
    return [(f, s) for f, s in CODECS if f in formats and s in sf.available_subtypes(f)]


class Codec:
    """Encode and decode through a lossy codec in memory (MP3, Opus or Vorbis, as available)."""

    def __init__(self, rate: int, p: float = 0.3) -> None:
        self.p, self.rate = p, rate
        self.codecs: list[tuple[str, str]] | None = None

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import soundfile as sf

        if self.codecs is None:  # Opus only encodes at 8, 12, 16, 24 and 48 kHz
            self.codecs = [c for c in available_codecs() if c[1] != "OPUS" or self.rate in OPUS_RATES]
        if not self.codecs:
            return x
        fmt, sub = self.codecs[int(rng.integers(len(self.codecs)))]
        buf = io.BytesIO()
        sf.write(buf, np.clip(x, -1, 1), self.rate, format=fmt, subtype=sub)
        buf.seek(0)
        y, _ = sf.read(buf, dtype="float32")
        y = y if y.ndim == 1 else y.mean(axis=1)
        return np.pad(y, (0, max(0, x.size - y.size)))[: x.size].astype(np.float32)


def _random_fir(rng: np.random.Generator, rate: int, bands: int, taps: int = 65) -> np.ndarray:
    """Sum of random band-pass FIR filters (windowed-sinc), as RawBoost's LnL filter bank."""
    n = np.arange(taps) - (taps - 1) / 2
    h = np.zeros(taps)
    for _ in range(bands):
        lo = rng.uniform(20, rate / 2 * 0.8)
        hi = min(rate / 2 * 0.99, lo + rng.uniform(100, 1000))
        band = 2 * hi / rate * np.sinc(2 * hi / rate * n) - 2 * lo / rate * np.sinc(2 * lo / rate * n)
        h += band * rng.uniform(0.5, 1.5)
    return h * np.hamming(taps)


class RawBoost:
    """RawBoost-style channel simulation: convolutive (linear + non-linear) and additive noise.

    One of three, at random: (1) LnL: the signal through random band filters and their squared /
    cubed terms; (2) ISD: a few percent of samples get signal-dependent impulses; (3) SSI:
    stationary noise coloured by a random filter at 10-40 dB SNR.
    """

    def __init__(self, rate: int, p: float = 0.5) -> None:
        self.p, self.rate = p, rate

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        kind = int(rng.integers(3))
        if kind == 0:
            y = np.zeros_like(x, dtype=np.float64)
            for order in (1, 2, 3):
                h = _random_fir(rng, self.rate, int(rng.integers(1, 4)))
                y += np.convolve(x ** order, h, mode="same") * (0.5 ** (order - 1))
            return _peak_safe(y * np.sqrt((np.mean(x ** 2) + 1e-10) / (np.mean(y ** 2) + 1e-10)))
        if kind == 1:
            y = x.copy()
            idx = rng.choice(x.size, size=max(1, int(x.size * rng.uniform(0.005, 0.03))),
                             replace=False)
            y[idx] += x[idx] * rng.uniform(-4, 4, idx.size) * rng.choice([-1, 1], idx.size)
            return _peak_safe(y)
        noise = np.convolve(rng.standard_normal(x.size), _random_fir(rng, self.rate, 3), "same")
        snr = rng.uniform(10, 40)
        scale = np.sqrt((np.mean(x ** 2) + 1e-10) / ((np.mean(noise ** 2) + 1e-10) * 10 ** (snr / 10)))
        return _peak_safe(x + noise * scale)


class TimeMask:
    """Zero one or two random spans of up to 10% of the clip (SpecAugment on the waveform)."""

    def __init__(self, rate: int, p: float = 0.3, max_frac: float = 0.1) -> None:
        self.p, self.max_frac = p, max_frac

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        y = x.copy()
        for _ in range(int(rng.integers(1, 3))):
            width = int(rng.integers(1, max(2, int(x.size * self.max_frac))))
            start = int(rng.integers(0, max(1, x.size - width)))
            y[start: start + width] = 0.0
        return y


for _name, _cls in (("gain", Gain), ("noise", Noise), ("reverb", Reverb), ("codec", Codec),
                    ("rawboost", RawBoost), ("mask", TimeMask)):
    AUGMENTS.register(_name)(_cls)


class Chain:
    """Apply each op with its probability, in order; the length never changes."""

    def __init__(self, ops: list) -> None:
        self.ops = ops

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for op in self.ops:
            if rng.random() < op.p:
                x = op(x, rng)
        return x.astype(np.float32, copy=False)


def build_chain(names: str, rate: int) -> Chain:
    """Ops named in a comma list (``"none"`` or empty: no augmentation)."""
    wanted = [n.strip() for n in str(names).split(",") if n.strip() and n.strip() != "none"]
    return Chain([AUGMENTS.build(n, rate=rate) for n in wanted])
