"""Image dataset over a manifest; a file that cannot be decoded is logged and skipped.

Batch contract shared by every model and metric: ``{"image": (B, 3, H, W) float, "target": (B,)
long, "index": (B,) long}`` where ``index`` points back into the manifest's rows.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from torch.utils.data import Dataset, default_collate

from dfdetect.data.manifest import LABEL_INDEX, Manifest
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


class ImageDataset(Dataset):
    """Rows of a manifest as transformed tensors; undecodable rows yield ``None``."""

    def __init__(self, manifest: Manifest, transform: Callable,
                 failures: FailureLog | None = None, stage: str = "load") -> None:
        self.manifest = manifest
        self.transform = transform
        self.failures = failures or FailureLog()
        self.stage = stage

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, i: int) -> dict | None:
        sample = self.manifest.samples[i]
        path = self.manifest.resolve(sample)
        try:
            image = load_image(path)
        except DecodeError as e:
            self.failures.record(path, self.stage, str(e).split(": ", 1)[-1])
            return None
        target = LABEL_INDEX.get(sample.label, -1)
        return {"image": self.transform(image), "target": target, "index": i}


def collate_skip_none(batch: list[dict | None]) -> dict | None:
    """Default collate after dropping failed items; an all-failed batch becomes ``None``."""
    items = [b for b in batch if b is not None]
    if not items:
        return None
    out = default_collate(items)
    out["target"] = out["target"].long()
    return out


def empty_batch_guard(batch: dict | None) -> bool:
    """True when a batch has nothing to compute on (every file in it failed)."""
    return batch is None or batch["image"].shape[0] == 0

