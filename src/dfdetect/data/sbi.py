"""Self-blended pseudo-fakes (``pseudo_fakes=sbi``), written from the paper's description.

Shiohara and Yamasaki, "Detecting Deepfakes with Self-Blended Images", CVPR 2022: a detector
trained only on real faces learns generic blending artefacts if each real face is blended with a
slightly altered copy of itself. The recipe, as the paper describes it:

1. **Source-target generation**: copy the face twice; give one copy (the source) colour changes
   (RGB and HSV shifts, brightness/contrast) and a frequency change (blur, sharpen, or down-then-up
   sampling), then a small resize and translation, so the two copies disagree slightly in colour,
   sharpness and alignment.
2. **Mask generation**: the convex hull of the facial landmarks, deformed (elastic warp) and
   blurred (Gaussian, random kernels) so its edge varies from blend to blend.
3. **Blending**: ``I = source * (r M) + target * (1 - r M)`` with a blend ratio ``r`` drawn from
   {0.25, 0.5, 0.75, 1, 1, 1}.

Landmarks come from ``prepare``'s manifest columns
:data:`dfdetect.data.manifest.LANDMARK_COLUMNS` (``lm1_x, lm1_y, ..., lm5_x, lm5_y``: 5 points in
the pixels of the crop file, the image this module blends). Five points cover only the eyes,
nose and mouth, so their hull is enlarged around its centre. Without landmarks (or with points
outside the image) the mask is an ellipse inside the face box (the crop); :class:`SelfBlend`
counts which mask each blend used. All randomness comes from the ``numpy.random.Generator``
passed in, so a blend is reproducible.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from dfdetect.data.manifest import LANDMARK_COLUMNS

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)


def landmarks_of(extra: dict) -> np.ndarray | None:
    """(5, 2) landmark pixels from a manifest row's extra columns, or None if absent/blank."""
    try:
        values = [float(extra[c]) for c in LANDMARK_COLUMNS]
    except (KeyError, ValueError, TypeError):
        return None
    pts = np.asarray(values, dtype=np.float32).reshape(5, 2)
    return pts if np.isfinite(pts).all() else None


def hull_mask(shape: tuple[int, int], points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Filled convex hull of ``points`` enlarged 1.3-1.7x about its centre: (H, W) float32."""
    import cv2

    h, w = shape
    centre = points.mean(0, keepdims=True)
    grown = centre + (points - centre) * rng.uniform(1.3, 1.7, size=(1, 2))
    grown[:, 1] += (grown[:, 1].max() - grown[:, 1].min()) * 0.1  # reach a little down the chin
    hull = cv2.convexHull(np.round(grown).astype(np.int32))
    mask = np.zeros((h, w), np.float32)
    cv2.fillConvexPoly(mask, hull, 1.0)
    return mask


def ellipse_mask(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An ellipse inside the face box (the whole crop), jittered: (H, W) float32."""
    import cv2

    h, w = shape
    centre = (int(w * rng.uniform(0.46, 0.54)), int(h * rng.uniform(0.5, 0.58)))
    axes = (max(1, int(w * rng.uniform(0.28, 0.38))), max(1, int(h * rng.uniform(0.34, 0.44))))
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1)
    return mask


def deform_mask(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Elastic warp (smooth random displacement) then two random Gaussian blurs."""
    import cv2

    h, w = mask.shape
    grid = 4
    amp = 0.04 * min(h, w)
    dx = cv2.resize(rng.uniform(-amp, amp, (grid, grid)).astype(np.float32), (w, h))
    dy = cv2.resize(rng.uniform(-amp, amp, (grid, grid)).astype(np.float32), (w, h))
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(mask, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    for _ in range(2):
        k = int(rng.integers(1, max(2, min(h, w) // 8))) * 2 + 1
        out = cv2.GaussianBlur(out, (k, k), 0)
    peak = out.max()
    return out / peak if peak > 0 else out


def _colour(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """RGB shift, HSV shift and brightness/contrast on a float32 RGB image in [0, 255]."""
    import cv2

    out = img + rng.uniform(-20, 20, size=3)
    hsv = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv += rng.uniform([-10, -30, -20], [10, 30, 20])
    hsv[..., 0] %= 180
    out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    alpha, beta = rng.uniform(0.9, 1.1), rng.uniform(-10, 10)
    return out * alpha + beta


def _frequency(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of: Gaussian blur, sharpening, or down-then-up sampling."""
    import cv2

    h, w = img.shape[:2]
    kind = int(rng.integers(3))
    if kind == 0:
        return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
    if kind == 1:
        soft = cv2.GaussianBlur(img, (0, 0), 1.0)
        return img + rng.uniform(0.3, 1.0) * (img - soft)
    f = rng.uniform(0.4, 0.8)
    small = cv2.resize(img, (max(2, int(w * f)), max(2, int(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _misalign(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small resize (per axis) and translation, keeping the frame size."""
    import cv2

    h, w = img.shape[:2]
    sx, sy = rng.uniform(0.95, 1.05, size=2)
    tx, ty = rng.uniform(-0.03, 0.03, size=2) * (w, h)
    m = np.float32([[sx, 0, (1 - sx) * w / 2 + tx], [0, sy, (1 - sy) * h / 2 + ty]])
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT_101)


def self_blend(image: np.ndarray, landmarks: np.ndarray | None,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``image`` (H, W, 3) uint8 with a transformed copy of itself; returns (image, mask)."""
    base = image.astype(np.float32)
    source = _misalign(_frequency(_colour(base, rng), rng), rng)
    target = base
    if rng.random() < 0.5:  # the paper transforms either copy; the blend direction varies too
        source, target = target, source
    shape = image.shape[:2]
    mask = hull_mask(shape, landmarks, rng) if landmarks is not None else ellipse_mask(shape, rng)
    mask = deform_mask(mask, rng) * float(rng.choice(BLEND_RATIOS))  # (H, W)
    out = source * mask[..., None] + target * (1 - mask[..., None])
    return np.clip(out, 0, 255).astype(np.uint8), mask


def inside(points: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether every point lies in an image of ``shape`` (landmarks in the crop's pixels)."""
    h, w = shape[:2]
    return bool((points[:, 0] >= 0).all() and (points[:, 0] < w).all()
                and (points[:, 1] >= 0).all() and (points[:, 1] < h).all())


class SelfBlend:
    """``(image, extra columns, rng) -> pseudo-fake image`` for the training dataset.

    ``masks`` counts the masks this instance made (``landmarks``: the landmark hull;
    ``ellipse``: no usable landmarks), per process."""

    def __init__(self) -> None:
        self.masks: Counter = Counter()

    def __call__(self, image: np.ndarray, extra: dict, rng: np.random.Generator) -> np.ndarray:
        points = landmarks_of(extra)
        if points is not None and not inside(points, image.shape):
            points = None  # not in this image's pixels: a hull there would miss the face
        self.masks["landmarks" if points is not None else "ellipse"] += 1
        return self_blend(image, points, rng)[0]


def _registry():
    from dfdetect.registry import Registry

    reg: Registry = Registry("pseudo-fake method")
    reg.register("sbi")(SelfBlend)
    return reg


def build_pseudo_fakes(name: str):
    """The pseudo-fake maker ``pseudo_fakes=<name>`` asks for (None for an empty name)."""
    return _registry().build(name) if name else None
