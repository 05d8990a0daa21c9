"""Tests for open_dataset: manifest CSV, labels CSV or real/fake folder -> split, validated manifest."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image

from dfdetect.data.load import open_dataset
from dfdetect.data.manifest import (SPLITS, Manifest, ManifestError, Sample, group_leaks,
                                    write_manifest)


def _image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (90, 90, 90)).save(path, format="PNG" if path.suffix == ".png"
                                                 else "JPEG")
    return path


def _folder_tree(root: Path, real: str = "real", fake: str = "fake", people: int = 6) -> Path:
    for p in range(people):
        for k in range(3):
            _image(root / real / f"person{p}" / f"r{k}.jpg")
            _image(root / fake / f"gen{p % 2}" / f"p{p}_{k}.png")
    (root / fake / "notes.txt").write_text("ignored")
    return root


def _assert_split_by_group(m: Manifest) -> None:
    assert all(s.split in SPLITS for s in m.samples)
    where = defaultdict(set)
    for s in m.samples:
        if s.group:
            where[s.group].add(s.split)
    assert all(len(v) == 1 for v in where.values())
    assert group_leaks(m.samples) == []


def test_folder(tmp_path: Path) -> None:
    root = _folder_tree(tmp_path / "faces")
    m = open_dataset(str(root))
    assert len(m) == 36
    assert {s.label for s in m.samples} == {"real", "fake"}
    _assert_split_by_group(m)
    assert {s.split for s in m.samples} >= {"train"}


def test_folder_custom_labels(tmp_path: Path) -> None:
    root = _folder_tree(tmp_path / "asv", real="bonafide", fake="spoof")
    m = open_dataset(str(root), real_label="bonafide", fake_label="spoof")
    assert len(m) == 36
    assert {s.label for s in m.samples} == {"real", "fake"}


def test_split_is_seeded_and_ratio_respected(tmp_path: Path) -> None:
    root = _folder_tree(tmp_path / "faces")
    a = open_dataset(str(root), seed=1)
    b = open_dataset(str(root), seed=1)
    assert [s.split for s in a.samples] == [s.split for s in b.samples]
    only_train = open_dataset(str(root), split_ratio="1")
    assert {s.split for s in only_train.samples} == {"train"}


def _labels_csv(root: Path, with_split: bool = False) -> Path:
    lines = ["path,label,group,source" + (",split" if with_split else "")]
    for i in range(20):
        label = "fake" if i % 2 else "real"
        rel = f"images/{i:03d}.jpg"
        _image(root / rel)
        split = ("," + ("train" if i < 14 else "test")) if with_split else ""
        lines.append(f"{rel},{label},person{i // 2},src{split}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root / "labels.csv"


def test_labels_csv_file(tmp_path: Path) -> None:
    csv_path = _labels_csv(tmp_path / "flux")
    m = open_dataset(str(csv_path))
    assert len(m) == 20
    assert m.samples[0].id == "images/000.jpg"
    _assert_split_by_group(m)


def test_folder_with_labels_csv(tmp_path: Path) -> None:
    csv_path = _labels_csv(tmp_path / "flux")
    m = open_dataset(str(csv_path.parent))
    assert len(m) == 20
    _assert_split_by_group(m)


def test_existing_splits_are_kept(tmp_path: Path) -> None:
    csv_path = _labels_csv(tmp_path / "flux", with_split=True)
    m = open_dataset(str(csv_path))
    assert [s.split for s in m.samples] == ["train"] * 14 + ["test"] * 6


def _manifest(root: Path, splits: bool) -> Path:
    samples = []
    for i in range(12):
        rel = f"clips/{i}.jpg"
        _image(root / rel)
        samples.append(Sample(f"s{i}", rel, "fake" if i % 3 == 0 else "real",
                              split=(SPLITS[i % 3] if splits else ""), group=f"g{i}",
                              extra={"frame": str(i)}))
    return write_manifest(Manifest(samples, root), root / "manifest.csv")


def test_manifest_csv(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "prepared", splits=True)
    m = open_dataset(str(path))
    assert [s.id for s in m.samples] == [f"s{i}" for i in range(12)]
    assert [s.split for s in m.samples] == [SPLITS[i % 3] for i in range(12)]
    assert m.samples[5].extra == {"frame": "5"}


def test_directory_with_manifest_csv(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "prepared", splits=True)
    # a manifest.csv wins over real/ fake/ folders in the same directory
    _image(path.parent / "real" / "x.jpg")
    _image(path.parent / "fake" / "y.jpg")
    m = open_dataset(str(path.parent))
    assert len(m) == 12
    assert m.root == path.parent.resolve()


def test_manifest_without_splits_is_split_by_group(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "prepared", splits=False)
    m = open_dataset(str(path), split_ratio="0.5,0.5,0")
    counts = {sp: sum(s.split == sp for s in m.samples) for sp in SPLITS}
    assert counts == {"train": 6, "val": 6, "test": 0}
    _assert_split_by_group(m)


def test_manifest_with_other_root(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "prepared", splits=True)
    moved_csv = tmp_path / "elsewhere" / "m.csv"
    moved_csv.parent.mkdir()
    moved_csv.write_text(path.read_text())
    with pytest.raises(ManifestError, match="missing files"):
        open_dataset(str(moved_csv))
    m = open_dataset(str(moved_csv), root=str(path.parent))
    assert len(m) == 12
    m = open_dataset(str(moved_csv), check_files=False)
    assert len(m) == 12


def test_invalid_manifest_is_rejected(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "prepared", splits=True)
    path.write_text(path.read_text().replace(",fake,", ",deepfake,", 1))
    with pytest.raises(ManifestError, match="unknown labels"):
        open_dataset(str(path))


def test_nonexistent_path(tmp_path: Path) -> None:
    missing = tmp_path / "does" / "not" / "exist"
    with pytest.raises(ManifestError) as info:
        open_dataset(str(missing))
    assert "data not found" in str(info.value) and str(missing) in str(info.value)


def test_empty_data_argument() -> None:
    with pytest.raises(ManifestError, match="no data given"):
        open_dataset("")


def test_directory_without_anything_usable(tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    with pytest.raises(ManifestError) as info:
        open_dataset(str(tmp_path / "junk"))
    msg = str(info.value)
    assert "manifest.csv" in msg and "labels.csv" in msg and "real/" in msg
