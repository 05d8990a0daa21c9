"""The audio part of ``dfdetect demo``: synthetic speech vs its Griffin-Lim resynthesis, offline.

Why synthetic: the demo must run on a fresh machine with only the Python packages (no espeak,
no downloads). "Bona fide" clips are made by a source-filter model: a glottal pulse train with
a wandering pitch, jitter and shimmer through three moving formant resonators, syllable-shaped
envelopes and a little breath noise. "Spoof" clips are the same utterances after a vocoder-like
round trip: 64-band mel spectrogram -> pseudo-inverse -> Griffin-Lim phase reconstruction, the
classic artefact family of early TTS. Each utterance is one group, so both versions of a
sentence always fall in the same split. It is a smoke test of the pipeline, not a benchmark.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dfdetect.data.manifest import Manifest, Sample, group_split, write_manifest

RATE = 16000


def _resonate(x: np.ndarray, freqs: np.ndarray, bw: float) -> np.ndarray:
    """Two-pole resonator with a per-sample centre frequency (a moving formant)."""
    r = np.exp(-np.pi * bw / RATE)
    a1 = -2 * r * np.cos(2 * np.pi * freqs / RATE)
    a2 = r * r
    y = np.zeros_like(x)
    y1 = y2 = 0.0
    for n in range(x.size):  # small clips: a plain loop is fast enough and needs no scipy
        y0 = x[n] - a1[n] * y1 - a2 * y2
        y[n], y2, y1 = y0, y1, y0
    return y


def synth_speech(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """One speech-like utterance (T,) float32 in [-1, 1]."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    f0 = rng.uniform(95, 210) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(2, 5) * t))
    f0 *= 1 + 0.01 * rng.standard_normal(n).cumsum() / np.sqrt(n)  # slow drift
    phase = np.cumsum(f0 / RATE)
    pulses = np.diff(np.floor(phase), prepend=0.0) * (1 + 0.1 * rng.standard_normal(n))
    source = np.convolve(pulses, np.exp(-np.arange(40) / 6.0), mode="same")
    source += 0.02 * rng.standard_normal(n)
    n_syll = max(2, int(seconds * rng.uniform(3, 5)))
    knots = np.linspace(0, n, n_syll + 1)
    voice = np.zeros(n)
    for lo_f, hi_f, bw in ((300, 900, 90), (800, 2400, 120), (2200, 3400, 180)):
        targets = rng.uniform(lo_f, hi_f, n_syll + 1)
        voice += _resonate(source, np.interp(np.arange(n), knots, targets), bw) * rng.uniform(.4, 1)
    env = np.abs(np.sin(np.pi * np.arange(n) / (n / n_syll))) ** 0.6
    y = voice * env
    return (0.5 * y / (np.abs(y).max() + 1e-9)).astype(np.float32)


def griffin_lim_resynth(wave: np.ndarray, n_mels: int = 64, iters: int = 24,
                        seed: int = 0) -> np.ndarray:
    """Mel spectrogram -> linear (pseudo-inverse) -> Griffin-Lim: a vocoder-like round trip."""
    import torch

    from dfdetect.models.audio_features import mel_matrix

    n_fft, hop = 512, 128
    window = torch.hann_window(n_fft)
    x = torch.from_numpy(wave).float()
    mag = torch.stft(x, n_fft, hop, window=window, return_complex=True).abs()  # (F, frames)
    mel = mel_matrix(RATE, n_fft, n_mels)                                      # (M, F)
    linear = (torch.linalg.pinv(mel) @ (mel @ mag)).clamp(min=0)              # (F, frames)
    gen = torch.Generator().manual_seed(seed)
    angles = torch.exp(2j * np.pi * torch.rand(linear.shape, generator=gen))
    for _ in range(iters):
        y = torch.istft(linear * angles, n_fft, hop, window=window, length=x.numel())
        spec = torch.stft(y, n_fft, hop, window=window, return_complex=True)
        angles = spec / spec.abs().clamp(min=1e-8)
    y = torch.istft(linear * angles, n_fft, hop, window=window, length=x.numel()).numpy()
    return (0.5 * y / (np.abs(y).max() + 1e-9)).astype(np.float32)


def build_demo_speech(out_dir: str | Path, utterances: int = 32, seconds: float = 1.5,
                      seed: int = 0) -> Path:
    """Write bonafide/ and spoof/ FLAC clips plus a group-split manifest; returns its path."""
    import soundfile as sf

    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    samples = []
    for u in range(utterances):
        wave = synth_speech(seconds * rng.uniform(0.8, 1.2), rng)
        for label, folder, clip in (("real", "bonafide", wave),
                                    ("fake", "spoof", griffin_lim_resynth(wave, seed=seed + u))):
            path = out / folder / f"utt{u:03d}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(path), clip, RATE, subtype="PCM_16")
            samples.append(Sample(id=f"{folder}/utt{u:03d}", path=f"{folder}/utt{u:03d}.flac",
                                  label=label, group=f"utt{u:03d}", source="demo_speech",
                                  method="none" if label == "real" else "griffin_lim",
                                  modality="audio"))
    samples = group_split(samples, (0.6, 0.2, 0.2), seed=seed)
    return write_manifest(Manifest(samples, out.resolve(), name="demo_speech"),
                          out / "manifest.csv")


def run_audio_demo(cfg, echo=print, utterances: int = 32) -> dict:
    """Build the speech set, train ``cfg.audio_model``, evaluate and predict; returns paths."""
    from dfdetect.config.schema import EvaluateConfig, PredictConfig, TrainConfig
    from dfdetect.evaluation.evaluate import evaluate
    from dfdetect.inference.predict import predict
    from dfdetect.training.recipe import train

    root = Path(cfg.out) / "audio"
    manifest = build_demo_speech(root / "data", utterances=utterances, seed=cfg.seed)
    echo(f"[audio 1/3] Data: synthetic speech vs Griffin-Lim resynthesis, split by utterance "
         f"-> {manifest}")
    t = TrainConfig(name="audio_run", out_dir=str(root))
    t.data.manifest, t.data.seconds, t.data.batch_size = str(manifest), 1.0, 8
    t.data.audio_augment, t.data.num_workers = "gain", 0
    t.model.name, t.optim.lr, t.optim.weight_decay = cfg.audio_model, 3e-3, 1e-4
    t.trainer.epochs, t.trainer.seed, t.trainer.device = cfg.audio_epochs, cfg.seed, cfg.device
    t.trainer.progress = False
    t.trainer.monitor, t.trainer.log_every_n_steps = "val/eer", 2
    echo(f"[audio 2/3] Training {cfg.audio_model} for {t.trainer.epochs} epochs on 1 s crops "
         "(model chosen by validation EER)")
    result = train(t, echo=echo)
    ev = evaluate(EvaluateConfig(ckpt=str(result.best_ckpt), data=str(manifest), split="test",
                                 device=cfg.device, num_workers=0, save_threshold=True),
                  echo=echo)
    submission = root / "submission.csv"
    echo("[audio 3/3] Predicting the test clips (windowed scoring)")
    predict(PredictConfig(ckpt=str(result.best_ckpt), input=str(manifest), split="test",
                          out=str(submission), device=cfg.device, num_workers=0,
                          progress=False), echo=echo)
    return {"run_dir": result.run_dir, "report": ev.out_dir / "report.md",
            "submission": submission, "eer": ev.report["audio"]["eer"]}
