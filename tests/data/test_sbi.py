"""Tests for self-blended pseudo-fakes (dfdetect.data.sbi)."""
from __future__ import annotations

import numpy as np
import pytest

from dfdetect.data.manifest import LANDMARK_COLUMNS as MANIFEST_LANDMARKS
from dfdetect.data.sbi import (LANDMARK_COLUMNS, SelfBlend, build_pseudo_fakes, ellipse_mask,
                               hull_mask, landmarks_of, self_blend)


def _face(size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    base = np.stack([xx * 3, yy * 3, (xx + yy) * 2], -1) % 256
    return np.clip(base + rng.integers(0, 30, base.shape), 0, 255).astype(np.uint8)


def _extra(points) -> dict:
    flat = [v for p in points for v in p]
    return {c: str(v) for c, v in zip(LANDMARK_COLUMNS, flat)}


EYES_NOSE_MOUTH = [(22, 26), (42, 26), (32, 36), (24, 46), (40, 46)]


def test_landmark_columns_are_the_manifest_names() -> None:
    assert LANDMARK_COLUMNS is MANIFEST_LANDMARKS  # one definition, read by prepare and SBI
    assert LANDMARK_COLUMNS[:4] == ("lm1_x", "lm1_y", "lm2_x", "lm2_y")


def test_landmarks_of_parses_or_returns_none() -> None:
    pts = landmarks_of(_extra(EYES_NOSE_MOUTH))
    assert pts.shape == (5, 2) and pts[2].tolist() == [32, 36]
    assert landmarks_of({}) is None
    assert landmarks_of({**_extra(EYES_NOSE_MOUTH), "lm4_x": ""}) is None


def test_hull_mask_covers_the_landmarks_and_not_the_corners() -> None:
    mask = hull_mask((64, 64), np.float32(EYES_NOSE_MOUTH), np.random.default_rng(0))
    assert mask[36, 32] == 1 and mask[26, 22] == 1
    assert mask[0, 0] == 0 and mask[63, 63] == 0


def test_ellipse_fallback_sits_inside_the_face_box() -> None:
    mask = ellipse_mask((64, 64), np.random.default_rng(0))
    assert mask[34, 32] == 1 and mask[0, 0] == 0 and mask[0, 63] == 0


def test_self_blend_changes_the_face_inside_the_mask_reproducibly() -> None:
    img = _face()
    pts = np.float32(EYES_NOSE_MOUTH)
    out, mask = self_blend(img, pts, np.random.default_rng(3))
    again, _ = self_blend(img, pts, np.random.default_rng(3))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out, again)
    assert 0 <= mask.min() and mask.max() <= 1 and mask[36, 32] > 0
    diff = np.abs(out.astype(int) - img.astype(int)).mean(-1)
    assert diff[mask > 0.5].mean() > diff[mask == 0].mean()


def test_landmarks_move_the_blend_region() -> None:
    img = _face()
    top_left = np.float32([(8, 8), (18, 8), (13, 13), (9, 18), (17, 18)])
    _, mask = self_blend(img, top_left, np.random.default_rng(1))
    ys, xs = np.nonzero(mask > 0.5)
    assert xs.mean() < 24 and ys.mean() < 24
    _, fallback = self_blend(img, None, np.random.default_rng(1))
    ys, xs = np.nonzero(fallback > 0.5)
    assert abs(xs.mean() - 32) < 6


def test_registry_and_callable() -> None:
    assert build_pseudo_fakes("") is None
    maker = build_pseudo_fakes("sbi")
    assert isinstance(maker, SelfBlend)
    out = maker(_face(), _extra(EYES_NOSE_MOUTH), np.random.default_rng(0))
    assert out.shape == (64, 64, 3)
    with pytest.raises(KeyError, match="sbi"):
        build_pseudo_fakes("sbii")


def test_landmarks_outside_the_image_fall_back_to_the_ellipse() -> None:
    maker = SelfBlend()
    far = [(x + 200, y + 200) for x, y in EYES_NOSE_MOUTH]  # e.g. frame pixels, not crop pixels
    maker(_face(), _extra(far), np.random.default_rng(0))
    maker(_face(), _extra(EYES_NOSE_MOUTH), np.random.default_rng(0))
    assert maker.masks == {"ellipse": 1, "5-point hull": 1}


def test_sbi_on_prepared_crops_uses_the_landmark_hull(tmp_path) -> None:
    """prepare (real video path: decode, MTCNN, crops) -> manifest -> SBI on its rows."""
    from dfdetect.config.schema import PrepareConfig
    from dfdetect.data.image import load_image
    from dfdetect.data.manifest import read_manifest
    from dfdetect.preparation import prepare
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    face = astronaut_face()
    for i, name in enumerate(["real/a.mp4", "fake/b.mp4"]):
        write_video(tmp_path / "v" / name, moving_face_frames(face, n=6, size=(96, 80), seed=i))
    prepare(PrepareConfig(data="folder", root=str(tmp_path / "v"), out=str(tmp_path / "p"),
                          frames_per_video=2, min_face_size=20, image_size=64,
                          split_ratio="0.5,0.5"), echo=lambda _: None)
    m = read_manifest(tmp_path / "p" / "manifest.csv")  # as train reads it: from the CSV
    reals = [s for s in m.samples if s.label == "real"]
    assert len(reals) == 2
    maker = build_pseudo_fakes("sbi")
    for s in reals:
        img = load_image(m.resolve(s))
        pts = landmarks_of(s.extra)
        assert pts is not None, f"no landmarks read from prepared row {sorted(s.extra)}"
        # crop pixels: inside the 64 px crop, eyes above the mouth, left eye left of right eye
        assert img.shape[:2] == (64, 64) and pts.min() >= 0 and pts.max() < 64
        assert pts[0, 0] < pts[1, 0] and pts[:2, 1].max() < pts[3:, 1].min()
        out, mask = self_blend(img, pts, np.random.default_rng(0))
        ys, xs = np.nonzero(mask > 0.5)
        centre = pts.mean(0)
        assert abs(xs.mean() - centre[0]) < 8 and abs(ys.mean() - centre[1]) < 12
        maker(img, s.extra, np.random.default_rng(1))
    assert maker.masks == {"5-point hull": 2}
