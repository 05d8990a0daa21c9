"""MediaPipe FaceMesh landmarks (dfdetect.preprocess.landmarks) on a real photo, and the SBI mask
made from their hull."""
from __future__ import annotations

import numpy as np
import pytest

from dfdetect.data.manifest import HULL_COLUMN, PART_COLUMNS, parse_polygon
from dfdetect.preprocess import PrepareError
from dfdetect.preprocess.landmarks import (LANDMARKERS, build_landmarker, check_landmarker,
                                           five_points, mesh_columns)


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()  # (512, 512, 3); the face spans about x 170-280, y 60-190


@pytest.fixture(scope="module")
def mesh(astronaut):
    return build_landmarker("mediapipe")(astronaut)


@pytest.fixture(scope="module")
def mtcnn_box(astronaut):
    from dfdetect.preprocess.faces import build_detector, detect_frames

    faces = detect_frames(build_detector("mtcnn"), [astronaut], 640)[0]
    assert len(faces) == 1
    return faces[0].box


def test_mesh_lies_on_the_face_found_by_the_detector(mesh, mtcnn_box) -> None:
    assert mesh.shape == (468, 2)
    x0, y0, x1, y1 = mtcnn_box
    pts = five_points(mesh)
    # eyes, nose and mouth corners lie inside the detector's box ...
    assert (pts[:, 0] > x0).all() and (pts[:, 0] < x1).all()
    assert (pts[:, 1] > y0).all() and (pts[:, 1] < y1).all()
    # ... in the order of a face: eyes above the nose above the mouth, left eye left of right
    assert pts[0, 0] < pts[1, 0] and pts[3, 0] < pts[4, 0]
    assert pts[:2, 1].max() < pts[2, 1] < pts[3:, 1].min()
    # the mesh reaches above the eyes (forehead) and most of it sits in the box
    assert mesh[:, 1].min() < pts[:2, 1].min() - 20
    box_in = ((mesh[:, 0] > x0 - 5) & (mesh[:, 0] < x1 + 5) & (mesh[:, 1] > y0 - 15)
              & (mesh[:, 1] < y1 + 5))
    assert box_in.mean() > 0.95


def test_mesh_around_a_box_matches_the_whole_image(astronaut, mesh, mtcnn_box) -> None:
    around = build_landmarker("mediapipe")(astronaut, mtcnn_box)
    assert np.abs(around - mesh).max() < 6  # same points, found on a 25 % margin region


def test_no_face_gives_none() -> None:
    assert build_landmarker("mediapipe")(np.full((200, 200, 3), 128, np.uint8)) is None


def test_columns_are_short_polygons_that_round_trip(mesh) -> None:
    cols = mesh_columns(mesh)
    assert set(cols) == {HULL_COLUMN, *PART_COLUMNS}
    hull = parse_polygon(cols[HULL_COLUMN])
    assert 10 <= len(hull) <= 60 and len(cols[HULL_COLUMN]) < 600  # readable, not 468 points
    # the hull encloses every mesh point (convex hull, 0.1 px rounding)
    import cv2

    inside = [cv2.pointPolygonTest(hull.reshape(-1, 1, 2), tuple(map(float, p)), True) >= -0.2
              for p in mesh]
    assert all(inside)
    eye1, eye2, nose, mouth = (parse_polygon(cols[c]).mean(0) for c in PART_COLUMNS)
    assert eye1[0] < nose[0] < eye2[0] and max(eye1[1], eye2[1]) < nose[1] < mouth[1]
    assert mesh_columns(None) == {c: "" for c in cols}


def test_sbi_mask_from_the_hull_covers_the_face_not_the_background(astronaut, mesh,
                                                                   mtcnn_box) -> None:
    from dfdetect.data.sbi import dense_mask, face_hull_of

    hull = face_hull_of(mesh_columns(mesh))
    mask = dense_mask(astronaut.shape[:2], hull)
    pts = five_points(mesh).round().astype(int)
    assert all(mask[y, x] == 1 for x, y in pts)  # eyes, nose, mouth corners
    x0, y0, x1, y1 = mtcnn_box.round().astype(int)
    assert mask[:, : x0 - 20].sum() == 0 and mask[:, x1 + 20:].sum() == 0  # background
    assert mask[y1 + 30:].sum() == 0  # the suit below the chin
    # it covers most of the detector's face box, not just the centre
    assert mask[y0:y1, x0:x1].mean() > 0.6


def test_registry_and_missing_package(monkeypatch) -> None:
    assert "mediapipe" in LANDMARKERS.names()
    check_landmarker("mediapipe")  # installed with its models (the Makefile installs it)
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mediapipe" else real(name, *a))
    with pytest.raises(PrepareError, match="mediapipe==0.10.14"):
        check_landmarker("mediapipe")
