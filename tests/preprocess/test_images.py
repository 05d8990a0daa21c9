"""Image prepare (dfdetect.preprocess.images through `prepare`): faces, five points and the dense
hull on each image row; crop=true; no-face images recorded; resume; the seam to SBI."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from dfdetect.config.schema import PrepareConfig
from dfdetect.data.manifest import HULL_COLUMN, PART_COLUMNS, read_manifest
from dfdetect.preparation import prepare


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from PIL import Image

    from dfdetect.demo.clips import astronaut_face

    root = tmp_path_factory.mktemp("faces")
    face = astronaut_face(160)
    for i, name in enumerate(["real/a.png", "real/b.png", "fake/c.png", "fake/d.png"]):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        img = np.roll(face, 6 * i, axis=1) if i else face  # the face moved a little
        img = np.clip(img.astype(int) + 2 * i, 0, 255).astype(np.uint8)  # distinct crops
        Image.fromarray(img).save(root / name)
    Image.fromarray(np.full((120, 120, 3), 128, np.uint8)).save(root / "real" / "blank.png")
    return root


def _prepare(dataset, out, lines=None, **kw):
    kw = {"detector": "haar", "fallback_detector": "none", **kw}  # MTCNN: tests/preprocess/
    cfg = PrepareConfig(data="folder", root=str(dataset), out=str(out), split_ratio="0.5,0.5",
                        shortcut_warn=0, **kw)
    prepare(cfg, echo=(lines.append if lines is not None else lambda _: None))
    return read_manifest(out / "manifest.csv")


def _failures(out):
    with (out / "failures.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def whole(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    lines: list[str] = []
    return out, _prepare(dataset, out, lines), lines


def test_rows_get_face_landmarks_and_hull_in_their_own_pixels(whole, dataset) -> None:
    from dfdetect.data.sbi import face_hull_of, landmarks_of

    out, m, lines = whole
    faces = [s for s in m.samples if not s.id.endswith("blank.png")]
    assert len(m) == 5 and len(faces) == 4
    for s in faces:
        assert m.resolve(s).resolve().parent.parent == dataset.resolve()  # the image, whole
        pts, hull = landmarks_of(s.extra), face_hull_of(s.extra)
        assert pts is not None and hull is not None and s.extra["detector"] == "mediapipe"
        assert pts[0, 0] < pts[1, 0] and pts[:2, 1].max() < pts[2, 1] < pts[3:, 1].min()
        assert (hull >= -2).all() and (hull <= 162).all()  # the 160 px image's pixels
        x0, y0, x1, y1 = (float(s.extra[k]) for k in ("box_x0", "box_y0", "box_x1", "box_y1"))
        assert x0 < pts[:, 0].min() and pts[:, 0].max() < x1 and y0 < pts[:, 1].min()
        assert all(s.extra[c] for c in PART_COLUMNS)
    # the copies moved right by 6 px per file: so did their landmarks
    by_name = {s.id.split("/")[-1]: landmarks_of(s.extra) for s in faces}
    assert abs((by_name["b.png"] - by_name["a.png"])[:, 0].mean() - 6) < 1.5
    assert any("Faces found in 4/5 images" in line for line in lines)
    # still a manifest to the overwrite guards, though it has the detector's score column
    from dfdetect.config.outputs import is_manifest

    assert "score" in faces[0].extra and is_manifest(out / "manifest.csv")


def test_an_image_without_a_face_is_a_failure_line_and_kept_whole(whole) -> None:
    out, m, _ = whole
    blank = [s for s in m.samples if s.id.endswith("blank.png")]
    assert len(blank) == 1 and not blank[0].extra.get("lm1_x")
    assert not blank[0].extra.get(HULL_COLUMN)
    rows = _failures(out)
    assert [(r["stage"], r["path"].endswith("blank.png")) for r in rows] == [("detect", True)]
    assert "no face found" in rows[0]["reason"] and "kept whole" in rows[0]["reason"]


def test_a_rerun_resumes_from_the_done_markers(whole, dataset) -> None:
    out, m, _ = whole
    lines: list[str] = []
    again = _prepare(dataset, out, lines)
    assert any("5 already done, 0 to do" in line for line in lines)
    assert [(s.id, s.extra) for s in again.samples] == [(s.id, s.extra) for s in m.samples]
    assert len(_failures(out)) == 1  # the no-face line is not repeated


def test_crop_true_cuts_the_face_out_and_leaves_the_faceless_image_out(dataset, tmp_path) -> None:
    from dfdetect.data.image import load_image
    from dfdetect.data.sbi import face_hull_of, landmarks_of

    m = _prepare(dataset, tmp_path, crop=True, image_size=96, margin=0.3)
    assert len(m) == 4 and not any(s.id.endswith("blank.png") for s in m.samples)
    for s in m.samples:
        assert s.path.startswith("crops/images/")  # relative: under the output folder
        img = load_image(m.resolve(s))
        pts, hull = landmarks_of(s.extra), face_hull_of(s.extra)
        assert img.shape == (96, 96, 3)
        assert pts.min() >= 0 and pts.max() < 96 and pts[0, 0] < pts[1, 0]
        assert hull[:, 0].min() > -3 and hull[:, 0].max() < 99
        assert int(s.extra["crop_size"]) <= 160 and s.extra["source_path"].endswith(".png")
    assert _failures(tmp_path)[0]["reason"].endswith("left out")


def test_image_faces_false_lists_the_images_as_they_are(dataset, tmp_path) -> None:
    m = _prepare(dataset, tmp_path, image_faces=False)
    assert len(m) == 5 and not any("lm1_x" in s.extra for s in m.samples)
    assert not (tmp_path / "done").exists()


def test_sbi_on_prepared_images_blends_inside_the_dense_hull(whole) -> None:
    """prepare (mesh) -> manifest CSV -> SBI and part blends read its columns."""
    from dfdetect.data.image import load_image
    from dfdetect.data.sbi import build_pseudo_fakes, coverage, face_hull_of, self_blend

    _, m, _ = whole
    reals = [s for s in m.samples if s.label == "real"]
    assert coverage(reals) .startswith("masks: 2 dense hull, 1 ellipse")
    sbi, parts = build_pseudo_fakes("sbi"), build_pseudo_fakes("sbi_parts")
    for s in reals:
        img = load_image(m.resolve(s))
        sbi(img, s.extra, np.random.default_rng(0))
        parts(img, s.extra, np.random.default_rng(0))
        hull = face_hull_of(s.extra)
        if hull is not None:
            _, mask = self_blend(img, None, np.random.default_rng(0), hull)
            assert mask[int(hull[:, 1].mean()), int(hull[:, 0].mean())] > 0.5
            assert mask[:8, :8].max() == 0 or hull[:, 1].min() < 8
    assert sbi.masks == {"dense hull": 2, "ellipse": 1}
    assert parts.masks == {"mesh parts from itself": 2, "ellipse": 1}


def test_crop_needs_an_output_folder_and_a_known_landmarker(dataset) -> None:
    from dfdetect.data.manifest import ManifestError
    from dfdetect.registry import RegistryError

    with pytest.raises(ManifestError, match="crop=true needs out="):
        prepare(PrepareConfig(data="folder", root=str(dataset), crop=True, shortcut_warn=0),
                echo=lambda _: None)
    with pytest.raises(RegistryError, match="did you mean mediapipe"):
        prepare(PrepareConfig(data="folder", root=str(dataset), out=str(dataset / "o"),
                              landmarks="mediapip", shortcut_warn=0), echo=lambda _: None)
    assert not (dataset / "manifest.csv").exists() and not (dataset / "o").exists()


def test_a_resplit_with_overwrite_keeps_the_new_splits_not_the_markers(whole, dataset) -> None:
    from dfdetect.config.schema import PrepareConfig as P

    out, m, _ = whole
    old = {s.id: s.split for s in m.samples}
    lines: list[str] = []
    prepare(P(data="folder", root=str(dataset), out=str(out), split_ratio="0.5,0.5", seed=3,
              overwrite=True, detector="haar", fallback_detector="none", shortcut_warn=0),
            echo=lines.append)
    new = read_manifest(out / "manifest.csv")
    assert any("5 already done, 0 to do" in line for line in lines)  # markers reused ...
    assert {s.id: s.split for s in new.samples} != old  # ... but the splits are this run's
    assert all(s.extra.get("lm1_x") for s in new.samples if not s.id.endswith("blank.png"))
