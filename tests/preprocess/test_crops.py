"""Tests for crop geometry and content-addressed JPEGs (dfdetect.preprocess.crops)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from dfdetect.preprocess.crops import cut, square_box, to_crop_coords, write_jpeg


def test_square_box_adds_margin_on_every_side() -> None:
    # face 40 wide, 60 tall centred at (100, 100): side = 60 * (1 + 2 * 0.2) = 84
    assert square_box((80, 70, 120, 130), 0.2, 640, 480) == (58, 58, 84)


def test_square_box_is_shifted_inside_the_frame_not_squashed() -> None:
    x0, y0, side = square_box((0, 0, 40, 40), 0.5, 200, 100)
    assert (x0, y0, side) == (0, 0, 80)
    x0, y0, side = square_box((180, 70, 200, 100), 0.5, 200, 100)
    assert x0 + side == 200 and y0 + side == 100 and side == 60


def test_square_box_never_exceeds_the_frame() -> None:
    assert square_box((0, 0, 90, 50), 1.0, 90, 50) == (20, 0, 50)  # centred, frame-high


def test_cut_resizes_to_a_square_and_maps_points() -> None:
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[40:60, 90:110] = 255
    crop = cut(rgb, (50, 0, 100), 50)
    assert crop.shape == (50, 50, 3)
    assert crop[25, 25].mean() > 200 and crop[2, 2].mean() < 10
    np.testing.assert_allclose(to_crop_coords([[100, 50], [50, 0]], (50, 0, 100), 50),
                               [[25, 25], [0, 0]])


def test_jpeg_names_are_content_addresses(tmp_path: Path) -> None:
    a = np.full((8, 8, 3), 10, np.uint8)
    b = np.full((8, 8, 3), 200, np.uint8)
    name = write_jpeg(a, tmp_path, quality=90)
    assert write_jpeg(a, tmp_path, quality=90) == name  # same pixels, same file
    assert write_jpeg(b, tmp_path, quality=90) != name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, write_jpeg(b, tmp_path, 90)])
    assert write_jpeg(a, tmp_path, quality=50) != name  # quality changes the bytes


def test_jpeg_quality_is_applied(tmp_path: Path) -> None:
    from PIL import Image

    yy, xx = np.mgrid[0:64, 0:64]
    img = np.stack([xx * 4, yy * 4, (xx * yy) % 256], -1).astype(np.uint8)

    def error(quality: int) -> float:
        path = tmp_path / write_jpeg(img, tmp_path, quality)
        return float(np.abs(np.asarray(Image.open(path), int) - img).mean())

    assert error(95) < error(30)
