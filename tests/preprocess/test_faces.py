"""Tests for face detection and main-track selection (dfdetect.preprocess.faces)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from dfdetect.preprocess import PrepareError
from dfdetect.preprocess.faces import (DETECTORS, Face, build_detector, detect_frames, iou,
                                       link_tracks, main_track)
from dfdetect.registry import RegistryError


def _face(x0, y0, x1, y1) -> Face:
    return Face(np.array([x0, y0, x1, y1], float), 0.9, np.zeros((5, 2)) + [x0, y0], "stub")


class FixedDetector:
    """Reports one face at a fixed place of the image it is given; records image sizes."""

    name = "fixed"

    def __init__(self, box=(10, 10, 30, 30), empty=False) -> None:
        self.box, self.empty, self.seen = box, empty, []

    def detect(self, images):
        self.seen.extend(im.shape[:2] for im in images)
        return [[] if self.empty else [_face(*self.box)] for _ in images]


def test_registry_holds_only_detectors_with_shipped_weights() -> None:
    assert set(DETECTORS) == {"haar", "mtcnn"}
    with pytest.raises(RegistryError, match="retinaface"):
        build_detector("retinaface")


def test_detection_runs_on_a_reduced_copy_and_maps_boxes_back() -> None:
    det = FixedDetector()
    faces = detect_frames(det, [np.zeros((400, 800, 3), np.uint8)], detect_size=200)[0]
    assert det.seen == [(100, 200)]  # longer side scaled to 200
    np.testing.assert_allclose(faces[0].box, [40, 40, 120, 120])
    np.testing.assert_allclose(faces[0].landmarks[0], [40, 40])
    small = FixedDetector()
    detect_frames(small, [np.zeros((50, 60, 3), np.uint8)], detect_size=200)
    assert small.seen == [(50, 60)]  # never upscaled


def test_fallback_runs_only_on_frames_without_a_face() -> None:
    class Alternating(FixedDetector):
        def detect(self, images):
            self.seen.extend(im.shape[:2] for im in images)
            return [[_face(1, 1, 5, 5)] if i % 2 == 0 else [] for i in range(len(images))]

    first, fallback = Alternating(), FixedDetector(box=(2, 2, 9, 9))
    out = detect_frames(first, [np.zeros((20, 20, 3), np.uint8)] * 4, 0, fallback)
    assert len(fallback.seen) == 2
    assert [f[0].box[0] for f in out] == [1, 2, 1, 2]


def test_main_track_prefers_the_big_consistent_face() -> None:
    # frames: a main face drifting slowly, a small bystander, and one big false positive
    per_frame = [[_face(50 + i, 50, 150 + i, 150), _face(5, 5, 25, 25)] for i in range(6)]
    per_frame[2].append(_face(200, 0, 400, 200))  # larger, but seen once
    assert link_tracks(per_frame) == 3
    main = main_track(per_frame)
    assert {f.track for frame in per_frame for f in frame if f.box[0] >= 50
            and f.box[0] < 60} == {main}
    assert main_track([[], []]) == -1


def test_iou() -> None:
    a = np.array([0, 0, 10, 10.0])
    assert iou(a, a) == 1.0
    assert iou(a, np.array([5, 0, 15, 10.0])) == pytest.approx(50 / 150)
    assert iou(a, np.array([20, 20, 30, 30.0])) == 0.0


def test_mtcnn_finds_the_face_and_its_five_landmarks(mtcnn) -> None:
    from dfdetect.demo.clips import astronaut_face

    faces = detect_frames(mtcnn, [astronaut_face(160)], detect_size=640)[0]
    assert len(faces) == 1
    f = faces[0]
    assert f.landmarks.shape == (5, 2) and f.score > 0.9
    x0, y0, x1, y1 = f.box
    assert 40 < (x0 + x1) / 2 < 120 and 20 < (y0 + y1) / 2 < 110
    assert all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in f.landmarks)


def test_haar_is_box_only() -> None:
    from dfdetect.demo.clips import astronaut_face

    faces = detect_frames(build_detector("haar"), [astronaut_face(240)], 640)[0]
    assert faces and faces[0].landmarks is None


def test_missing_detector_files_fail_fast_with_the_fix(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    start = time.perf_counter()
    with pytest.raises(PrepareError, match="--no-deps facenet-pytorch") as e:
        build_detector("mtcnn")
    assert time.perf_counter() - start < 5 and e.value.stage == "detector"


def test_missing_weights_say_nothing_is_downloaded(monkeypatch, tmp_path) -> None:
    import importlib.machinery
    import importlib.util

    spec = importlib.machinery.ModuleSpec("facenet_pytorch", None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: spec)
    with pytest.raises(PrepareError, match="never downloads"):
        build_detector("mtcnn")
