"""Short H.264 clips made offline: a face photo with camera motion, for the demo and the tests.

Why: the video path (sampling, detection, cropping) must be exercised end to end without any
dataset or network, so clips are rendered from photographs that installed packages ship.

Example::

    frames = moving_face_frames(astronaut_face(), n=16, size=(96, 80), seed=0)
    write_video("clip.mp4", frames, fps=25, gop=8)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: int = 25,
                gop: int = 0, rotation: int = 0, crf: int = 23, faststart: bool = False) -> Path:
    """Encode RGB frames (H, W, 3) as H.264 in an MP4; ``gop`` sets the keyframe interval
    (0: x264's default), ``rotation`` stores display rotation metadata (counter-clockwise),
    ``faststart`` puts the index before the data (as streaming sites do)."""
    import av

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    frames = iter(frames)
    first = next(frames)
    h, w = first.shape[:2]
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(out), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = w - w % 2, h - h % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "ultrafast"}
        if gop:
            stream.codec_context.gop_size = gop
            stream.options = {**stream.options, "x264-params": f"keyint={gop}:min-keyint={gop}"}
        if rotation:
            stream.set_display_rotation(rotation)
        for rgb in _chain(first, frames):
            img = np.ascontiguousarray(rgb[: stream.height, : stream.width])
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out


def _chain(first, rest):
    yield first
    yield from rest


def astronaut_face(size: int = 200) -> np.ndarray:
    """The head-and-shoulders region of scikit-image's astronaut photo (a clear frontal face)."""
    import cv2
    from skimage import data

    img = data.astronaut()[10:250, 110:350]
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def moving_face_frames(face: np.ndarray, n: int = 16, size: Sequence[int] = (96, 80),
                       seed: int = 0, zoom: float = 0.15) -> list[np.ndarray]:
    """``n`` frames of ``size`` (W, H): the photo on a grey background with a slow pan and zoom
    (camera motion and scale change), so a detector sees the face move between frames."""
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    base = int(min(w, h) * 0.8)
    dx, dy = rng.uniform(-0.1, 0.1, 2) * min(w, h)
    frames = []
    for i in range(n):
        t = i / max(1, n - 1)
        side = max(8, int(base * (1.0 + zoom * t)))
        canvas = np.full((h, w, 3), 128, np.uint8)
        patch = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        x = int((w - side) / 2 + dx * t)
        y = int((h - side) / 2 + dy * t)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(w, x + side), min(h, y + side)
        canvas[y0:y1, x0:x1] = patch[y0 - y:y1 - y, x0 - x:x1 - x]
        frames.append(canvas)
    return frames
