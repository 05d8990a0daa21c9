"""Image decoding: a file -> (H, W, 3) uint8 RGB, or :class:`DecodeError` naming the file.

Untrusted files: only regular files are opened (:func:`dfdetect.io.not_regular`); the pixel
count is read from the header and checked against ``max_image_pixels``
(:func:`dfdetect.io.limit`) before anything is decoded; 16-bit images are scaled to 8 bits
(not clipped to white); float images (32-bit TIFF) in [0, 1] are scaled by 255, others clipped
to [0, 255]; an image holding NaN or infinite values is a :class:`DecodeError`.

The image modality (:mod:`dfdetect.modalities.image`) composes this with the albumentations
pipelines of :mod:`dfdetect.data.transforms`.
"""
from __future__ import annotations

import numpy as np

# compatibility: DecodeError, MediaDataset and collate_skip_none used to live here
from dfdetect.data.media import DecodeError, MediaDataset, collate_skip_none  # noqa: F401


def _to_rgb8(im, path) -> np.ndarray:
    """(H, W, 3) uint8 from any PIL mode: 16-bit and 32-bit integer images scaled by their
    bit depth, float images checked for NaN / inf and scaled, everything else through PIL."""
    if im.mode not in ("I", "F") and not im.mode.startswith("I;16"):
        return np.asarray(im.convert("RGB"))
    arr = np.asarray(im)
    if im.mode == "F":
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            raise DecodeError(f"{path}: image contains NaN or infinite values")
        arr = arr * 255.0 if arr.size and arr.min() >= 0 and arr.max() <= 1.0 else arr
    else:  # 16-bit (I;16*) or 32-bit integers holding 16-bit samples (PIL's I for 16-bit PNG)
        arr = arr.astype(np.float64)
        arr = arr / 257.0 if arr.size and arr.max() <= 65535 else arr / 16843009.0
    gray = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1) if gray.ndim == 2 else gray


def _check_size(im, path) -> None:
    from dfdetect.io import limit

    w, h = im.size
    if w * h > limit("max_image_pixels"):
        raise DecodeError(f"{path}: image of {w}x{h} pixels is above max_image_pixels "
                          f"({int(limit('max_image_pixels'))}; raise it with "
                          "DFDETECT_MAX_IMAGE_PIXELS)")


def load_image(path) -> np.ndarray:
    """Decode an image to (H, W, 3) uint8 RGB, or raise :class:`DecodeError`."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    from dfdetect.io import not_regular

    why = not_regular(path)
    if why:
        raise DecodeError(f"{path}: {why}")
    try:
        with warnings.catch_warnings():  # the size is checked below, from the header
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                _check_size(im, path)
                im.load()
                arr = _to_rgb8(im, path)
    except FileNotFoundError:
        raise DecodeError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            SyntaxError, EOFError) as e:
        if isinstance(e, DecodeError):
            raise
        raise DecodeError(f"{path}: cannot decode image ({e})") from None
    if arr.ndim != 3 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise DecodeError(f"{path}: unusable image shape {arr.shape}")
    return arr
