"""Tests for the face-swap fake set built from a set's real photos (dfdetect.demo.swaps)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dfdetect.data.load import open_dataset
from dfdetect.data.manifest import ManifestError
from dfdetect.demo.faces import _detect_face, _load_photos
from dfdetect.demo.swaps import build_swap_set, face_box

SIZE = 128


def _face_crops(group: str, img: np.ndarray, n: int) -> list[np.ndarray]:
    """``n`` square crops around the photo's face (slightly shifted each), SIZE pixels."""
    import cv2

    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    cx, cy, side = _detect_face(grey)
    rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    out = []
    for k in range(n):
        half = int(side * 0.8) + 4 * k
        x0, y0 = int(cx) - half + 3 * k, int(cy) - half
        crop = rgb[max(0, y0):y0 + 2 * half, max(0, x0):x0 + 2 * half]
        out.append(cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
    return out


@pytest.fixture(scope="module")
def reals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A labels CSV of 6 real face crops of two people (astronaut, grace_hopper), JPEG q92."""
    root = tmp_path_factory.mktemp("reals")
    (root / "images").mkdir()
    rows = []
    photos = {g: img for g, _, img in _load_photos() if g in ("astronaut", "grace_hopper")}
    for group, img in photos.items():
        for k, crop in enumerate(_face_crops(group, img, 3)):
            name = f"images/{group}_{k}.jpg"
            Image.fromarray(crop).save(root / name, quality=92)
            rows.append({"path": name, "label": "real", "group": group, "source": "photo"})
    with open(root / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "label", "group", "source"])
        w.writeheader()
        w.writerows(rows)
    return root / "labels.csv"


def _rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)


def test_one_swap_per_real_changes_the_face_not_the_background(reals: Path, tmp_path: Path):
    manifest = build_swap_set(reals, tmp_path / "swaps", seed=0)
    m = open_dataset(str(manifest), keep_unsplit=True)  # the bench reads it back this way
    real = {Path(s.path).stem: s for s in m.samples if s.label == "real"}
    fake = {Path(s.path).stem: s for s in m.samples if s.label == "fake"}
    assert sorted(real) == sorted(fake) and len(real) == 6
    for stem, f in fake.items():
        r = real[stem]
        assert (f.group, f.source, f.method) == (r.group, r.source, "faceswap_blend")
        assert Path(r.path).is_absolute() and Path(r.path) == reals.parent / "images" / f"{stem}.jpg"
        a, b = _rgb(m.resolve(r)), _rgb(m.resolve(f))
        assert a.shape == b.shape == (SIZE, SIZE, 3)  # the photo's own resolution
        cx, cy, side = face_box(a.astype(np.uint8))
        diff = np.abs(a - b).mean(axis=2)
        h = int(side * 0.2)
        inner = diff[int(cy) - h:int(cy) + h, int(cx) - h:int(cx) + h].mean()
        border = np.r_[diff[:6].ravel(), diff[-6:].ravel(), diff[:, :6].ravel(),
                       diff[:, -6:].ravel()].mean()
        assert inner > 12.0, (stem, inner)  # another person's face, colour-shifted
        assert border < 3.0, (stem, border)  # outside the mask: JPEG noise only


def test_same_seed_same_bytes_other_seed_other_swaps(reals: Path, tmp_path: Path):
    a = build_swap_set(reals, tmp_path / "a", seed=3).parent / "images"
    b = build_swap_set(reals, tmp_path / "b", seed=3).parent / "images"
    c = build_swap_set(reals, tmp_path / "c", seed=4).parent / "images"
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and len(names) == 6
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert sum((a / n).read_bytes() != (c / n).read_bytes() for n in names) >= 5


def test_one_identity_cannot_be_swapped(reals: Path, tmp_path: Path):
    one = tmp_path / "one.csv"
    lines = reals.read_text().splitlines()
    one.write_text("\n".join([lines[0]] + [ln for ln in lines[1:] if "astronaut" in ln]) + "\n")
    for ln in lines[1:]:  # the CSV's paths are relative to its folder
        (tmp_path / "images").mkdir(exist_ok=True)
        name = ln.split(",")[0]
        (tmp_path / name).write_bytes((reals.parent / name).read_bytes())
    with pytest.raises(ManifestError, match="at least two groups"):
        build_swap_set(one, tmp_path / "out", seed=0)


def test_donors_limit_whose_face_is_blended_in(reals: Path, tmp_path: Path):
    """A swap of astronaut with donors limited to astronaut itself is refused; limiting to the
    other group gives the same files as the default (the only other group)."""
    with pytest.raises(ManifestError, match="no donor group for 'astronaut'"):
        build_swap_set(reals, tmp_path / "x", seed=1, donors={"astronaut": ["astronaut"]})
    a = build_swap_set(reals, tmp_path / "a", seed=1).parent / "images"
    b = build_swap_set(reals, tmp_path / "b", seed=1, donors={"astronaut": ["grace_hopper"],
                                                              "grace_hopper": ["astronaut"]})
    names = sorted(p.name for p in a.iterdir())
    assert all((a / n).read_bytes() == (b.parent / "images" / n).read_bytes() for n in names)
