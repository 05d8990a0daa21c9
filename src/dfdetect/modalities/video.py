"""Videos: ``prepare`` turns each into face crops (``frame`` rows) that train as images;
``predict`` scores a video through face crops of sampled frames and aggregates them.

The media work (frame sampling, face detection, cropping, workers, shards, resume) lives in
:mod:`dfdetect.preprocess`; this object only wires it in.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dfdetect.data.adapters import VIDEO_EXTS
from dfdetect.modalities.image import ImageModality
from dfdetect.modalities.base import MODALITIES


def video_settings(cfg):
    """The crop-deciding options of a :class:`PrepareConfig` as :class:`VideoSettings`."""
    from dfdetect.preprocess.video import VideoSettings

    return VideoSettings(
        frames_per_video=cfg.frames_per_video, frame_step=cfg.frame_step,
        detector=cfg.detector, fallback_detector=cfg.fallback_detector,
        detect_size=cfg.detect_size, min_face_size=cfg.min_face_size, margin=cfg.margin,
        image_size=cfg.image_size, jpeg_quality=cfg.jpeg_quality,
        keep_all_faces=cfg.keep_all_faces, device=cfg.device)


@MODALITIES.register("video")
class VideoModality(ImageModality):
    """Video files: prepared into face crops; scored per frame, then per video."""

    name = "video"
    extensions = VIDEO_EXTS
    per_frame = True
    needs_prepare = ("this manifest lists videos: run `dfdetect prepare` first to turn them into "
                     "face crops, then train on the prepared manifest")
    perturbations = ("h264",)
    shortcut_advice = ("prepare re-encodes the face crops itself (same size and JPEG quality for"
                       " both classes), which removes container, codec and resolution "
                       "differences from the crops, but frame rate, bitrate and the source's "
                       "compression still shape what the crops show: re-encode both classes' "
                       "videos the same way (e.g. ffmpeg -i in.mp4 -r 25 -c:v libx264 -crf 23 "
                       "out.mp4) or report results per value")

    def shortcut_properties(self, sample, path):
        from dfdetect.data.probes import video_properties

        return video_properties(path)

    def prepare(self, manifest, cfg, out: Path, echo=print):
        """Validate the videos, crop them (``preprocess.run``) and put the crop rows in their
        place; other rows keep absolute paths. Returns the manifest and where it goes (a shard
        run writes its shard manifest, ``dfdetect merge`` joins them)."""
        from dfdetect.data.manifest import ManifestError, validate, write_manifest
        from dfdetect.preprocess.faces import check_detector
        from dfdetect.preprocess.run import parse_shard, prepare_videos, summary

        if not cfg.out:
            raise ManifestError("prepare with videos needs out=<output folder> for the crops")
        validate(manifest, check_files=cfg.check_files)
        out_dir, settings = out.parent, video_settings(cfg)
        parse_shard(cfg.shard)  # a bad shard fails before any work
        for det in {settings.detector, settings.fallback_detector} - {"", "none"}:
            check_detector(det)  # missing package / weights: stop now, with the fix
        videos = replace(manifest, samples=[s for s in manifest.samples if self.owns(s)])
        write_manifest(videos, out_dir / "videos.csv")
        run = prepare_videos(videos, out_dir, settings, workers=cfg.num_workers, shard=cfg.shard,
                             retry_failed=cfg.retry_failed, manifest_name=out.name, echo=echo)
        others = [replace(s, path=str(manifest.resolve(s).resolve())) for s in manifest.samples
                  if not self.owns(s)]
        echo(summary(run, videos, out_dir))
        return replace(run.manifest, samples=others + run.manifest.samples), run.manifest_path
