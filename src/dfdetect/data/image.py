"""Images: decoding, the image modality handler, and the dataset shared by every modality.

A file that cannot be decoded is logged to the failure log and skipped.

Batch contract shared by every model and metric: ``{"input": (B, 3, H, W) float, "target": (B,)
long, "index": (B,) long}`` where ``index`` points back into the manifest's rows.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from torch.utils.data import Dataset, default_collate

from dfdetect.data.manifest import LABEL_INDEX, Manifest
from dfdetect.data.modality import HANDLERS
from dfdetect.failures import FailureLog


class DecodeError(ValueError):
    """A media file that cannot be read; the message names the file and the reason."""


def load_image(path) -> np.ndarray:
    """Decode an image to (H, W, 3) uint8 RGB, or raise :class:`DecodeError`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            rgb = im.convert("RGB")
    except FileNotFoundError:
        raise DecodeError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise DecodeError(f"{path}: cannot decode image ({e})") from None
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise DecodeError(f"{path}: unusable image shape {arr.shape}")
    return arr


class ImageHandler:
    """Images (and face-crop frames): decode with PIL, albumentations pipelines."""

    name = "image"

    def preprocessing(self, data_cfg, model) -> dict:
        from dfdetect.models import preprocessing_of

        return {"modality": "image", "image_size": int(data_cfg.image_size),
                **preprocessing_of(model)}

    def load(self, path, preprocessing: dict | None = None) -> np.ndarray:
        return load_image(path)

    def train_transform(self, preprocessing: dict, augment: bool) -> Callable:
        from dfdetect.data.transforms import train_transform

        return train_transform(preprocessing, augment)

    def eval_transform(self, preprocessing: dict) -> Callable:
        from dfdetect.data.transforms import eval_transform

        return eval_transform(preprocessing)


HANDLERS.register("image")(ImageHandler)
HANDLERS.register("frame")(ImageHandler)


class MediaDataset(Dataset):
    """Rows of a manifest as transformed tensors; undecodable rows yield ``None``."""

    def __init__(self, manifest: Manifest, load: Callable, transform: Callable,
                 failures: FailureLog | None = None, stage: str = "load") -> None:
        self.manifest = manifest
        self.load = load
        self.transform = transform
        self.failures = failures or FailureLog()
        self.stage = stage

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, i: int) -> dict | None:
        sample = self.manifest.samples[i]
        path = self.manifest.resolve(sample)
        try:
            raw = self.load(path)
        except DecodeError as e:
            self.failures.record(path, self.stage, str(e).split(": ", 1)[-1])
            return None
        target = LABEL_INDEX.get(sample.label, -1)
        return {"input": self.transform(raw), "target": target, "index": i}


def collate_skip_none(batch: list[dict | None]) -> dict | None:
    """Default collate after dropping failed items; an all-failed batch becomes ``None``."""
    items = [b for b in batch if b is not None]
    if not items:
        return None
    out = default_collate(items)
    out["target"] = out["target"].long()
    return out
