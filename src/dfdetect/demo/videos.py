"""The demo's video part: a handful of short H.264 clips rendered from the demo's face photos.

Why: so the embedded default (``dfdetect demo``) exercises the whole video path -- decoding,
sampling, face detection, cropping -- offline. Each large photo (astronaut, Grace Hopper, camera
man) gives real clips with camera motion (a pan and a scale change) and, on the same motion, fake
clips whose face is swapped with another identity's **frame by frame** (the blend of
:mod:`dfdetect.demo.faces`, with the same swap parameters in every frame so the fake does not
flicker). Both classes go through the same H.264 encoder.

Example::

    videos = render_demo_videos("runs/demo/data", size=128, frames=12, seed=0)
    # [Sample(id="video/real/astronaut_0", modality="video", group="astronaut", ...), ...]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dfdetect.data.manifest import Sample


def _motion(n: int, rng: np.random.Generator) -> list[tuple[float, float, float]]:
    """Per-frame (dx, dy, zoom) of a slow pan and a scale change."""
    pan = rng.uniform(-0.12, 0.12, 2)
    zoom = rng.uniform(0.15, 0.3) * rng.choice([-1.0, 1.0])
    return [(pan[0] * t, pan[1] * t, 1.0 + zoom * t) for t in np.linspace(0.0, 1.0, n)]


def _frame(ident, motion, size: int):
    """One camera frame of ``ident`` and its face box (cx, cy, side) in frame pixels."""
    from dfdetect.demo.faces import _warp

    cx, cy, side = ident.face
    dx, dy, zoom = motion
    scale = size / (side * 1.8) * zoom
    centre = (cx + dx * side, cy + dy * side)
    mid = (size - 1) / 2.0
    img, m = _warp(ident.image, centre, scale, 0.0, (mid, mid), False, size)
    fx, fy = m @ np.array([cx, cy, 1.0])
    return img, (float(fx), float(fy), side * scale)


def render_demo_videos(out_dir: str | Path, *, size: int = 128, frames: int = 12,
                       clips_per_identity: int = 1, seed: int = 0) -> list[Sample]:
    """Write ``videos/{real,fake}/<identity>_<k>.mp4`` under ``out_dir``; returns their rows
    (group = identity, as in the demo's images, so one split holds an identity's images and
    clips)."""
    from dfdetect.demo.clips import write_video
    from dfdetect.demo.faces import _face_swap, _photo_identities

    rng = np.random.default_rng(seed)
    idents = _photo_identities(rng, size)
    base = Path(out_dir)
    rows = []
    for i, ident in enumerate(idents):
        donor = idents[(i + 1) % len(idents)]
        for k in range(clips_per_identity):
            motion = _motion(frames, rng)
            swap_seed = int(rng.integers(1 << 31))
            real, fake = [], []
            for mv in motion:
                img, box = _frame(ident, mv, size)
                real.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
                swapped = _face_swap(img, box, ident, donor, np.random.default_rng(swap_seed),
                                     size)
                fake.append(np.clip(np.round(swapped), 0, 255).astype(np.uint8))
            stem = f"{ident.group}_{k}"
            for label, clip in (("real", real), ("fake", fake)):
                rel = f"videos/{label}/{stem}.mp4"
                write_video(base / rel, clip, fps=25, gop=6)
                rows.append(Sample(id=f"video/{label}/{stem}", path=rel, label=label,
                                   group=ident.group, source=ident.source,
                                   method="none" if label == "real" else "faceswap_blend",
                                   modality="video"))
    return rows
