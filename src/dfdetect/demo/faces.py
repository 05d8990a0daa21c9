"""A tiny, offline, labelled face-forgery image set built from photos that installed packages ship.

Why this exists: the toolkit needs *some* real-vs-fake face images to smoke-test the whole
pipeline (prepare -> train -> evaluate -> predict -> export) on a machine with no network and no
licensed benchmark (FaceForensics++, DFDC, Celeb-DF ...). :func:`build_demo_faces` makes one in
about a second from real face photographs bundled with scikit-image and matplotlib:

* the 100 face crops of ``skimage.data.lfw_subset()`` (25x25 grey, Labeled Faces in the Wild),
  upsampled and given a mild per-identity skin tint;
* three large photos -- ``astronaut`` and ``camera`` (scikit-image) and ``grace_hopper.jpg``
  (matplotlib) -- whose face is found with an OpenCV Haar cascade; each gives several jittered
  square crops.

"Fake" images are a simple but genuine face swap: a face from a *different* identity is aligned
to the target's face box (small random affine), given a colour/brightness mismatch of random
strength, rendered at a lower resolution (as face-swap generators do) and pasted into the
target's inner face through a soft, blurred elliptical mask
(``out = mask * donor + (1 - mask) * target``). Fake ``k`` of an identity is built on exactly the
same jittered target as real ``k`` (as in FaceForensics++, where fakes are derived from the real
frames), so the two differ only around the face. Both classes go through the same JPEG encoder
at the same quality and size, so file format does not give the label away.

Be honest about what it is: a few hundred low-resolution images of ~100 people, with visible
blending seams and colour shifts. It is *easy* -- a good score on it proves the plumbing works,
not that a detector works on real deepfakes. ``group`` is the identity, so a target and its fakes
never straddle splits; ``split`` is left empty for the caller to fill.
"""
from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["build_demo_faces", "MANIFEST_COLUMNS", "PHOTO_CROPS", "JPEG_QUALITY"]

MANIFEST_COLUMNS = ("id", "path", "label", "split", "group", "source", "method", "modality")
#: every large photo contributes ``PHOTO_CROPS * variants`` reals and as many fakes
PHOTO_CROPS = 4
JPEG_QUALITY = 90
_N_LFW_FACES = 100  # lfw_subset(): first 100 are faces, last 100 are non-faces (unused)
# face box of an lfw_subset crop in its own 25x25 pixel grid: (centre x, centre y, side)
_LFW_FACE_25 = (12.0, 12.5, 21.0)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class _Identity:
    """One person: an RGB source image, where the face is in it and how to crop it."""

    group: str
    source: str
    image: np.ndarray  # uint8, H x W x 3, RGB
    face: tuple[float, float, float]  # centre x, centre y, side (pixels of ``image``)
    tint: np.ndarray | None  # set when ``image`` is a tinted grey photo
    context: tuple[float, float]  # crop side / face side, drawn uniformly per sample
    n_targets: int  # jittered targets per variant


def _random_tint(rng: np.random.Generator) -> np.ndarray:
    """A mild skin-tone RGB multiplier that keeps luminance (grey * tint has the same Y)."""
    base = np.array([1.0, 0.84 + rng.uniform(-0.05, 0.05), 0.70 + rng.uniform(-0.08, 0.08)])
    tint = 1.0 + rng.uniform(0.3, 0.7) * (base - 1.0)
    return (tint / float(_LUMA @ tint)).astype(np.float32)


def _apply_tint(grey: np.ndarray, tint: np.ndarray) -> np.ndarray:
    """Grey image (H x W, 0..255 float) -> tinted RGB float image."""
    return np.clip(grey[..., None].astype(np.float32) * tint, 0.0, 255.0)


