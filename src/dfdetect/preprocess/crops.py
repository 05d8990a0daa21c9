"""Square face crops: geometry, resizing and content-addressed JPEG files.

The crop is a square around the face box, ``margin`` of the box's longer side added on every
side, shifted (never squashed) to stay inside the frame, and shrunk only when the frame itself is
smaller. Keeping it square means resizing to ``image_size`` never distorts the face. File names
are the hash of the JPEG bytes, so re-running writes identical files under identical names and
a half-written file can never be mistaken for a finished one (writes are atomic).

Example::

    x0, y0, side = square_box(face.box, margin=0.2, width=640, height=480)
    crop = cut(rgb, (x0, y0, side), image_size=224)          # (224, 224, 3)
    name = write_jpeg(crop, "out/crops/video_1", quality=95)  # "3f9c...e1.jpg"
"""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np

from dfdetect.io import atomic_write


def square_box(box, margin: float, width: int, height: int) -> tuple[int, int, int]:
    """(x0, y0, side) of the square crop for face ``box`` (x0, y0, x1, y1) in a frame."""
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * margin)
    side = int(round(min(max(side, 1.0), width, height)))
    left = int(round(cx - side / 2.0))
    top = int(round(cy - side / 2.0))
    left = min(max(left, 0), width - side)
    top = min(max(top, 0), height - side)
    return left, top, side


def cut(rgb: np.ndarray, square: tuple[int, int, int], image_size: int) -> np.ndarray:
    """The square region resized to ``image_size`` (area interpolation when shrinking)."""
    import cv2

    x0, y0, side = square
    region = rgb[y0:y0 + side, x0:x0 + side]
    interp = cv2.INTER_AREA if side > image_size else cv2.INTER_CUBIC
    return cv2.resize(region, (image_size, image_size), interpolation=interp)


def to_crop_coords(points: np.ndarray, square: tuple[int, int, int], image_size: int) -> np.ndarray:
    """Map frame pixel coordinates (..., 2) into the resized crop's pixels."""
    x0, y0, side = square
    return (np.asarray(points, float) - [x0, y0]) * (image_size / side)


def encode_jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    """JPEG bytes of an RGB array."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def write_jpeg(rgb: np.ndarray, folder: str | os.PathLike, quality: int = 95) -> str:
    """Write the crop as ``<sha1 of the bytes>.jpg`` in ``folder``; returns the file name."""
    data = encode_jpeg(rgb, quality)
    name = hashlib.sha1(data).hexdigest()[:20] + ".jpg"
    target = Path(folder) / name
    if not target.exists():
        atomic_write(target, lambda f: f.write(data))
    return name
