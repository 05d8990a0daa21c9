"""Fakes named after their source videos (FaceForensics++-style folder layout): the folder
adapter groups them with their sources so prepare keeps both in one split, and doctor reports a
manifest where such a fake and its source sit in different splits."""
from __future__ import annotations

from pathlib import Path

import pytest

from dfdetect.config.schema import PrepareConfig
from dfdetect.data.doctor import doctor
from dfdetect.data.manifest import Manifest, Sample, read_manifest, write_manifest
from dfdetect.preparation import prepare

SOURCES = ["000", "001", "002", "003", "004", "005"]
FAKES = ["Deepfakes/000_003", "FaceSwap/000_003", "Deepfakes/001_002", "FaceSwap/002_001",
         "Deepfakes/004_005", "FaceSwap/005_004"]


@pytest.fixture(scope="module")
def ffpp_like_folder(tmp_path_factory) -> Path:
    """real/000.mp4 ... real/005.mp4 and fake/<method>/<target>_<source>.mp4 (tiny face clips)."""
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    root = tmp_path_factory.mktemp("ffpp_like")
    face = astronaut_face()
    for i, rel in enumerate([f"real/{s}" for s in SOURCES] + [f"fake/{f}" for f in FAKES]):
        write_video(root / f"{rel}.mp4", moving_face_frames(face, n=4, size=(96, 80), seed=i))
    return root


def test_prepare_keeps_every_fake_in_the_split_of_its_sources(ffpp_like_folder, tmp_path) -> None:
    out = tmp_path / "prep"
    prepare(PrepareConfig(data="folder", root=str(ffpp_like_folder), out=str(out),
                          frames_per_video=1, min_face_size=20, image_size=32,
                          split_ratio="0.34,0.33,0.33", seed=0), echo=lambda _: None)
    m = read_manifest(out / "manifest.csv")
    split_of = {Path(s.extra["video_path"]).stem: s.split for s in m.samples
                if s.label == "real"}
    assert set(split_of) == set(SOURCES)
    assert len(set(split_of.values())) == 3  # the pairs really are spread over the splits
    fakes = [s for s in m.samples if s.label == "fake"]
    assert len({s.extra["video_path"] for s in fakes}) == len(FAKES)
    for s in fakes:
        target, source = Path(s.extra["video_path"]).stem.split("_")
        assert s.split == split_of[target] == split_of[source], s.extra["video_path"]
    assert {s.method for s in fakes} == {"Deepfakes", "FaceSwap"}  # method still the folder
    report = doctor(str(out / "manifest.csv"))
    assert report.ok and report.name_leaks == [], report.text


def test_doctor_reports_a_fake_whose_source_is_in_another_split(tmp_path) -> None:
    rows = [("real/000.mp4", "real", "train", "a"), ("real/003.mp4", "real", "train", "b"),
            ("fake/Deepfakes/000_003.mp4", "fake", "test", "c"),  # its sources are in train
            ("real/001.mp4", "real", "val", "d"), ("fake/FaceSwap/001.mp4", "fake", "val", "e")]
    for rel, *_ in rows:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(rel.encode())
    samples = [Sample(id=rel, path=rel, label=lab, split=sp, group=g, modality="video")
               for rel, lab, sp, g in rows]
    path = write_manifest(Manifest(samples, tmp_path), tmp_path / "manifest.csv")
    report = doctor(str(path))
    assert not report.ok and report.leaks == []  # groups alone do not show it
    assert report.name_leaks == [
        "fake/Deepfakes/000_003.mp4 (test) named after real/000.mp4 (train)",
        "fake/Deepfakes/000_003.mp4 (test) named after real/003.mp4 (train)"]
    assert "fakes named after a real file in another split: 2" in report.text
