"""Robustness sweep: re-score a split under the degradations each modality meets in the wild.

Why: detectors that key on high-frequency artefacts collapse after the re-encoding that every
upload pipeline applies; the sweep shows how far. A perturbation is applied to the decoded array
before the checkpoint's own transform (so it hits every model of an ensemble alike): an (H, W, 3)
uint8 RGB image or face crop, or a (T,) float32 mono waveform at the checkpoint's sample rate.

Each perturbation registers by name with its default levels and the modalities it applies to
(``modalities``, an attribute: the sweep never branches on names); asking for one that does not fit
the checkpoint is a ConfigError naming the ones that do. ``robustness=mp3:64/16,noise`` picks
levels explicitly. Codecs (PyAV / FFmpeg) are checked when the sweep is parsed, before scoring.

| modality | name | level | what it does |
|---|---|---|---|
| image | ``jpeg`` | quality 1-100 | JPEG re-compression |
| image | ``blur`` | sigma (px) | Gaussian blur |
| image | ``resize`` | factor (0-1) | downscale (the model's resize upsamples it again) |
| image | ``h264`` | CRF 0-51 | H.264 (libx264, yuv420p) intra coding of the one frame |
| audio | ``mp3`` | kbit/s | MP3 (LAME) round trip |
| audio | ``opus`` | kbit/s | Opus round trip (through 48 kHz, Opus's own rate) |
| audio | ``noise`` | SNR dB | white noise, seeded by the clip's content (repeatable) |
| audio | ``resample8k`` | Hz | down to 8 kHz (telephone band) and back |

The functions are module-level partials so data-loader workers can pickle them.

Example::

    for name, level, fn in parse_sweep("mp3,noise:20", {"modality": "audio", "sample_rate": 16000}):
        scorer.perturb = fn       # then score the split again
"""
from __future__ import annotations

import io
import zlib
from functools import partial
from typing import Callable, Iterable

import numpy as np

from dfdetect.config.loader import ConfigError
from dfdetect.registry import Registry

PERTURBATIONS: Registry = Registry("perturbation")
#: default levels of each perturbation (strongest last)
LEVELS: dict[str, tuple[float, ...]] = {}
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
OPUS_RATE = 48000  # libopus decodes at 48 kHz: encode there, resample back
IMAGES = ("image", "frame", "video")  # photos and face crops of videos: (H, W, 3) uint8 RGB


def perturbation(name: str, levels: Iterable[float], modalities: Iterable[str],
                 codecs: Iterable[tuple[str, str]] = ()):
    """Register ``factory(level, preprocessing) -> fn`` with its default levels, the modalities
    it applies to and the PyAV codecs ((name, "w" | "r")) it needs."""
    def deco(factory):
        factory.modalities, factory.codecs = tuple(modalities), tuple(codecs)
        LEVELS[name] = tuple(float(v) for v in levels)
        return PERTURBATIONS.register(name)(factory)

    return deco


# --- images (H, W, 3) uint8 -----------------------------------------------------------------

def _jpeg(image: np.ndarray, quality: float) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigmaX=float(sigma))


