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


# ---- dense hull and part blends ---------------------------------------------------------------

def _hull_extra(points, hull) -> dict:
    from dfdetect.data.manifest import HULL_COLUMN, format_polygon

    return {**_extra(points), HULL_COLUMN: format_polygon(hull)}


def test_dense_hull_is_preferred_and_counted() -> None:
    from dfdetect.data.sbi import coverage
    from dfdetect.data.manifest import Sample

    hull = np.float32([(14, 10), (50, 10), (54, 40), (32, 58), (10, 40)])
    maker = SelfBlend()
    img = _face()
    out = maker(img, _hull_extra(EYES_NOSE_MOUTH, hull), np.random.default_rng(0))
    _, mask = self_blend(img, np.float32(EYES_NOSE_MOUTH), np.random.default_rng(0), hull)
    # the dense hull decides the mask: its forehead corner (14..50, 10) is inside, which the
    # 5-point hull (eyes at y=26) does not reach without its random enlargement
    assert mask[12, 32] > 0.5 and mask[62, 2] == 0
    assert not np.array_equal(out, img)
    far = _hull_extra(EYES_NOSE_MOUTH, hull + 300)  # some other image's pixels: not used
    maker(img, far, np.random.default_rng(0))
    assert maker.masks == {"dense hull": 1, "5-point hull": 1}
    rows = [Sample("a", "a", "real", extra=_hull_extra(EYES_NOSE_MOUTH, hull)),
            Sample("b", "b", "real", extra=_extra(EYES_NOSE_MOUTH)), Sample("c", "c", "real")]
    text = coverage(rows)
    assert "1 dense hull, 1 5-point hull, 1 ellipse" in text and "landmarks=mediapipe" in text


def _parts_extra() -> dict:
    from dfdetect.data.manifest import PART_COLUMNS, format_polygon

    polys = [[(14, 20), (28, 20), (28, 30), (14, 30)], [(36, 20), (50, 20), (50, 30), (36, 30)],
             [(29, 28), (35, 28), (35, 40), (29, 40)], [(22, 43), (42, 43), (42, 50), (22, 50)]]
    return {**_extra(EYES_NOSE_MOUTH),
            **{c: format_polygon(p) for c, p in zip(PART_COLUMNS, polys)}}


def _box_of(poly: np.ndarray, grow: int) -> tuple[slice, slice]:
    x0, y0 = np.floor(poly.min(0)).astype(int) - grow
    x1, y1 = np.ceil(poly.max(0)).astype(int) + grow
    return slice(max(0, y0), y1 + 1), slice(max(0, x0), x1 + 1)


@pytest.mark.parametrize("seed", range(6))
def test_part_blend_changes_the_chosen_parts_and_nothing_else(seed: int) -> None:
    from dfdetect.data.sbi import part_blend, part_regions

    img = _face()
    regions = part_regions(_parts_extra(), img.shape)
    assert sorted(regions) == ["part_eye1", "part_eye2", "part_mouth", "part_nose"]
    out, mask, chosen = part_blend(img, regions, np.random.default_rng(seed))
    assert 1 <= len(chosen) <= 3
    near = np.zeros(img.shape[:2], bool)  # the chosen parts plus the grow and blur margin
    for name in chosen:
        near[_box_of(regions[name], grow=2 + 1 + 4)] = True
    diff = np.abs(out.astype(int) - img.astype(int)).sum(-1)
    assert (diff[~near] == 0).all()  # the rest of the image is untouched, bit for bit
    for name in chosen:  # each chosen part is blended at its centre and changed
        cx, cy = regions[name].mean(0).round().astype(int)
        assert mask[cy, cx] > 0.5
        assert diff[_box_of(regions[name], grow=0)].mean() > 1
    for name in set(regions) - set(chosen):  # a part not chosen (and apart from the chosen)
        cx, cy = regions[name].mean(0).round().astype(int)
        if not near[cy, cx]:
            assert mask[cy, cx] == 0


