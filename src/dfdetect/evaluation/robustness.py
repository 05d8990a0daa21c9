"""Robustness sweep: re-score a split under JPEG re-compression, Gaussian blur and downscaling.

Why: detectors that key on high-frequency artefacts collapse after the re-encoding that every
upload pipeline applies; the sweep shows how far. A perturbation is applied to the decoded RGB
array before the checkpoint's own transform (so it hits every model of an ensemble alike).
Perturbations register by name with their default levels; ``robustness=jpeg:90/50,blur`` picks
levels explicitly. The functions are module-level partials so data-loader workers can pickle them.

Example::

    for name, level, fn in parse_sweep("jpeg,blur:2"):
        scorer.perturb = fn       # then score the split again
"""
from __future__ import annotations

import io
from functools import partial
from typing import Callable

import numpy as np

from dfdetect.config.loader import ConfigError
from dfdetect.registry import Registry

PERTURBATIONS: Registry = Registry("perturbation")
#: default levels of each perturbation (strongest last)
LEVELS = {"jpeg": (90, 70, 50, 30), "blur": (1.0, 2.0, 4.0), "resize": (0.5, 0.25)}


def _jpeg(image: np.ndarray, quality: float) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigmaX=float(sigma))


def _resize(image: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    size = (max(2, round(w * factor)), max(2, round(h * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@PERTURBATIONS.register("jpeg")
def jpeg(level: float) -> Callable[[np.ndarray], np.ndarray]:
    """Re-encode as JPEG at quality ``level`` (1-100)."""
    if not 1 <= level <= 100:
        raise ConfigError(f"robustness: jpeg quality must be 1-100, got {level}")
    return partial(_jpeg, quality=level)


@PERTURBATIONS.register("blur")
def blur(level: float) -> Callable[[np.ndarray], np.ndarray]:
    """Gaussian blur with standard deviation ``level`` pixels."""
    if level <= 0:
        raise ConfigError(f"robustness: blur sigma must be positive, got {level}")
    return partial(_blur, sigma=level)


@PERTURBATIONS.register("resize")
def resize(level: float) -> Callable[[np.ndarray], np.ndarray]:
    """Downscale by ``level`` (0.5 = half the side); the model's resize then upsamples it."""
    if not 0 < level < 1:
        raise ConfigError(f"robustness: resize factor must be between 0 and 1, got {level}")
    return partial(_resize, factor=level)


def parse_sweep(spec: str) -> list[tuple[str, float, Callable[[np.ndarray], np.ndarray]]]:
    """``"jpeg,blur:1/3"`` -> [(name, level, perturb), ...] with default levels where omitted."""
    out = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, levels = part.partition(":")
        factory = PERTURBATIONS.resolve(name.strip())[0]
        try:
            values = [float(v) for v in levels.split("/")] if levels else list(LEVELS[name])
        except ValueError:
            raise ConfigError(f"robustness: levels of {name} must be numbers separated by /, "
                              f"got '{levels}'") from None
        out += [(name, v, factory(v)) for v in values]
    return out
