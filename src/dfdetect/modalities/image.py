"""Images, and the face crops (``frame`` rows) that video preparation writes.

Decoding is :func:`dfdetect.data.image.load_image`; the pipelines are
:mod:`dfdetect.data.transforms` (albumentations, seeded per training draw).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from dfdetect.data.adapters import IMAGE_EXTS
from dfdetect.modalities.base import MODALITIES, Modality


def image_settings(cfg):
    """The face-deciding options of a :class:`PrepareConfig` as ``ImageSettings``."""
    from dfdetect.preprocess.images import ImageSettings

    return ImageSettings(
        detector=cfg.detector, fallback_detector=cfg.fallback_detector, landmarks=cfg.landmarks,
        detect_size=cfg.detect_size, min_face_size=cfg.min_face_size, crop=cfg.crop,
        margin=cfg.margin, image_size=cfg.image_size, jpeg_quality=cfg.jpeg_quality,
        device=cfg.device)


@MODALITIES.register("image")
class ImageModality(Modality):
    """Still images: PIL decoding, albumentations pipelines, JPEG / blur / resize sweep."""

    name = "image"
    extensions = IMAGE_EXTS
    perturbations = ("jpeg", "blur", "resize")
    model_hint = ("pick an image model (timm:<name>, dual_branch, swin, xception; see "
                  "`dfdetect models`)")
    shortcut_advice = ("re-encode both classes the same way before training (one format, one "
                       "size, one JPEG quality, metadata stripped; e.g. every file to JPEG q90 "
                       "at 256x256); when those already match, a file-size or double_jpeg gap "
                       "means different compression histories (one class JPEG-compressed twice):"
                       " start both from equally compressed sources, keep augment.jpeg_p > 0 so "
                       "both classes are recompressed in training, and report results per value")

    @property
    def trains_as(self) -> str:
        return "image"

    def prepare(self, manifest, cfg, out: Path, echo=print):
        """With ``image_faces`` (the default): each image's face, five landmarks and dense hull
        go into its row (``preprocess/images.py``; ``crop=true`` also cuts the face out); other
        rows pass through. Done images are skipped on a re-run."""
        from dataclasses import replace

        from dfdetect.preprocess.faces import check_detector
        from dfdetect.preprocess.images import prepare_images, summary
        from dfdetect.preprocess.landmarks import check_landmarker

        if not getattr(cfg, "image_faces", False):
            return manifest, out
        settings = image_settings(cfg)
        if settings.crop and not cfg.out:
            from dfdetect.data.manifest import ManifestError

            raise ManifestError("prepare with crop=true needs out=<output folder> for the crops")
        for det in {settings.detector, settings.fallback_detector} - {"", "none"}:
            check_detector(det)  # missing package / weights: stop now, with the fix
        if settings.landmarks not in ("", "none"):
            check_landmarker(settings.landmarks)
        mine = replace(manifest, samples=[s for s in manifest.samples if self.owns(s)])
        run = prepare_images(mine, out.parent, settings, retry_failed=cfg.retry_failed,
                             echo=echo)
        echo(summary(run, settings.crop))
        here = out.parent.resolve()  # crop paths are relative to the output folder
        done = {s.id: replace(s, path=str(here / s.path)) for s in run.manifest.samples}
        rows = [done[s.id] if s.id in done else replace(s, path=str(manifest.resolve(s).resolve()))
                for s in manifest.samples if s.id in done or not self.owns(s)]
        return replace(manifest, samples=rows), out

    def preprocessing(self, data_cfg, model) -> dict:
        from dfdetect.models import preprocessing_of

        self.check_model(model)
        return {"modality": self.trains_as, "image_size": int(data_cfg.image_size),
                **preprocessing_of(model)}

    def load(self, path, preprocessing: dict | None = None):
        from dfdetect.data.image import load_image

        return load_image(path)  # (H, W, 3) uint8 RGB

    def train_transform(self, preprocessing: dict, augment) -> Callable:
        from dfdetect.data.transforms import train_transform

        return train_transform(preprocessing, augment)

    def eval_transform(self, preprocessing: dict) -> Callable:
        from dfdetect.data.transforms import eval_transform

        return eval_transform(preprocessing)

    input_layout = "NCHW, RGB, resized then normalised"
    spatial_input = True

    def example_input(self, preprocessing: dict, batch: int = 1, generator=None):
        import torch

        size = int(preprocessing["image_size"])
        return torch.randn(batch, 3, size, size, generator=generator)  # (B, 3, S, S)

    def shortcut_properties(self, sample, path):
        from dfdetect.data.probes import image_properties

        return image_properties(path)

    def thumbnail(self, path, preprocessing: dict, size: int):
        from PIL import Image, ImageOps

        with Image.open(path) as im:
            return ImageOps.contain(im.convert("RGB"), (size, size))


@MODALITIES.register("frame")
class FrameModality(ImageModality):
    """Face crops of prepared videos: images that evaluation groups back into videos."""

    name = "frame"
    extensions = frozenset()  # written by prepare, never listed from a folder
    video_level = True
    perturbations = ("h264", "jpeg", "blur", "resize")  # crops of videos: H.264 first
    shortcut_advice = ("the crops were written by prepare, the same way for both classes; a "
                       "difference in them or in their source videos (the video_* properties) "
                       "comes from the videos: re-encode both classes' videos the same way "
                       "(e.g. ffmpeg -i in.mp4 -r 25 -c:v libx264 -crf 23 out.mp4) and prepare "
                       "again, or report results per value")

    def prepare(self, manifest, cfg, out: Path, echo=print):
        """Crop rows were made by prepare (with their landmarks): nothing to do."""
        return manifest, out

    def shortcut_properties(self, sample, path):
        """The crop's image properties, plus its source video's (``video_*``) when the video
        is still where prepare found it."""
        from dfdetect.data.probes import cached_video_properties

        out = super().shortcut_properties(sample, path)
        video = Path(sample.extra.get("video_path", ""))
        if video.is_absolute() and video.is_file():
            out.update({f"video_{k}": v for k, v in cached_video_properties(str(video)).items()})
        return out