def test_part_blend_is_deterministic_with_a_seed() -> None:
    maker = build_pseudo_fakes("sbi_parts")
    a = maker(_face(), _parts_extra(), np.random.default_rng(5))
    b = build_pseudo_fakes("sbi_parts")(_face(), _parts_extra(), np.random.default_rng(5))
    c = maker(_face(), _parts_extra(), np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert maker.masks == {"mesh parts from itself": 2}


def test_parts_from_five_points_sit_on_the_points() -> None:
    from dfdetect.data.sbi import part_regions

    regions = part_regions(_extra(EYES_NOSE_MOUTH), (64, 64, 3))  # no mesh columns
    eye1, eye2, nose, mouth = (regions[c].mean(0) for c in
                               ("part_eye1", "part_eye2", "part_nose", "part_mouth"))
    assert np.abs(eye1 - (22, 24)).max() < 3 and np.abs(eye2 - (42, 24)).max() < 3
    assert abs(nose[0] - 32) < 2 and 26 < nose[1] < 38 and np.abs(mouth - (32, 46)).max() < 2
    assert part_regions({}, (64, 64, 3)) == {}


def test_donor_parts_come_from_another_face_aligned_on_its_landmarks() -> None:
    from dfdetect.data.sbi import PartBlend

    img = _face()
    donor = np.zeros_like(img)
    donor[..., 2] = 255  # a blue "face" whose landmarks sit 4 px right of this face's
    shifted = [(x + 4, y) for x, y in EYES_NOSE_MOUTH]
    maker = PartBlend(donor_p=1.0)
    maker.bind(lambda rng: (donor, _extra(shifted)))
    out = maker(img, _parts_extra(), np.random.default_rng(0))
    changed = np.abs(out.astype(int) - img.astype(int)).sum(-1) > 0
    assert maker.masks == {"mesh parts from another face": 1}
    # the donor's colour came in (blue up where the parts changed) with colour matching
    assert out[changed][:, 2].mean() > img[changed][:, 2].mean()
    alone = PartBlend(donor_p=1.0)  # no donor bound (e.g. a dataset without other reals)
    alone(img, _parts_extra(), np.random.default_rng(0))
    assert alone.masks == {"mesh parts from itself": 1}


def test_draw_dataset_binds_real_donors_for_part_blends() -> None:
    """The seam DrawDataset -> sbi+parts: the donor is a decoded real training row."""
    from dfdetect.data.manifest import Manifest, Sample
    from dfdetect.data.media import MediaDataset
    from dfdetect.data.sampling import DrawDataset

    rows = [Sample("r", "r.png", "real", "train", extra=_parts_extra()),
            Sample("f", "f.png", "fake", "train")]
    images = {"r.png": _face(), "f.png": np.zeros((64, 64, 3), np.uint8)}
    part = MediaDataset(Manifest(rows, name="m"), lambda p: images[p.name], lambda x: x)
    maker = build_pseudo_fakes("sbi+parts")
    ds = DrawDataset([part], pseudo=maker, pseudo_p=1.0)
    got = ds.donor(np.random.default_rng(0))
    assert got is not None and np.array_equal(got[0], images["r.png"])  # never the fake row
    for seed in range(8):
        ds[(0, seed)]
    assert sum(maker.masks.values()) == 8 and any("parts" in k for k in maker.masks)
    assert any(k == "dense hull" or k == "5-point hull" for k in maker.masks)


def test_the_shipped_real_only_config_builds_its_pseudo_fakes() -> None:
    from pathlib import Path

    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import TrainConfig
    from dfdetect.data.sbi import MixedBlend, PartBlend

    path = Path(__file__).parents[2] / "configs" / "sbi_lite0.yaml"
    cfg = load_config(TrainConfig, [f"config={path}"])
    maker = build_pseudo_fakes(cfg.data.pseudo_fakes)
    assert isinstance(maker, SelfBlend) and cfg.model.pretrained == "imagenet"
    out = maker(_face(), _parts_extra(), np.random.default_rng(0))
    assert out.shape == (64, 64, 3) and maker.masks == {"5-point hull": 1}
    mixed = build_pseudo_fakes("sbi+parts")  # the option the config names
    assert isinstance(mixed, MixedBlend)
    assert [type(m) for m in mixed.makers] == [SelfBlend, PartBlend]
    kinds = set()
    for seed in range(6):
        mixed(_face(), _parts_extra(), np.random.default_rng(seed))
        kinds |= set(mixed.masks)
    assert "5-point hull" in kinds and "mesh parts from itself" in kinds