def _lfw_identities(rng: np.random.Generator, size: int) -> list[_Identity]:
    """The 100 LFW faces, upsampled to ``size`` with cubic interpolation and tinted."""
    import cv2
    from skimage import data

    faces = data.lfw_subset()[:_N_LFW_FACES]
    k = size / 25.0
    face = (_LFW_FACE_25[0] * k, _LFW_FACE_25[1] * k, _LFW_FACE_25[2] * k)
    out = []
    for i, small in enumerate(faces):
        grey = cv2.resize((small * 255.0).astype(np.float32), (size, size),
                          interpolation=cv2.INTER_CUBIC)
        tint = _random_tint(rng)
        rgb = np.round(_apply_tint(grey, tint)).astype(np.uint8)
        out.append(_Identity(f"lfw_{i:03d}", "demo_lfw", rgb, face, tint, (1.1, 1.3), 1))
    return out


def _detect_face(grey: np.ndarray) -> tuple[float, float, float] | None:
    """Largest Haar-cascade face (frontal first, then profile either way) as (cx, cy, side)."""
    import cv2

    min_side = max(24, min(grey.shape) // 10)
    boxes: list[tuple[int, int, int, int]] = []
    frontal = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if not frontal.empty():
        boxes = [tuple(b) for b in frontal.detectMultiScale(grey, 1.1, 5, minSize=(min_side,) * 2)]
    if not boxes:  # e.g. skimage's cameraman is seen from the side
        profile = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_profileface.xml")
        if not profile.empty():
            w = grey.shape[1]
            boxes = [tuple(b) for b in profile.detectMultiScale(grey, 1.05, 3,
                                                                minSize=(min_side,) * 2)]
            boxes += [(w - x - bw, y, bw, bh) for x, y, bw, bh in profile.detectMultiScale(
                np.ascontiguousarray(grey[:, ::-1]), 1.05, 3, minSize=(min_side,) * 2)]
    if not boxes:
        return None
    x, y, bw, bh = max(boxes, key=lambda b: (b[2] * b[3], b))
    return (float(x + bw / 2.0), float(y + bh / 2.0), float(max(bw, bh)))


def _load_photos() -> list[tuple[str, str, np.ndarray]]:
    """(group, source, uint8 image) for the bundled large photos; camera stays grey (H x W)."""
    from matplotlib import cbook
    from PIL import Image
    from skimage import data

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        hopper = np.asarray(Image.open(fh).convert("RGB"))
    return [("astronaut", "demo_skimage", data.astronaut()),
            ("grace_hopper", "demo_matplotlib", hopper),
            ("camera", "demo_skimage", data.camera())]


def _photo_identities(rng: np.random.Generator, size: int) -> list[_Identity]:
    """Large photos, face located, rescaled so the face side is about ``0.8 * size``."""
    import cv2

    out = []
    for group, source, img in _load_photos():
        grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        face = _detect_face(grey)
        if face is None:
            # Detection failed: fall back to a fixed central box covering 40% of the short side.
            h, w = grey.shape
            face = ((w - 1) / 2.0, (h - 1) / 2.0, 0.4 * min(h, w))
        k = min(1.0, 0.8 * size / face[2])
        new_wh = (max(1, round(img.shape[1] * k)), max(1, round(img.shape[0] * k)))
        img = cv2.resize(img, new_wh, interpolation=cv2.INTER_AREA)
        face = (face[0] * k, face[1] * k, face[2] * k)
        tint = None
        if img.ndim == 2:  # grey photo: tint it like the LFW faces
            tint = _random_tint(rng)
            img = np.round(_apply_tint(img.astype(np.float32), tint)).astype(np.uint8)
        out.append(_Identity(group, source, img, face, tint, (1.3, 1.9), PHOTO_CROPS))
    return out


def _warp(image: np.ndarray, centre: tuple[float, float], scale: float, angle: float,
          dest: tuple[float, float], flip: bool, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Map ``centre`` of ``image`` to ``dest`` of a ``size`` x ``size`` output (scale, rotate,
    optional horizontal flip). Returns the float32 output and the 2x3 matrix used."""
    import cv2

    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle), float(scale))
    m[:, 2] += (dest[0] - centre[0], dest[1] - centre[1])
    if flip:
        m[0] = -m[0]
        m[0, 2] += size - 1
    interp = cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_LINEAR
    out = cv2.warpAffine(image, m, (size, size), flags=interp, borderMode=cv2.BORDER_REFLECT_101)
    return np.clip(out.astype(np.float32), 0.0, 255.0), m


def _jitter_crop(ident: _Identity, rng: np.random.Generator,
                 size: int) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A randomly shifted / scaled / flipped / brightened square face crop of ``ident``.
    Returns the float RGB crop and the face box (cx, cy, side) in crop pixels."""
    cx, cy, side = ident.face
    scale = size / (side * rng.uniform(*ident.context))
    centre = (cx + rng.uniform(-0.06, 0.06) * side, cy + rng.uniform(-0.06, 0.06) * side)
    flip = bool(rng.random() < 0.5)
    gain = rng.uniform(0.9, 1.1)
    mid = (size - 1) / 2.0
    crop, m = _warp(ident.image, centre, scale, 0.0, (mid, mid), flip, size)
    fx, fy = m @ np.array([cx, cy, 1.0])
    return np.clip(crop * gain, 0.0, 255.0), (float(fx), float(fy), side * scale)


def _align_donor(donor: _Identity, box: tuple[float, float, float],
                 rng: np.random.Generator, size: int) -> np.ndarray:
    """Warp ``donor``'s face onto the target face box with a small random affine."""
    cx, cy, side = donor.face
    scale = box[2] / side * rng.uniform(0.95, 1.05)
    angle = rng.uniform(-6.0, 6.0)
    dest = (box[0] + rng.uniform(-0.03, 0.03) * box[2], box[1] + rng.uniform(-0.03, 0.03) * box[2])
    flip = bool(rng.random() < 0.5)
    if flip:  # _warp mirrors the output, so aim at the mirrored destination
        dest = (size - 1 - dest[0], dest[1])
    aligned, _ = _warp(donor.image, (cx, cy), scale, angle, dest, flip, size)
    return aligned


def _face_mask(box: tuple[float, float, float], rng: np.random.Generator,
               size: int) -> np.ndarray:
    """Soft elliptical inner-face mask in [0, 1] (random ellipse size and blur radius)."""
    import cv2

    cx, cy, side = box
    cy += 0.05 * side  # inner face: eyebrows to chin, centred a little below the box centre
    axes = (side * rng.uniform(0.30, 0.38), side * rng.uniform(0.40, 0.48))
    mask = np.zeros((size, size), dtype=np.float32)
    fx = 16  # cv2.ellipse takes integer coordinates; shift=4 gives 1/16-pixel precision
    cv2.ellipse(mask, (round(cx * fx), round(cy * fx)), (round(axes[0] * fx), round(axes[1] * fx)),
                0.0, 0.0, 360.0, 1.0, thickness=-1, lineType=cv2.LINE_AA, shift=4)
    sigma = side * rng.uniform(0.04, 0.10)
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma, sigmaY=sigma)


def _colour_mismatch(donor: np.ndarray, target: np.ndarray, mask: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Move the donor's mean colour part of the way to the target's, then add a random
    brightness / per-channel offset and contrast change: the usual face-swap colour seam."""
    w = mask[..., None]
    total = float(w.sum()) + 1e-6
    d_mean = (donor * w).sum(axis=(0, 1)) / total
    t_mean = (target * w).sum(axis=(0, 1)) / total
    shift = rng.uniform(0.2, 0.9) * (t_mean - d_mean)
    shift = shift + rng.normal(0.0, 4.0, 3) + rng.choice([-1.0, 1.0]) * rng.uniform(4.0, 14.0)
    gain = rng.uniform(0.93, 1.07)
    return np.clip((donor - d_mean) * gain + d_mean + shift, 0.0, 255.0).astype(np.float32)


def _low_resolution(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Face-swap generators synthesise the face at a lower resolution than the frame and
    upsample it: down-scale by a random factor (1.5-3x) and back, leaving the swapped face
    softer than its surroundings (the resolution seam Face X-ray and SBI look for)."""
    import cv2

    h, w = face.shape[:2]
    f = rng.uniform(1.5, 3.0)
    small = cv2.resize(face, (max(8, round(w / f)), max(8, round(h / f))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def _face_swap(target: np.ndarray, box: tuple[float, float, float], target_id: _Identity,
               donor_id: _Identity, rng: np.random.Generator, size: int) -> np.ndarray:
    """Blend ``donor_id``'s aligned, colour-shifted face into ``target``'s inner face."""
    donor = _align_donor(donor_id, box, rng, size)
    donor = _low_resolution(donor, rng)
    if target_id.tint is not None:  # grey-origin target: re-tint the donor's luminance likewise
        donor = _apply_tint(donor @ _LUMA, target_id.tint)
    mask = _face_mask(box, rng, size)
    donor = _colour_mismatch(donor, target, mask, rng)
    w = mask[..., None]
    return w * donor + (1.0 - w) * target


def _write_jpeg(path: Path, rgb: np.ndarray, quality: int = JPEG_QUALITY) -> None:
    """Round, encode (same quality for every image of a set) and move an RGB float image into
    place atomically (a killed run leaves no half file)."""
    import cv2

    from dfdetect.io import atomic_write

    u8 = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path}")
    atomic_write(path, lambda fh: fh.write(buf.tobytes()))


def _row(label: str, stem: str, ident: _Identity) -> dict[str, str]:
    return {"id": f"{label}/{stem}", "path": f"images/{label}/{stem}.jpg", "label": label,
            "split": "", "group": ident.group, "source": ident.source,
            "method": "none" if label == "real" else "faceswap_blend", "modality": "image"}


def _write_manifest(path: Path, rows: list[dict[str, str]]) -> None:
    """Write the CSV next to its final place, then atomically move it there."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def build_demo_faces(out_dir: str | Path, *, size: int = 96, variants: int = 2,
                     seed: int = 0) -> Path:
    """Build the demo face-forgery set under ``out_dir`` and return ``out_dir/manifest.csv``.

    Writes ``images/real/<group>_<k>.jpg`` and ``images/fake/<group>_<k>.jpg``; fake ``k`` is
    real ``k`` with another identity's face blended in. Each LFW identity gives ``variants``
    reals and ``variants`` fakes, each large photo ``PHOTO_CROPS * variants`` of each. The same
    ``seed`` gives byte-identical files. Existing files with other names are left alone.
    """
    if size < 32:
        raise ValueError(f"size must be >= 32, got {size}")
    if variants < 1:
        raise ValueError(f"variants must be >= 1, got {variants}")
    out = Path(out_dir)
    for label in ("real", "fake"):
        (out / "images" / label).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    idents = _lfw_identities(rng, size) + _photo_identities(rng, size)
    rows: list[dict[str, str]] = []
    for i, ident in enumerate(idents):
        for k in range(variants * ident.n_targets):
            target, box = _jitter_crop(ident, rng, size)
            j = int(rng.integers(len(idents) - 1))
            donor = idents[j + (j >= i)]  # any identity but the target's own
            fake = _face_swap(target, box, ident, donor, rng, size)
            stem = f"{ident.group}_{k}"
            _write_jpeg(out / "images" / "real" / f"{stem}.jpg", target)
            _write_jpeg(out / "images" / "fake" / f"{stem}.jpg", fake)
            rows += [_row("real", stem, ident), _row("fake", stem, ident)]
    manifest = out / "manifest.csv"
    _write_manifest(manifest, rows)
    logger.info("demo faces: %d images (%d identities, size %d) -> %s",
                len(rows), len(idents), size, manifest)
    return manifest
