"""Tests for the offline demo face-forgery set (dfdetect.demo.faces)."""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dfdetect.demo.faces import PHOTO_CROPS, build_demo_faces

SIZE = 96
VARIANTS = 2
PHOTOS = {"astronaut": "demo_skimage", "grace_hopper": "demo_matplotlib", "camera": "demo_skimage"}


def _read(manifest: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(manifest, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("demo_faces")
    manifest = build_demo_faces(out)  # defaults: size 96, variants 2, seed 0
    assert manifest == out / "manifest.csv"
    columns, rows = _read(manifest)
    # the manifest columns (docs/architecture.md), written out rather than read from the module
    assert columns == ["id", "path", "label", "split", "group", "source", "method", "modality"]
    return out, rows


def test_manifest_columns_counts_and_values(built: tuple[Path, list[dict[str, str]]]) -> None:
    out, rows = built
    assert len(rows) == 2 * VARIANTS * (100 + len(PHOTOS) * PHOTO_CROPS)
    labels = Counter(r["label"] for r in rows)
    assert set(labels) == {"real", "fake"} and labels["real"] == labels["fake"]
    assert len({r["id"] for r in rows}) == len(rows)
    assert not (out / "manifest.csv.tmp").exists()
    for r in rows:
        assert r["split"] == ""
        assert r["modality"] == "image"
        assert r["method"] == ("none" if r["label"] == "real" else "faceswap_blend")
        assert r["path"] == f"images/{r['label']}/{Path(r['path']).name}"
        assert r["id"] == f"{r['label']}/{Path(r['path']).stem}"
        assert Path(r["path"]).stem.startswith(r["group"] + "_")
        expected_source = PHOTOS.get(r["group"], "demo_lfw")
        assert r["source"] == expected_source


def test_every_group_has_both_labels(built: tuple[Path, list[dict[str, str]]]) -> None:
    _, rows = built
    per_group: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        per_group[r["group"]][r["label"]] += 1
    lfw = [g for g in per_group if g.startswith("lfw_")]
    assert len(lfw) == 100
    assert set(per_group) - set(lfw) == set(PHOTOS)
    for group, counts in per_group.items():
        n = VARIANTS * (PHOTO_CROPS if group in PHOTOS else 1)
        assert counts == {"real": n, "fake": n}, group


def test_images_decode_with_identical_encoding(built: tuple[Path, list[dict[str, str]]]) -> None:
    out, rows = built
    tables = set()
    for r in rows:
        path = out / r["path"]
        assert path.is_file(), path
        with Image.open(path) as im:
            assert im.format == "JPEG"
            assert im.mode == "RGB"
            qtables = tuple(tuple(t) for _, t in sorted(im.quantization.items()))
            layers = tuple(im.layer)  # (component id, h sampling, v sampling, qtable) each
            arr = np.asarray(im)
        assert arr.shape == (SIZE, SIZE, 3)
        assert arr.std() > 5  # an actual photo, not a flat image
        tables.add((qtables, layers))
    # same quantisation tables and chroma subsampling => same encoder and JPEG quality for
    # both classes
    assert len(tables) == 1


def _centre_and_border(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    c = (size - 1) / 2
    centre = np.hypot(xx - c, yy - c) < 0.12 * size
    b = size // 8
    border = np.zeros((size, size), dtype=bool)
    border[:b] = border[-b:] = True
    border[:, :b] = border[:, -b:] = True
    return centre, border


def test_fakes_differ_from_reals_inside_the_face(built: tuple[Path, list[dict[str, str]]]) -> None:
    out, rows = built
    centre, border = _centre_and_border(SIZE)
    inside, outside = [], []
    for r in rows:
        if r["label"] != "real":
            continue
        real = np.asarray(Image.open(out / r["path"]), dtype=np.float64)
        fake = np.asarray(Image.open(out / r["path"].replace("images/real/", "images/fake/")),
                          dtype=np.float64)
        diff = np.abs(real - fake).mean(axis=-1)
        inside.append(diff[centre].mean())
        outside.append(diff[border].mean())
    inside_a, outside_a = np.array(inside), np.array(outside)
    assert len(inside_a) == len(rows) // 2
    assert np.all(inside_a > 5.0)  # a swapped face, not JPEG noise
    assert np.all(inside_a > outside_a)  # the blend is localised on the face, pair by pair
    assert np.median(inside_a) > 5 * np.median(outside_a)


def test_same_seed_identical_bytes_other_seed_differs(
        built: tuple[Path, list[dict[str, str]]], tmp_path: Path) -> None:
    out, rows = built
    again = build_demo_faces(tmp_path / "again", seed=0)
    assert again.read_bytes() == (out / "manifest.csv").read_bytes()
    for r in rows:
        assert (tmp_path / "again" / r["path"]).read_bytes() == (out / r["path"]).read_bytes()

    other = build_demo_faces(tmp_path / "other", seed=1)
    _, other_rows = _read(other)
    assert [r["path"] for r in other_rows] == [r["path"] for r in rows]
    picks = ["images/real/lfw_017_0.jpg", "images/fake/lfw_017_0.jpg",
             "images/real/astronaut_1.jpg", "images/fake/grace_hopper_2.jpg"]
    for p in picks:
        assert (tmp_path / "other" / p).read_bytes() != (out / p).read_bytes(), p


def test_size_and_variants_are_respected(tmp_path: Path) -> None:
    manifest = build_demo_faces(tmp_path, size=64, variants=1, seed=3)
    _, rows = _read(manifest)
    assert len(rows) == 2 * (100 + len(PHOTOS) * PHOTO_CROPS)
    for r in rows[:: len(rows) // 12]:
        with Image.open(tmp_path / r["path"]) as im:
            assert im.size == (64, 64)


@pytest.mark.parametrize("kwargs", [{"size": 8}, {"variants": 0}])
def test_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        build_demo_faces(tmp_path, **kwargs)
