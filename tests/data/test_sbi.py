"""Tests for self-blended pseudo-fakes (dfdetect.data.sbi)."""
from __future__ import annotations

import numpy as np
import pytest

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


def test_landmark_columns_are_the_prepare_names() -> None:
    assert LANDMARK_COLUMNS[:4] == ["lm_x0", "lm_y0", "lm_x1", "lm_y1"]
    assert LANDMARK_COLUMNS[-1] == "lm_y4"


def test_landmarks_of_parses_or_returns_none() -> None:
    pts = landmarks_of(_extra(EYES_NOSE_MOUTH))
    assert pts.shape == (5, 2) and pts[2].tolist() == [32, 36]
    assert landmarks_of({}) is None
    assert landmarks_of({**_extra(EYES_NOSE_MOUTH), "lm_x3": ""}) is None


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
