"""``dfdetect demo``: the whole image slice, offline, in a few minutes on two CPU cores.

Steps: build a small face-forgery set from photos that installed packages ship
(:mod:`dfdetect.demo.faces`), render a handful of short clips from them and run the video
``prepare`` on those (:mod:`dfdetect.demo.videos`: sampling, MTCNN, crops), split everything by
identity, train a small timm model, evaluate on the
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
    from dfdetect.data.manifest import Manifest, group_split, read_manifest, write_manifest
    from dfdetect.demo.faces import build_demo_faces
    from dfdetect.modalities import get_modality

    data_dir = Path(cfg.out) / "data"
    manifest_path = build_demo_faces(data_dir, size=cfg.image_size, variants=cfg.variants,
                                     seed=cfg.seed)
    m = read_manifest(manifest_path)
    videos = _render_videos(cfg, data_dir)
    m.samples = group_split(m.samples + videos, (0.6, 0.2, 0.2), seed=cfg.seed)
    crops = []
    if videos:  # rows that must be prepared (the clips) become face-crop rows
        raw = lambda s: bool(get_modality(s.modality).needs_prepare)  # noqa: E731
        crops = _prepare_videos(cfg, data_dir, Manifest(
            [s for s in m.samples if raw(s)], data_dir.resolve()), echo)
        m.samples = [s for s in m.samples if not raw(s)] + crops
    write_manifest(m, manifest_path)
    echo(f"[1/4] Data: {len(m)} faces ({len(crops)} of them crops from {len(videos)} clips; "
         f"{m.counts()}) from photos shipped with scikit-image and matplotlib, split by "
         f"identity -> {manifest_path}")
    return manifest_path


def _render_videos(cfg: DemoConfig, data_dir: Path) -> list:
    from dfdetect.demo.videos import render_demo_videos

    if cfg.clips <= 0:
        return []
    return render_demo_videos(data_dir, size=128, frames=12, clips_per_identity=cfg.clips,
                              seed=cfg.seed)


def _prepare_videos(cfg: DemoConfig, data_dir: Path, videos, echo) -> list:
    """Run the video prepare on the rendered clips: sampled frames -> MTCNN -> square crops."""
    from dfdetect.preprocess.run import prepare_videos, summary
    from dfdetect.preprocess.video import VideoSettings

    out = data_dir / "video_crops"
    settings = VideoSettings(frames_per_video=6, image_size=cfg.image_size, min_face_size=20)
    run = prepare_videos(videos, out, settings, echo=lambda _: None)
    echo("[1/4] Video: " + summary(run, videos, out).replace("\n", "\n      "))
    for s in run.manifest.samples:  # crop paths relative to the demo's manifest folder
        s.path = (Path("video_crops") / s.path).as_posix()
    return run.manifest.samples


def _train_config(cfg: DemoConfig, manifest: Path) -> TrainConfig:
    t = TrainConfig(name="run", out_dir=str(cfg.out))
    t.data.manifest, t.data.image_size, t.data.batch_size = str(manifest), cfg.image_size, 32
    t.model.name, t.model.pretrained = cfg.model, cfg.pretrained
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
    start_from = "from scratch" if cfg.pretrained in ("", "false") else \
        f"from {cfg.pretrained} weights (installed offline as a package)"
    echo(f"[2/4] Training {cfg.model} {start_from} for {cfg.epochs} epochs")
    result = train(_train_config(cfg, manifest), echo=echo)
    echo("[3/4] Evaluating the best checkpoint on the held-out identities (split=test; the "
         "decision threshold is chosen on val and saved into the checkpoint)")
    ev = evaluate(EvaluateConfig(ckpt=str(result.best_ckpt), data=str(manifest), split="test",
                                 device=cfg.device, save_threshold=True), echo=echo)
    echo("[4/4] Predicting the test images into a submission file")
    submission = Path(cfg.out) / "submission.csv"
    predict(PredictConfig(ckpt=str(result.best_ckpt), input=str(manifest), split="test",
                          out=str(submission), device=cfg.device, progress=False), echo=echo)
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