def _resize(image: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    size = (max(2, round(w * factor)), max(2, round(h * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _h264(image: np.ndarray, crf: float) -> np.ndarray:
    """One frame through libx264 (yuv420p, even sides by edge padding) and back.

    A single frame is intra-coded, so this models the quantisation and chroma subsampling of a
    video's key frames; inter-frame (P/B) coding of a crop sequence is not modelled.
    """
    from fractions import Fraction

    import av

    h, w = image.shape[:2]
    padded = np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")  # yuv420p: even sides
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = padded.shape[1], padded.shape[0], "yuv420p"
    enc.time_base = Fraction(1, 25)
    enc.options = {"crf": str(int(crf)), "preset": "medium"}
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(padded), format="rgb24")
    packets = list(enc.encode(frame.reformat(format="yuv420p"))) + list(enc.encode(None))
    dec = av.CodecContext.create("h264", "r")
    frames = [f for p in packets for f in dec.decode(p)] + list(dec.decode(None))
    return np.ascontiguousarray(frames[0].to_ndarray(format="rgb24")[:h, :w])


@perturbation("jpeg", (90, 70, 50, 30), IMAGES)
def jpeg(level: float, prep: dict | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Re-encode as JPEG at quality ``level`` (1-100)."""
    if not 1 <= level <= 100:
        raise ConfigError(f"robustness: jpeg quality must be 1-100, got {level}")
    return partial(_jpeg, quality=level)


@perturbation("blur", (1.0, 2.0, 4.0), IMAGES)
def blur(level: float, prep: dict | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Gaussian blur with standard deviation ``level`` pixels."""
    if level <= 0:
        raise ConfigError(f"robustness: blur sigma must be positive, got {level}")
    return partial(_blur, sigma=level)


@perturbation("resize", (0.5, 0.25), IMAGES)
def resize(level: float, prep: dict | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Downscale by ``level`` (0.5 = half the side); the model's resize then upsamples it."""
    if not 0 < level < 1:
        raise ConfigError(f"robustness: resize factor must be between 0 and 1, got {level}")
    return partial(_resize, factor=level)


@perturbation("h264", (23, 28, 33, 38), IMAGES, (("libx264", "w"), ("h264", "r")))
def h264(level: float, prep: dict | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """H.264 intra coding at constant rate factor ``level`` (0 best - 51 worst; 23 is x264's
    default, ~28-35 what upload sites serve)."""
    if not 0 <= level <= 51:
        raise ConfigError(f"robustness: h264 CRF must be 0-51, got {level}")
    return partial(_h264, crf=level)


# --- audio (T,) float32 mono at preprocessing["sample_rate"] --------------------------------

def _fit(wave: np.ndarray, n: int) -> np.ndarray:
    """float32 (n,): trimmed or zero-padded (codecs may add or drop a few samples)."""
    wave = np.asarray(wave, dtype=np.float32).reshape(-1)[:n]
    return np.pad(wave, (0, n - wave.size)) if wave.size < n else wave


def _resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    from dfdetect.data.audio import resample

    return resample(np.asarray(wave, dtype=np.float32), int(rate), int(target))


def _codec(wave: np.ndarray, rate: int, codec: str, fmt: str, kbps: float, via: int) -> np.ndarray:
    """Encode with PyAV at ``via`` Hz and ``kbps``, decode; back at ``rate``, same length."""
    import av

    x = np.ascontiguousarray(_resample(wave, rate, via), dtype=np.float32)
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=via)
        stream.bit_rate, stream.layout = int(kbps * 1000), "mono"
        frame = av.AudioFrame.from_ndarray(x[None], format="flt", layout="mono")
        frame.sample_rate = via
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    buf.seek(0)
    with av.open(buf, "r") as inp:  # the demuxer drops the encoder delay (LAME tag, pre-skip)
        parts = [f.to_ndarray().mean(axis=0) if f.format.is_planar else f.to_ndarray().reshape(-1)
                 for f in inp.decode(audio=0)]
    decoded = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return _fit(_resample(decoded, via, rate), wave.size)


def _noise(wave: np.ndarray, snr_db: float) -> np.ndarray:
    """White noise at ``snr_db`` below the clip's power; seeded by the clip (same noise per run)."""
    seed = zlib.crc32(np.ascontiguousarray(wave, dtype=np.float32).tobytes())
    rng = np.random.default_rng([seed, int(round(snr_db * 100)) & 0xFFFFFFFF])
    rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64)))) if wave.size else 0.0
    noise = rng.standard_normal(wave.size) * rms / 10 ** (snr_db / 20)
    return (wave + noise).astype(np.float32)


def _down_up(wave: np.ndarray, rate: int, via: int) -> np.ndarray:
    return _fit(_resample(_resample(wave, rate, via), via, rate), wave.size)


def _rate(prep: dict | None, name: str) -> int:
    rate = (prep or {}).get("sample_rate")
    if not rate:
        raise ConfigError(f"robustness: {name} needs the checkpoint's sample_rate (an audio "
                          "checkpoint's preprocessing has it)")
    return int(rate)


@perturbation("mp3", (128, 64, 32, 16), ("audio",), (("libmp3lame", "w"), ("mp3", "r")))
def mp3(level: float, prep: dict | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """MP3 round trip at ``level`` kbit/s (8-320; LAME caps what a low sample rate allows)."""
    if not 8 <= level <= 320:
        raise ConfigError(f"robustness: mp3 bitrate must be 8-320 kbit/s, got {level}")
    rate = _rate(prep, "mp3")
    via = rate if rate in MP3_RATES else 48000
    return partial(_codec, rate=rate, codec="libmp3lame", fmt="mp3", kbps=level, via=via)


@perturbation("opus", (64, 32, 16, 8), ("audio",), (("libopus", "w"), ("opus", "r")))
def opus(level: float, prep: dict | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Opus (Ogg) round trip at ``level`` kbit/s (6-510), the codec of VoIP and voice messages."""
    if not 6 <= level <= 510:
        raise ConfigError(f"robustness: opus bitrate must be 6-510 kbit/s, got {level}")
    return partial(_codec, rate=_rate(prep, "opus"), codec="libopus", fmt="ogg", kbps=level,
                   via=OPUS_RATE)


@perturbation("noise", (30, 20, 10), ("audio",))
def noise(level: float, prep: dict | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Additive white noise at a signal-to-noise ratio of ``level`` dB."""
    if not -20 <= level <= 100:
        raise ConfigError(f"robustness: noise SNR must be -20 to 100 dB, got {level}")
    return partial(_noise, snr_db=level)


@perturbation("resample8k", (8000,), ("audio",))
def resample8k(level: float, prep: dict | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Down to ``level`` Hz (default 8 kHz, the telephone band) and back up: the high band goes."""
    rate = _rate(prep, "resample8k")
    if not 1000 <= level < rate:
        raise ConfigError(f"robustness: resample8k goes through {level:g} Hz, which must be at "
                          f"least 1000 and below the checkpoint's sample_rate {rate}")
    return partial(_down_up, rate=rate, via=int(level))


# --- parsing -------------------------------------------------------------------------------

def fitting(modality: str) -> list[str]:
    """Names of the perturbations that apply to ``modality``."""
    return [n for n in PERTURBATIONS if modality in PERTURBATIONS.resolve(n)[0].modalities]


def _check_codecs(name: str, codecs: tuple) -> None:
    if not codecs:
        return
    try:
        import av
    except ImportError:
        raise ConfigError(f"robustness: {name} needs PyAV (pip install av)") from None
    for codec, mode in codecs:
        try:
            av.codec.Codec(codec, mode)
        except ValueError:  # UnknownCodecError
            role = "encoder" if mode == "w" else "decoder"
            raise ConfigError(f"robustness: {name} needs the FFmpeg {role} '{codec}', which this "
                              f"PyAV build lacks; install a PyAV wheel with it (pip install -U "
                              f"av) or leave {name} out") from None


def sweep_preprocessing(meta: dict) -> dict:
    """The preprocessing a sweep is built for; an ensemble's members must share modality and
    sample rate (one perturbed array feeds them all)."""
    preps = [m["preprocessing"] for m in meta.get("ensemble", [])] or [meta["preprocessing"]]
    keys = {(p.get("modality", "image"), p.get("sample_rate")) for p in preps}
    if len(keys) > 1:
        raise ConfigError(f"robustness: the ensemble's members decode differently {sorted(keys)}"
                          "; sweep them one checkpoint at a time")
    return preps[0]


def parse_sweep(spec: str, preprocessing: dict | None = None
                ) -> list[tuple[str, float, Callable[[np.ndarray], np.ndarray]]]:
    """``"jpeg,blur:1/3"`` -> [(name, level, perturb), ...] with default levels where omitted.

    ``preprocessing`` is the checkpoint's (modality, sample rate); without it, images.
    """
    prep = dict(preprocessing or {"modality": "image"})
    modality = prep.get("modality", "image")
    out = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, levels = (x.strip() for x in part.partition(":"))
        factory = PERTURBATIONS.resolve(name)[0]
        if modality not in factory.modalities:
            raise ConfigError(f"robustness={name} does not apply to {modality} checkpoints "
                              f"(it perturbs {'/'.join(factory.modalities)}); for {modality} use "
                              f"{', '.join(fitting(modality)) or 'none is registered'}")
        try:
            values = [float(v) for v in levels.split("/")] if levels else list(LEVELS[name])
        except ValueError:
            raise ConfigError(f"robustness: levels of {name} must be numbers separated by /, "
                              f"got '{levels}'") from None
        _check_codecs(name, factory.codecs)
        out += [(name, v, factory(v, prep)) for v in values]
    return out
