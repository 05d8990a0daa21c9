"""Image pipelines built with albumentations (resize, augment, normalise, to tensor).

The eval pipeline is fully described by the checkpoint's ``preprocessing`` dict
(``image_size``, ``mean``, ``std``), so ``predict`` rebuilds exactly what training used.
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np


def _albumentations():
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network check at import
    import albumentations as A
    from albumentations.pytorch import ToTensorV2

    return A, ToTensorV2


def eval_transform(preprocessing: dict) -> Callable[[np.ndarray], "object"]:
    """Resize to a square, normalise, CHW float tensor: (H, W, 3) uint8 -> (3, S, S)."""
    A, ToTensorV2 = _albumentations()
    size = int(preprocessing["image_size"])
    pipe = A.Compose([
        A.Resize(size, size),
        A.Normalize(mean=preprocessing["mean"], std=preprocessing["std"]),
        ToTensorV2(),
    ])
    return lambda image: pipe(image=image)["image"]


def train_transform(preprocessing: dict, augment: bool = True) -> Callable[[np.ndarray], "object"]:
    """Eval pipeline plus light augmentation (flip, small crop, colour jitter) when ``augment``."""
    if not augment:
        return eval_transform(preprocessing)
    A, ToTensorV2 = _albumentations()
    size = int(preprocessing["image_size"])
    pipe = A.Compose([
        A.RandomResizedCrop(size=(size, size), scale=(0.85, 1.0), ratio=(0.95, 1.05)),
        A.HorizontalFlip(p=0.5),
        A.ColorJitter(brightness=0.1, contrast=0.1, saturation=0.1, hue=0.02, p=0.5),
        A.Normalize(mean=preprocessing["mean"], std=preprocessing["std"]),
        ToTensorV2(),
    ])
    return lambda image: pipe(image=image)["image"]
