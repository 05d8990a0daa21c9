"""Image pipelines built with albumentations (resize, augment, normalise, to tensor).

The eval pipeline is fully described by the checkpoint's ``preprocessing`` dict
(``image_size``, ``mean``, ``std``), so ``predict`` rebuilds exactly what training used. The
training pipeline is built from the ``augment`` config section (flip, rotation, JPEG quality
range, colour jitter, blur, downscale, each with a probability).

Pipelines are :class:`Pipeline` objects: ``pipe(image, seed=...)`` draws the augmentation from
that seed, so the training sampler can give every draw its own seed and a resumed run augments
exactly as an uninterrupted one (albumentations ignores the global random state).
"""
from __future__ import annotations

import os

import numpy as np


def _albumentations():
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network check at import
    import albumentations as A
    from albumentations.pytorch import ToTensorV2

    return A, ToTensorV2


class Pipeline:
    """An albumentations ``Compose`` that returns the image tensor; reseeded per call if asked."""

    seeded = True  # DrawDataset passes the draw's seed

    def __init__(self, compose) -> None:
        self.compose = compose

    def __call__(self, image: np.ndarray, seed: int | None = None):
        if seed is not None:
            self.compose.set_random_seed(int(seed))
        return self.compose(image=image)["image"]  # (3, S, S) float


def _pair(text: str, key: str, cast=float) -> tuple:
    from dfdetect.config.loader import ConfigError

    try:
        lo, hi = (cast(v) for v in str(text).split(","))
    except ValueError:
        raise ConfigError(f"augment.{key}='{text}': expected two numbers like 0.5,0.9") from None
    return (lo, hi) if lo <= hi else (hi, lo)


def _options(augment) -> dict:
    """``augment`` as a dict: True -> the config defaults; an AugmentConfig or dict as given."""
    import dataclasses

    from dfdetect.config.schema import AugmentConfig

    if augment is True:
        return dataclasses.asdict(AugmentConfig())
    if dataclasses.is_dataclass(augment):
        return dataclasses.asdict(augment)
    return {**dataclasses.asdict(AugmentConfig()), **dict(augment)}


def augmentations(o: dict, size: int) -> list:
    """The albumentations steps an ``augment`` section asks for (probability 0 = left out)."""
    import cv2

    A, _ = _albumentations()
    crop = _pair(o["crop_scale"], "crop_scale")
    steps = [A.RandomResizedCrop(size=(size, size), scale=crop, ratio=(0.95, 1.05))
             if crop != (1.0, 1.0) else A.Resize(size, size)]
    if o["hflip_p"] > 0:
        steps.append(A.HorizontalFlip(p=o["hflip_p"]))
    if o["rotate_p"] > 0:
        steps.append(A.Rotate(limit=o["rotate_limit"], border_mode=cv2.BORDER_REFLECT_101,
                              p=o["rotate_p"]))
    if o["jitter_p"] > 0:
        j = o["jitter"]
        steps.append(A.ColorJitter(brightness=j, contrast=j, saturation=j, hue=min(0.5, j / 5),
                                   p=o["jitter_p"]))
    if o["blur_p"] > 0:
        k = max(3, int(o["blur_limit"]) | 1)
        steps.append(A.GaussianBlur(blur_limit=(3, k), p=o["blur_p"]))
    if o["downscale_p"] > 0:
        steps.append(A.Downscale(scale_range=_pair(o["downscale_range"], "downscale_range"),
                                 p=o["downscale_p"]))
    if o["jpeg_p"] > 0:
        steps.append(A.ImageCompression(
            quality_range=_pair(o["jpeg_quality"], "jpeg_quality", int), p=o["jpeg_p"]))
    return steps


def eval_transform(preprocessing: dict) -> Pipeline:
    """Resize to a square, normalise, CHW float tensor: (H, W, 3) uint8 -> (3, S, S)."""
    A, ToTensorV2 = _albumentations()
    size = int(preprocessing["image_size"])
    return Pipeline(A.Compose([
        A.Resize(size, size),
        A.Normalize(mean=preprocessing["mean"], std=preprocessing["std"]),
        ToTensorV2(),
    ]))


def train_transform(preprocessing: dict, augment=True) -> Pipeline:
    """Eval pipeline plus the augmentations ``augment`` asks for (bool, AugmentConfig or dict)."""
    if not augment:
        return eval_transform(preprocessing)
    A, ToTensorV2 = _albumentations()
    size = int(preprocessing["image_size"])
    return Pipeline(A.Compose([
        *augmentations(_options(augment), size),
        A.Normalize(mean=preprocessing["mean"], std=preprocessing["std"]),
        ToTensorV2(),
    ]))
