"""Images, and the face crops (``frame`` rows) that video preparation writes.

Decoding is :func:`dfdetect.data.image.load_image`; the pipelines are
:mod:`dfdetect.data.transforms` (albumentations, seeded per training draw).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from dfdetect.data.adapters import IMAGE_EXTS
from dfdetect.modalities.base import MODALITIES, Modality


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

    def shortcut_properties(self, sample, path):
        """The crop's image properties, plus its source video's (``video_*``) when the video
        is still where prepare found it."""
        from dfdetect.data.probes import cached_video_properties

        out = super().shortcut_properties(sample, path)
        video = Path(sample.extra.get("video_path", ""))
        if video.is_absolute() and video.is_file():
            out.update({f"video_{k}": v for k, v in cached_video_properties(str(video)).items()})
        return out
