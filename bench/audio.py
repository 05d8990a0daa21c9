"""Audio speed figures (issue 6): features, training samples/s, predict seconds of audio per second.

Not a test: it prints figures measured in one run, plus ratios between them, so two machines (or
two commits) compare by ratio even when their absolute speeds differ.

    PYTHONPATH=src python bench/audio.py                      # defaults: 4 s clips, CPU
    PYTHONPATH=src python bench/audio.py --no-librosa --steps 2

Measures
1. log-mel features: ``LogMel`` (torch.stft + librosa's mel matrix, batched) vs
   ``librosa.feature.melspectrogram`` per clip (after its one-off numba compile, timed apart);
2. training samples/s (forward + backward + AdamW step) for raw-waveform and log-mel models;
3. predict: seconds of audio scored per wall-clock second through ``Predictor`` (windowed).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

RATE = 16000


def _clock(fn, repeat: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def bench_features(seconds: float, batch: int, use_librosa: bool) -> dict:
    """Clips per second for torch log-mel (batched) and librosa (per clip)."""
    from dfdetect.models.audio_features import LogMel

    x = torch.randn(batch, int(seconds * RATE))
    fe = LogMel()
    with torch.inference_mode():
        torch_s = _clock(lambda: fe(x), 5)
    out = {"torch_logmel_clips_per_s": batch / torch_s}
    if use_librosa:
        import librosa

        clip = x[0].numpy()
        t0 = time.perf_counter()
        librosa.feature.melspectrogram(y=clip, sr=RATE, n_fft=512, hop_length=160, win_length=400,
                                       n_mels=64)
        out["librosa_first_call_s"] = time.perf_counter() - t0
        lib_s = _clock(lambda: librosa.feature.melspectrogram(
            y=clip, sr=RATE, n_fft=512, hop_length=160, win_length=400, n_mels=64), 10)
        out["librosa_clips_per_s"] = 1 / lib_s
    return out


def bench_train(name: str, seconds: float, batch: int, steps: int) -> float:
    """Training samples per second (forward, backward, optimiser step)."""
    from dfdetect.models import build_model

    torch.manual_seed(0)
    net = build_model(name).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    x, y = torch.randn(batch, int(seconds * RATE)), torch.randint(0, 2, (batch,))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    return batch / _clock(step, steps)


def bench_predict(name: str, files: int, file_seconds: float, seconds: float) -> float:
    """Seconds of audio scored per wall second (decode + windows + model), batch of windows."""
    import soundfile as sf

    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.inference.predictor import Predictor
    from dfdetect.models import build_model

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        paths = []
        for i in range(files):
            p = Path(tmp) / f"f{i}.flac"
            sf.write(str(p), 0.1 * rng.standard_normal(int(file_seconds * RATE)), RATE)
            paths.append(str(p))
        prep = {"modality": "audio", "sample_rate": RATE, "seconds": seconds, "window_hop": 0.0,
                "trim_silence": False, "augment": ""}
        ckpt = make_checkpoint(build_model(name), model_name=name,
                               model_kwargs={"num_classes": 2, "drop_rate": 0.0},
                               preprocessing=prep, config={})
        save_checkpoint(ckpt, Path(tmp) / "m.ckpt")
        pred = Predictor.from_checkpoint(Path(tmp) / "m.ckpt", "cpu", batch_size=16, num_workers=0)
        list(pred.score(paths[:1]))  # warm-up
        start = time.perf_counter()
        scored = list(pred.score(paths))
        wall = time.perf_counter() - start
    assert all(p.status == "ok" for p in scored)
    return files * file_seconds / wall


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="clip / window length")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--no-librosa", action="store_true", help="skip librosa (30 s numba compile)")
    ap.add_argument("--models", default="aasist_l,rawnet2_light,lcnn,audio_timm:resnet18")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__} · {torch.get_num_threads()} threads · {args.seconds:g} s "
          f"clips at {RATE} Hz · batch {args.batch}")
    feats = bench_features(args.seconds, args.batch, not args.no_librosa)
    for k, v in feats.items():
        print(f"features  {k:28s} {v:10.2f}")
    if "librosa_clips_per_s" in feats:
        print(f"features  ratio torch/librosa          "
              f"{feats['torch_logmel_clips_per_s'] / feats['librosa_clips_per_s']:10.2f}")
    train, predict = {}, {}
    for name in args.models.split(","):
        train[name] = bench_train(name, args.seconds, args.batch, args.steps)
        predict[name] = bench_predict(name, files=4, file_seconds=20.0, seconds=args.seconds)
        print(f"{name:22s} train {train[name]:8.2f} samples/s · predict "
              f"{predict[name]:8.1f} s audio / s")
    raw, mel, cpu = "aasist_l", "audio_timm:resnet18", "phase_stats_if"
    if raw in train and mel in train:
        print(f"ratio log-mel ({mel}) / raw-waveform ({raw}) training speed: "
              f"{train[mel] / train[raw]:.2f}")
    if raw in train and cpu in train:
        print(f"ratio CPU recipe ({cpu}) / {raw} training speed: {train[cpu] / train[raw]:.1f}")


if __name__ == "__main__":
    main()
