"""Image decoding: a file -> (H, W, 3) uint8 RGB, or :class:`DecodeError` naming the file.

The image modality (:mod:`dfdetect.modalities.image`) composes this with the albumentations
pipelines of :mod:`dfdetect.data.transforms`.
"""
from __future__ import annotations

import numpy as np

# compatibility: DecodeError, MediaDataset and collate_skip_none used to live here
from dfdetect.data.media import DecodeError, MediaDataset, collate_skip_none  # noqa: F401


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
