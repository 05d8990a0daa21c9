"""Audio: decoding, resampling, fixed-length crops and windows (the ``audio`` modality's parts).

Why one module: training, evaluate and predict must turn a file into samples in exactly the same
way (mono, the checkpoint's rate, the same trimming), so the decode path lives in one place and
the checkpoint's ``preprocessing`` dict carries every setting it needs.

Batch contract for audio: ``{"input": (B, T) float32 waveform at preprocessing["sample_rate"],
"target": (B,), "index": (B,)}``; audio models compute their features (log-mel, LFCC, sinc
filters) inside ``forward`` so they run on the model's device.

Example::

    prep = {"modality": "audio", "sample_rate": 16000, "seconds": 4.0}
    x = EvalClip(prep)(load_audio("clip.flac", prep["sample_rate"]))   # (64000,)

The ``audio`` modality object (:mod:`dfdetect.modalities.audio`) composes these.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from dfdetect.data.media import DecodeError

DEFAULT_RATE = 16000


def check_header(path, sample_rate: int = DEFAULT_RATE) -> None:
    """Refuse, before decoding, what the header says would hang or flood memory: not a regular
    file, a rate of 0, more than ``max_audio_seconds`` of audio or an up-sampling ratio above
    ``max_upsample`` (:func:`dfdetect.io.limit`). Formats libsndfile cannot read are checked
    after decoding (:func:`_check_decoded`)."""
    import soundfile as sf

    from dfdetect.io import not_regular

    why = not_regular(path)
    if why:
        raise DecodeError(f"{path}: {why}")
    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - not a libsndfile format (mp3/m4a) or unreadable
        return
    _check_rate_and_length(path, int(info.samplerate), int(info.frames), sample_rate)


def _check_rate_and_length(path, rate: int, frames: int, target: int) -> None:
    from dfdetect.io import limit

    if rate <= 0 or rate > limit("max_sample_rate"):
        raise DecodeError(f"{path}: the file declares a sample rate of {rate} Hz (expected "
                          f"1..{int(limit('max_sample_rate'))})")
    seconds = frames / rate
    if seconds > limit("max_audio_seconds"):
        raise DecodeError(f"{path}: {seconds:.0f} s of audio is above max_audio_seconds "
                          f"({limit('max_audio_seconds'):.0f}; raise it with "
                          "DFDETECT_MAX_AUDIO_SECONDS)")
    if target / rate > limit("max_upsample"):
        raise DecodeError(f"{path}: {rate} Hz would be up-sampled {target / rate:.0f}x to "
                          f"{target} Hz, above max_upsample ({limit('max_upsample'):.0f}; "
                          "raise it with DFDETECT_MAX_UPSAMPLE)")


def _decode(path) -> tuple[np.ndarray, int]:
    """(frames, channels) float32 and the file's rate; soundfile first, audioread (librosa) next."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        return data, int(rate)
    except FileNotFoundError:
        raise DecodeError(f"{path}: file not found") from None
    except (sf.LibsndfileError, RuntimeError, ValueError) as first:
        reason = str(first)
    try:  # formats libsndfile lacks (m4a/aac) through librosa's audioread fallback
        import warnings

        import librosa

        with warnings.catch_warnings():  # its "PySoundFile failed" notice repeats our reason
            warnings.simplefilter("ignore")
            data, rate = librosa.load(str(path), sr=None, mono=False, dtype=np.float32)
        return np.atleast_2d(data).T, int(rate)
    except FileNotFoundError:
        raise DecodeError(f"{path}: file not found") from None
    except Exception as e:  # audioread raises many types; the person needs the reason only
        raise DecodeError(f"{path}: cannot decode audio ({reason}; {type(e).__name__})") from None


def resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling with soxr (what librosa uses by default, without numba)."""
    if rate == target:
        return wave
    if rate <= 0 or target <= 0:
        raise DecodeError(f"cannot resample from {rate} Hz to {target} Hz")
    import soxr

    return soxr.resample(wave, rate, target).astype(np.float32, copy=False)


def trim_silence(wave: np.ndarray, rate: int, top_db: float = 40.0,
                 frame_ms: float = 25.0) -> np.ndarray:
    """Drop leading and trailing frames more than ``top_db`` below the loudest frame.

    Why not ``librosa.effects.trim``: it compiles with numba on first use (~30 s); this is the
    same RMS rule in plain numpy. Leading/trailing silence is a known label shortcut in
    ASVspoof 2019 LA, so trimming is offered at preparation and in the checkpoint settings.
    """
    frame = max(1, int(rate * frame_ms / 1000))
    n = len(wave) // frame
    if n < 2:
        return wave
    rms = np.sqrt(np.mean(wave[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms / rms.max())
    loud = np.nonzero(db > -top_db)[0]
    if loud.size == 0:
        return wave
    return wave[loud[0] * frame: (loud[-1] + 1) * frame]


def load_audio(path, sample_rate: int = DEFAULT_RATE, trim: bool = False) -> np.ndarray:
    """Decode any common format to a mono float32 (T,) waveform at ``sample_rate``."""
    check_header(path, int(sample_rate))
    data, rate = _decode(path)
    if data.size == 0 or data.shape[0] == 0:
        raise DecodeError(f"{path}: empty audio (no samples)")
    _check_rate_and_length(path, rate, data.shape[0], int(sample_rate))
    wave = data.mean(axis=1).astype(np.float32)  # (T,) mono mix
    if not np.isfinite(wave).all():
        raise DecodeError(f"{path}: audio contains NaN or infinite samples")
    wave = resample(wave, rate, int(sample_rate))
    if trim:
        wave = trim_silence(wave, int(sample_rate))
    if wave.size < 16:
        raise DecodeError(f"{path}: audio too short ({wave.size} samples after decoding)")
    return wave


def repeat_pad(wave: np.ndarray, length: int) -> np.ndarray:
    """Tile a short clip until it is ``length`` long (the ASVspoof convention, not zeros)."""
    if wave.size >= length:
        return wave[:length]
    reps = math.ceil(length / max(1, wave.size))
    return np.tile(wave, reps)[:length]


def fixed_length(wave: np.ndarray, length: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """A random (``rng`` given) or leading crop of ``length`` samples, repeat-padded if short."""
    if wave.size <= length:
        return repeat_pad(wave, length)
    start = int(rng.integers(0, wave.size - length + 1)) if rng is not None else 0
    return wave[start: start + length]


def window_starts(n: int, length: int, hop: int) -> list[int]:
    """Start samples of windows covering ``n`` samples; the last window ends at the file's end."""
    if n <= length:
        return [0]
    starts = list(range(0, n - length + 1, max(1, hop)))
    if starts[-1] + length < n:
        starts.append(n - length)
    return starts


def windows(wave: np.ndarray, length: int, hop: int) -> np.ndarray:
    """(W, length) windows of a long file (one repeat-padded window for a short one)."""
    if wave.size <= length:
        return repeat_pad(wave, length)[None]
    return np.stack([wave[s: s + length] for s in window_starts(wave.size, length, hop)])


def clip_samples(prep: dict) -> int:
    """Samples per training crop / scoring window for a preprocessing dict."""
    return int(round(float(prep.get("seconds", 4.0)) * int(prep.get("sample_rate", DEFAULT_RATE))))


def hop_samples(prep: dict) -> int:
    """Hop between scoring windows (default half a window)."""
    hop = float(prep.get("window_hop", 0.0)) or float(prep.get("seconds", 4.0)) / 2
    return max(1, int(round(hop * int(prep.get("sample_rate", DEFAULT_RATE)))))


class TrainClip:
    """Random fixed-length crop, then the augmentation chain; returns a (T,) float tensor.

    ``clip(wave, seed=s)`` draws the crop and the augmentation from the training draw's seed
    (:class:`dfdetect.data.sampling.EpochSampler`), so a resumed run crops and augments exactly
    as an uninterrupted one; without a seed it falls back to a per-worker generator.
    """

    seeded = True  # DrawDataset passes the draw's seed

    def __init__(self, prep: dict, augment: bool) -> None:
        from dfdetect.data.audio_augment import build_chain

        self.length = clip_samples(prep)
        self.chain = build_chain(prep.get("augment", ""), int(prep["sample_rate"])) if augment \
            else None
        self.rng: np.random.Generator | None = None

    def __call__(self, wave: np.ndarray, seed: int | None = None):
        import torch

        if seed is not None:
            rng = np.random.default_rng(int(seed))
        else:
            if self.rng is None:  # per worker process, seeded from torch's worker seed
                self.rng = np.random.default_rng(torch.initial_seed() % 2**32)
            rng = self.rng
        x = fixed_length(wave, self.length, rng)
        if self.chain is not None:
            x = self.chain(x, rng)
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))  # (T,)


class EvalClip:
    """The leading fixed-length crop (repeat-padded): validation batches need one shape."""

    def __init__(self, prep: dict) -> None:
        self.length = clip_samples(prep)

    def __call__(self, wave: np.ndarray):
        import torch

        return torch.from_numpy(np.ascontiguousarray(fixed_length(wave, self.length)))  # (T,)


class ScoreWindows:
    """Every window of a file, for scoring long files: returns (W, T)."""

    def __init__(self, prep: dict) -> None:
        self.length, self.hop = clip_samples(prep), hop_samples(prep)

    def __call__(self, wave: np.ndarray):
        import torch

        return torch.from_numpy(np.ascontiguousarray(windows(wave, self.length, self.hop)))
