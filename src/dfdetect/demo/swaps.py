"""A face-swap fake set built from a set's own real photos (the demo's generator, full size).

Why: a detector trained on one kind of forgery must be tested on another to show it learnt the
forgery rather than the fake set's look (issue 10, ``bench/quality.py``). Real sets with a single
generator, such as ``faces_flux`` (diffusion portraits), get a second, different one here: for
every real photo a face of *another* identity (a real photo of a different ``group``) is
aligned to the photo's face box, softened (rendered at a lower resolution), given a colour
mismatch and blended into the inner face through a soft elliptical mask -- exactly the demo's
generator (:func:`dfdetect.demo.faces._face_swap`), applied at the photo's own resolution.

Fake ``k`` is built on real ``k`` itself (as FaceForensics++ derives its fakes from the real
frames), so the pair differs only inside the face, and both are JPEG files of the same quality:
the real photo as it is (already JPEG) and the swap encoded once more at :data:`SWAP_JPEG_QUALITY`.

Example::

    manifest = build_swap_set("../shared/data/faces_flux/labels.csv", "cache/swaps", seed=0)
    # cache/swaps/manifest.csv: every real row (absolute paths) + one swap fake per real
"""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["build_swap_set", "face_box", "SWAP_JPEG_QUALITY", "SWAP_METHOD"]

#: quality of the swap JPEGs (faces_flux's files are q92)
SWAP_JPEG_QUALITY = 92
SWAP_METHOD = "faceswap_blend"
#: smallest face detection kept, as a share of the photo's short side
MIN_FACE_SHARE = 0.3


def face_box(rgb: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, side) of the largest Haar face. The photos are face crops, so a
    detection smaller than :data:`MIN_FACE_SHARE` of the short side (an ear, a collar) or none
    gives a central box half the short side wide, a little above the centre."""
    import cv2

    from dfdetect.demo.faces import _detect_face

    h, w = rgb.shape[:2]
    box = _detect_face(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    if box is not None and box[2] >= MIN_FACE_SHARE * min(h, w):
        return box
    return ((w - 1) / 2.0, 0.43 * (h - 1), 0.5 * min(h, w))


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _identity(group: str, source: str, rgb: np.ndarray, box: tuple[float, float, float]):
    from dfdetect.demo.faces import _Identity

    return _Identity(group, source, rgb, box, None, (1.0, 1.0), 1)


def _write(path: Path, rgb: np.ndarray) -> None:
    from dfdetect.demo.faces import _write_jpeg

    _write_jpeg(path, rgb, SWAP_JPEG_QUALITY)


def build_swap_set(real_manifest: str | Path, out_dir: str | Path, seed: int = 0,
                   donors: dict[str, list[str]] | None = None) -> Path:
    """Write one face-swap fake per real row of ``real_manifest`` (a dfdetect manifest or a
    labels CSV) into ``out_dir/images`` and ``out_dir/manifest.csv`` (the real rows, their files
    left where they are, plus the swaps; ``group``/``source`` copied from the real photo, which
    keeps a real photo and its swap on the same side of any group split). The donor of each swap
    is a real photo of another group, drawn with ``seed``; the same inputs and seed give the same
    files. ``donors`` limits the donor groups of each group (``{"a": ["b"], "b": ["a"]}``): with
    identities held out for testing, donors from the held-out identities only keep the faces a
    model was trained on out of the test swaps (otherwise "a face I saw in training" reads as
    real). Returns the manifest path.
    """
    from dfdetect.data.load import open_dataset
    from dfdetect.data.manifest import Manifest, ManifestError, Sample, write_manifest
    from dfdetect.demo.faces import _face_swap

    source = open_dataset(str(real_manifest), keep_unsplit=True)
    reals = [s for s in source.samples if s.label == "real"]
    groups = sorted({s.group for s in reals})
    if len(groups) < 2:
        raise ManifestError(f"{real_manifest}: a face swap needs real photos of at least two "
                            f"groups (identities); found {len(groups)}")
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    boxes: dict[str, tuple[float, float, float]] = {}  # donors recur: detect once

    def ident(s: Sample):
        rgb = _read_rgb(source.resolve(s))
        if s.id not in boxes:
            boxes[s.id] = face_box(rgb)
        return _identity(s.group, s.source, rgb, boxes[s.id])

    by_group = {g: [s for s in reals if s.group == g] for g in groups}
    rows: list[Sample] = []
    for s in reals:
        others = [g for g in (donors or {}).get(s.group, groups) if g != s.group and g in by_group]
        if not others:
            raise ManifestError(f"{real_manifest}: no donor group for '{s.group}' "
                                f"(donors={donors})")
        donor_group = others[int(rng.integers(len(others)))]
        donor = by_group[donor_group][int(rng.integers(len(by_group[donor_group])))]
        stem = Path(s.path).stem
        dest = out / "images" / f"{stem}.jpg"
        pair_rng = np.random.default_rng([seed, len(rows)])  # same swap whatever came before
        target = ident(s)
        size = target.image.shape[0]
        if target.image.shape[1] != size:
            raise ManifestError(f"{source.resolve(s)}: the swap generator needs square photos, "
                                f"got {target.image.shape[1]}x{size}")
        fake = _face_swap(target.image.astype(np.float32), target.face, target,
                          _fit(ident(donor), size), pair_rng, size)
        _write(dest, fake)
        real = replace(s, path=str(source.resolve(s).resolve()), split="", extra={})
        rows += [real, Sample(id=f"swap/{stem}", path=f"images/{stem}.jpg", label="fake",
                              group=s.group, source=s.source, method=SWAP_METHOD,
                              modality=s.modality)]
    manifest = out / "manifest.csv"
    write_manifest(Manifest(rows, out.resolve(), "swaps"), manifest)
    logger.info("face swaps: %d fakes from %d real photos of %d groups -> %s",
                len(rows) // 2, len(reals), len(groups), manifest)
    return manifest


def _fit(donor, size: int):
    """The donor photo resized to ``size`` pixels (the generator warps it onto the target)."""
    import cv2

    h, w = donor.image.shape[:2]
    if (h, w) == (size, size):
        return donor
    k = size / max(h, w)
    img = cv2.resize(donor.image, (max(1, round(w * k)), max(1, round(h * k))),
                     interpolation=cv2.INTER_AREA)
    cx, cy, side = donor.face
    return replace(donor, image=img, face=(cx * k, cy * k, side * k))
