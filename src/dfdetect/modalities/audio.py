"""Speech / audio clips: everything about the audio modality in one object.

Parts it composes: decoding, resampling, crops and windows in :mod:`dfdetect.data.audio`;
waveform augmentations in :mod:`dfdetect.data.audio_augment`; the cached-clip prepare step in
:mod:`dfdetect.data.audio_prepare`; the anti-spoofing report section (EER, minDCF, t-DCF,
per-attack EER with intervals, DET curve, spectrogram thumbnails) in
:mod:`dfdetect.modalities.audio_report`. Audio models (:mod:`dfdetect.models`) carry
``modality = "audio"`` and take (B, T) waveforms.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from dfdetect.data.adapters import AUDIO_EXTS
from dfdetect.modalities.base import MODALITIES, Modality, ReportWords

DEFAULT_RATE = 16000


def speech_like(batch: int, n: int, rate: int, generator=None):
    """(batch, n) float32 in [-0.5, 0.5]: harmonics of a wandering pitch under a syllable
    envelope that falls to silence between syllables (plus faint noise)."""
    import math

    import torch

    t = torch.arange(n, dtype=torch.float64) / rate  # (T,)
    f0 = 95 + 115 * torch.rand(batch, 1, generator=generator, dtype=torch.float64)  # (B, 1)
    wobble = 1 + 0.06 * torch.sin(2 * math.pi * 3 * t)
    phase = 2 * math.pi * torch.cumsum(f0 * wobble / rate, dim=1)  # (B, T)
    voice = sum(torch.sin(k * phase) / k for k in range(1, 12) if k * 200 < rate / 2)
    syllables = 3 + 2 * torch.rand(batch, 1, generator=generator, dtype=torch.float64)
    env = torch.sin(math.pi * syllables * t.clamp(min=0) / max(t[-1].item(), 1e-6)).abs() ** 2
    x = voice * env + 1e-3 * torch.randn(batch, n, generator=generator, dtype=torch.float64)
    return (0.5 * x / x.abs().amax(dim=1, keepdim=True).clamp(min=1e-9)).float()  # (B, T)


@MODALITIES.register("audio")
class AudioModality(Modality):
    """Mono waveforms at the checkpoint's rate; selection by validation EER."""

    name = "audio"
    extensions = AUDIO_EXTS  # what predict lists in a folder
    default_monitor = "val/eer"  # the anti-spoofing convention
    perturbations = ("mp3", "opus", "noise", "resample8k")
    input_layout = ("(batch, samples): mono float32 waveform at preprocessing.sample_rate, one "
                    "scoring window of preprocessing.seconds; predict averages windows")
    words = ReportWords(rows="clips", units="speakers (groups)",
                        levels={"frame": "clip", "video": "group"})
    model_hint = ("pick an audio model (aasist, aasist_l, rawnet2, lcnn, audio_timm:<name>; "
                  "see `dfdetect models`)")
    shortcut_advice = ("convert both classes the same way (prepare's convert_audio=true writes "
                       "one rate, mono, 16-bit FLAC), crop to a fixed length, consider "
                       "trim_silence=true, or report results per value")

    def prepare(self, manifest, cfg, out: Path, echo=print):
        """Decode once into cached 16-bit mono FLAC clips (``convert_audio``)."""
        from dfdetect.data.audio_prepare import prepare_audio_manifest

        return prepare_audio_manifest(manifest, cfg, out, echo, owns=self.owns), out

    def shortcut_properties(self, sample, path):
        """The original file's rate, bit depth, container and duration (a prepared row keeps
        them in its extra columns; its own FLAC clip is the same for every row)."""
        from dfdetect.data.audio_prepare import audio_properties, source_info

        extra = sample.extra if sample.extra.get("orig_format") else source_info(path)
        return audio_properties(extra)

    def preprocessing(self, data_cfg, model) -> dict:
        self.check_model(model)
        return {"modality": self.name, "sample_rate": int(data_cfg.sample_rate),
                "seconds": float(data_cfg.seconds), "window_hop": float(data_cfg.window_hop),
                "trim_silence": bool(data_cfg.trim_silence),
                "augment": str(data_cfg.audio_augment)}

    def load(self, path, preprocessing: dict | None = None):
        from dfdetect.data.audio import load_audio

        prep = preprocessing or {}
        return load_audio(path, int(prep.get("sample_rate", DEFAULT_RATE)),
                          bool(prep.get("trim_silence", False)))  # (T,) float32

    def train_transform(self, preprocessing: dict, augment) -> Callable:
        from dfdetect.data.audio import TrainClip

        return TrainClip(preprocessing, augment)

    def eval_transform(self, preprocessing: dict) -> Callable:
        from dfdetect.data.audio import EvalClip

        return EvalClip(preprocessing)

    def score_transform(self, preprocessing: dict) -> Callable:
        """Windows of a whole file; the predictor averages their scores per file."""
        from dfdetect.data.audio import ScoreWindows

        return ScoreWindows(preprocessing)

    def example_input(self, preprocessing: dict, batch: int = 1, generator=None):
        """(B, T) speech-like windows: voiced syllables with quiet gaps, where a log-spectrum
        front-end is most sensitive to how the STFT is computed (export's parity check)."""
        from dfdetect.data.audio import clip_samples

        rate = int(preprocessing.get("sample_rate", DEFAULT_RATE))
        return speech_like(batch, clip_samples(preprocessing), rate, generator)

    def thumbnail(self, path, preprocessing: dict, size: int):
        from dfdetect.modalities.audio_report import spectrogram_thumbnail

        return spectrogram_thumbnail(self.load(path, preprocessing),
                                     int(preprocessing.get("sample_rate", DEFAULT_RATE)), size)

    def report_section(self, report: dict, rows: list[dict], meta: dict, cfg, out: Path) -> str:
        from dfdetect.modalities.audio_report import audio_section

        return audio_section(report, rows, cfg, out)
