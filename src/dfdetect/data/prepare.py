"""``prepare``: adapter -> group-aware split -> validated manifest; videos also become face crops.

Image datasets give a manifest of their files. When the adapter lists videos, the split is made
per video (before any sharding, so every shard agrees), the videos list is saved as
``out/videos.csv`` and :mod:`dfdetect.preprocess.run` turns each video into face crops: the
manifest then has one ``frame`` row per crop, which trains as images.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dfdetect.config.schema import PrepareConfig
from dfdetect.data.adapters import ADAPTERS, build_manifest
from dfdetect.data.manifest import (Manifest, ManifestError, group_split, parse_ratios,
                                    validate, write_manifest)


def prepare(cfg: PrepareConfig, echo=print) -> Manifest:
    """Build the manifest with adapter ``cfg.data`` and write it under ``cfg.out``."""
    if not cfg.root:
        raise ManifestError("prepare needs root=<dataset folder or labels CSV>")
    manifest = build_manifest(cfg.data, cfg.root, real_label=cfg.real_label,
                              fake_label=cfg.fake_label, compression=cfg.compression,
                              official_split=cfg.official_split, protocol=cfg.protocol,
                              track=cfg.track)
    if any(not s.split for s in manifest.samples):
        manifest.samples = group_split(manifest.samples, parse_ratios(cfg.split_ratio), cfg.seed)
    if any(s.modality == "video" for s in manifest.samples):
        validate(manifest, check_files=cfg.check_files)
        return _prepare_videos(cfg, manifest, echo)
    out = Path(cfg.out or Path(cfg.root if Path(cfg.root).is_dir() else Path(cfg.root).parent)
               / "manifest.csv")
    # issue 6: audio rows are decoded into a clip cache beside the manifest (no-op without audio)
    from dfdetect.data.audio_prepare import prepare_audio_manifest
    manifest = prepare_audio_manifest(manifest, cfg, out, echo)
    validate(manifest, check_files=cfg.check_files)
    write_manifest(manifest, out)
    groups = {s.group for s in manifest.samples if s.group}
    echo(f"Wrote {out}: {len(manifest)} samples, {len(groups)} groups; per split "
         f"{ {k: v for k, v in sorted(manifest.counts().items())} }")
    return manifest


def video_settings(cfg: PrepareConfig):
    """The crop-deciding options of ``cfg`` as :class:`VideoSettings`."""
    from dfdetect.preprocess.video import VideoSettings

    return VideoSettings(
        frames_per_video=cfg.frames_per_video, frame_step=cfg.frame_step,
        detector=cfg.detector, fallback_detector=cfg.fallback_detector,
        detect_size=cfg.detect_size, min_face_size=cfg.min_face_size, margin=cfg.margin,
        image_size=cfg.image_size, jpeg_quality=cfg.jpeg_quality,
        keep_all_faces=cfg.keep_all_faces, device=cfg.device)


def _prepare_videos(cfg: PrepareConfig, manifest: Manifest, echo) -> Manifest:
    from dfdetect.preprocess.faces import check_detector
    from dfdetect.preprocess.run import parse_shard, prepare_videos, summary

    if not cfg.out:
        raise ManifestError("prepare with videos needs out=<output folder> for the crops")
    out_path = Path(cfg.out)
    out_dir = out_path.parent if out_path.suffix == ".csv" else out_path
    name = out_path.name if out_path.suffix == ".csv" else "manifest.csv"
    settings = video_settings(cfg)
    parse_shard(cfg.shard)  # a bad shard fails before any work
    for det in {settings.detector, settings.fallback_detector} - {"", "none"}:
        check_detector(det)  # missing package / weights: stop now, with the fix
    videos = replace(manifest, samples=[s for s in manifest.samples if s.modality == "video"])
    write_manifest(videos, out_dir / "videos.csv")
    run = prepare_videos(videos, out_dir, settings, workers=cfg.num_workers, shard=cfg.shard,
                         retry_failed=cfg.retry_failed, manifest_name=name, echo=echo)
    others = [replace(s, path=str(manifest.resolve(s).resolve())) for s in manifest.samples
              if s.modality != "video"]
    result = replace(run.manifest, samples=others + run.manifest.samples)
    if others:
        write_manifest(result, run.manifest_path)
    validate(result, check_files=cfg.check_files)
    echo(summary(run, videos, out_dir))
    return result


def adapter_names() -> list[str]:
    """Names accepted by ``data=``."""
    from dfdetect.data.adapters import _load_builtin

    _load_builtin()
    return ADAPTERS.names()
