"""``dfdetect demo``: the whole image slice, offline, in a few minutes on two CPU cores.

Steps: build a small face-forgery set from photos that installed packages ship
(:mod:`dfdetect.demo.faces`), split it by identity, train a small timm model, evaluate on the
held-out identities, and write a submission for them. It needs neither ``../shared`` nor the
network. The set is tiny and easy: the numbers prove the plumbing, not a detector.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from dfdetect.config.schema import DemoConfig, EvaluateConfig, PredictConfig, TrainConfig


@dataclass
class DemoResult:
    manifest: Path
    run_dir: Path
    report: Path
    submission: Path
    metrics: dict
    seconds: float
    audio: dict | None = None  # issue 6: paths and EER of the audio part


def _prepare_data(cfg: DemoConfig, echo) -> Path:
    from dfdetect.data.manifest import group_split, read_manifest, write_manifest
    from dfdetect.demo.faces import build_demo_faces

    data_dir = Path(cfg.out) / "data"
    manifest_path = build_demo_faces(data_dir, size=cfg.image_size, variants=cfg.variants,
                                     seed=cfg.seed)
    m = read_manifest(manifest_path)
    m.samples = group_split(m.samples, (0.6, 0.2, 0.2), seed=cfg.seed)
    write_manifest(m, manifest_path)
    echo(f"[1/4] Data: {len(m)} face images ({m.counts()}) from photos shipped with "
         f"scikit-image and matplotlib, split by identity -> {manifest_path}")
    return manifest_path


def _train_config(cfg: DemoConfig, manifest: Path) -> TrainConfig:
    t = TrainConfig(name="run", out_dir=str(cfg.out))
    t.data.manifest, t.data.image_size, t.data.batch_size = str(manifest), cfg.image_size, 32
    t.model.name, t.model.pretrained = cfg.model, "false"
    t.optim.lr, t.optim.warmup_epochs = 2e-3, 0.5
    t.trainer.epochs, t.trainer.seed, t.trainer.device = cfg.epochs, cfg.seed, cfg.device
    t.trainer.log_every_n_steps = 5
    return t


def run_demo(cfg: DemoConfig, echo=print) -> DemoResult:
    """Run the demo; prints where the run, the report and the submission are."""
    from dfdetect.evaluation.evaluate import evaluate
    from dfdetect.inference.predict import predict
    from dfdetect.training.recipe import train

    start = time.perf_counter()
    manifest = _prepare_data(cfg, echo)
    echo(f"[2/4] Training {cfg.model} from scratch for {cfg.epochs} epochs")
    result = train(_train_config(cfg, manifest), echo=echo)
    echo("[3/4] Evaluating the best checkpoint on the held-out identities (split=test)")
    ev = evaluate(EvaluateConfig(ckpt=str(result.best_ckpt), data=str(manifest), split="test",
                                 device=cfg.device), echo=echo)
    echo("[4/4] Predicting the test images into a submission file")
    submission = Path(cfg.out) / "submission.csv"
    predict(PredictConfig(ckpt=str(result.best_ckpt), input=str(manifest), split="test",
                          out=str(submission), device=cfg.device), echo=echo)
    audio = None
    if cfg.audio:  # issue 6: the speech part (demo/audio.py)
        from dfdetect.demo.audio import run_audio_demo

        echo("\nAudio: synthetic speech vs Griffin-Lim resynthesis")
        audio = run_audio_demo(cfg, echo)
    seconds = time.perf_counter() - start
    echo(f"\nDemo finished in {seconds:.0f} s (a smoke test on a tiny, easy set: the numbers "
         "show the pipeline works, not how good a detector is).\n"
         f"  run folder : {result.run_dir}\n  checkpoint : {result.best_ckpt}\n"
         f"  report     : {ev.out_dir / 'report.md'}\n  submission : {submission}")
    if audio:
        echo(f"  audio      : report {audio['report']} · submission {audio['submission']}")
    return DemoResult(manifest, result.run_dir, ev.out_dir / "report.md", submission,
                      ev.metrics, seconds, audio)
