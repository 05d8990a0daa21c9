"""Tests for the Celeb-DF v2 adapter (dfdetect.data.adapters.celebdf)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dfdetect.data.adapters import build_manifest
from dfdetect.data.manifest import ManifestError, group_split, validate

VIDEOS = ("Celeb-real/id0_0000.mp4", "Celeb-real/id0_0001.mp4", "Celeb-real/id1_0000.mp4",
          "Celeb-real/id2_0000.mp4", "YouTube-real/00000.mp4", "YouTube-real/00001.mp4",
          "Celeb-synthesis/id0_id1_0000.mp4", "Celeb-synthesis/id0_id2_0001.mp4",
          "Celeb-synthesis/id1_id0_0000.mp4", "Celeb-synthesis/id2_id1_0000.mp4")


def test_folders_give_labels_and_celebrities_give_groups(tmp_path: Path, put) -> None:
    m = build_manifest("celebdf", str(put(tmp_path, *VIDEOS)))
    rows = {s.id: s for s in m.samples}
    assert len(rows) == len(VIDEOS)
    assert rows["Celeb-real/id0_0000"].label == "real"
    assert rows["YouTube-real/00000"].label == "real"
    assert rows["Celeb-synthesis/id0_id1_0000"].label == "fake"
    assert rows["Celeb-synthesis/id0_id1_0000"].group == rows["Celeb-real/id0_0001"].group
    assert rows["YouTube-real/00000"].group != rows["YouTube-real/00001"].group
    assert {s.split for s in m.samples} == {""}
    m.samples = group_split(m.samples, (0.5, 0.5, 0), seed=0)
    validate(m)


def test_official_test_list_is_the_test_split_without_leaks(tmp_path: Path, put) -> None:
    root = put(tmp_path, *VIDEOS)
    (root / "List_of_testing_videos.txt").write_text(
        "1 Celeb-real/id0_0000.mp4\n0 Celeb-synthesis/id1_id0_0000.mp4\n1 YouTube-real/00001.mp4\n")
    m = build_manifest("celebdf", str(root))
    test = {s.id for s in m.samples if s.split == "test"}
    assert test == {"Celeb-real/id0_0000", "Celeb-synthesis/id1_id0_0000", "YouTube-real/00001"}
    m.samples = group_split(m.samples, (0.8, 0.2, 0), seed=0)
    validate(m)  # celebrities shared with the official test list were regrouped, not leaked
    assert {s.split for s in m.samples if s.id not in test} <= {"train", "val"}


def test_test_list_must_agree_with_the_folders(tmp_path: Path, put) -> None:
    root = put(tmp_path, *VIDEOS)
    (root / "List_of_testing_videos.txt").write_text("0 Celeb-real/id0_0000.mp4\n")
    with pytest.raises(ManifestError, match="lists Celeb-real/id0_0000.mp4 as fake"):
        build_manifest("celebdf", str(root))
    (root / "List_of_testing_videos.txt").write_text("1 Celeb-real/missing.mp4\n")
    m = build_manifest("celebdf", str(root))  # a partial download: reported, not refused
    assert [Path(p).name for p in m.missing] == ["missing.mp4"] and len(m) == len(VIDEOS)
    (root / "List_of_testing_videos.txt").write_text("yes Celeb-real/id0_0000.mp4\n")
    with pytest.raises(ManifestError, match="line 1"):
        build_manifest("celebdf", str(root))
