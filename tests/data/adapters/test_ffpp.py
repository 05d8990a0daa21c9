"""Tests for the FaceForensics++ adapter (dfdetect.data.adapters.ffpp)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dfdetect.data.adapters import build_manifest
from dfdetect.data.manifest import ManifestError, group_split, validate


def _tree(root: Path, put, comp: str = "c23") -> Path:
    orig = f"original_sequences/youtube/{comp}/videos"
    put(root, *(f"{orig}/{i}.mp4" for i in ("000", "003", "001", "002", "004", "005")))
    for method in ("Deepfakes", "FaceShifter"):
        put(root, *(f"manipulated_sequences/{method}/{comp}/videos/{p}.mp4"
                    for p in ("000_003", "003_000", "001_002", "002_001", "004_005")))
    put(root, f"manipulated_sequences/Deepfakes/c40/videos/000_003.mp4")  # other quality
    put(root, f"original_sequences/youtube/{comp}/masks/000.mp4")  # not a video folder
    return root


def _splits(root: Path) -> None:
    (root / "splits").mkdir()
    (root / "splits/train.json").write_text(json.dumps([["000", "003"]]))
    (root / "splits/val.json").write_text(json.dumps([["002", "001"]]))
    (root / "splits/test.json").write_text(json.dumps([["004", "005"]]))


def test_layout_labels_methods_and_pair_groups(tmp_path: Path, put) -> None:
    m = build_manifest("ffpp", str(_tree(tmp_path, put)), compression="c23")
    rows = {s.id: s for s in m.samples}
    assert len(rows) == 6 + 10 and len(m.samples) == 16
    assert rows["original/000"].label == "real" and rows["original/000"].method == "none"
    assert rows["Deepfakes/000_003"].label == "fake"
    assert rows["FaceShifter/001_002"].method == "FaceShifter"
    assert {s.modality for s in m.samples} == {"video"}
    # a target, its source and their fakes share one group
    pair = {rows[i].group for i in ("original/000", "original/003", "Deepfakes/000_003",
                                    "Deepfakes/003_000", "FaceShifter/000_003")}
    assert len(pair) == 1 and rows["original/001"].group != rows["original/000"].group
    assert all("masks" not in s.path for s in m.samples)
    assert rows["Deepfakes/000_003"].extra["compression"] == "c23"


def test_official_split_files_are_used(tmp_path: Path, put) -> None:
    root = _tree(tmp_path, put)
    _splits(root)
    m = build_manifest("ffpp", str(root))
    rows = {s.id: s.split for s in m.samples}
    assert rows["original/000"] == rows["Deepfakes/003_000"] == "train"
    assert rows["original/001"] == rows["FaceShifter/002_001"] == "val"
    assert rows["Deepfakes/004_005"] == rows["original/005"] == "test"
    validate(m)
    off = build_manifest("ffpp", str(root), official_split=False)
    assert {s.split for s in off.samples} == {""}


def test_without_split_files_the_group_split_keeps_pairs_together(tmp_path: Path, put) -> None:
    m = build_manifest("ffpp", str(_tree(tmp_path, put)))
    m.samples = group_split(m.samples, (0.5, 0.5, 0.0), seed=1)
    validate(m)


def test_deepfakedetection_links_actors(tmp_path: Path, put) -> None:
    put(tmp_path, "original_sequences/actors/c23/videos/01__walk.mp4",
        "manipulated_sequences/DeepFakeDetection/c23/videos/01_02__walk__ABC.mp4",
        "original_sequences/actors/c23/videos/02__talk.mp4")
    m = build_manifest("ffpp", str(tmp_path))
    assert len({s.group for s in m.samples}) == 1
    assert {s.method for s in m.samples} == {"none", "DeepFakeDetection"}


def test_missing_layout_and_bad_compression_are_explained(tmp_path: Path, put) -> None:
    with pytest.raises(ManifestError, match="original_sequences/youtube/c23/videos"):
        build_manifest("ffpp", str(tmp_path))
    with pytest.raises(ManifestError, match="raw, c23, c40"):
        build_manifest("ffpp", str(tmp_path), compression="c99")
