"""Tests for the real/fake folder dataset adapter (dfdetect.data.adapters.folder)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from dfdetect.data.adapters import ADAPTERS, build_manifest, modality_of
from dfdetect.data.manifest import ManifestError, validate


def _image(path: Path, color=(200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".jpg": "JPEG", ".png": "PNG"}[path.suffix]
    Image.new("RGB", (8, 8), color).save(path, format=fmt)
    return path


def _tree(root: Path, real: str = "real", fake: str = "fake") -> Path:
    _image(root / real / "a.jpg")
    _image(root / real / "person1" / "b.png")
    _image(root / fake / "methodX" / "c.jpg")
    (root / fake / "methodX" / "notes.txt").write_text("not media")
    (root / real / "README").write_text("no suffix")
    _image(root / "other" / "ignored.jpg")  # outside the class folders
    return root


def _by_id(manifest) -> dict:
    return {s.id: s for s in manifest.samples}


def test_folder_labels_groups_methods(tmp_path: Path) -> None:
    root = _tree(tmp_path / "faces")
    m = build_manifest("folder", str(root))
    rows = _by_id(m)
    assert set(rows) == {"real/a.jpg", "real/person1/b.png", "fake/methodX/c.jpg"}  # .txt etc. ignored
    assert len(m.samples) == len(rows)  # ids unique

    a, b, c = rows["real/a.jpg"], rows["real/person1/b.png"], rows["fake/methodX/c.jpg"]
    assert (a.label, b.label, c.label) == ("real", "real", "fake")
    assert (a.path, b.path, c.path) == ("real/a.jpg", "real/person1/b.png", "fake/methodX/c.jpg")
    assert a.group == ""  # a top-level file is its own group
    assert b.group == "real/person1"
    assert c.group == "fake/methodX"
    assert (a.method, b.method, c.method) == ("none", "none", "methodX")
    assert {s.modality for s in m.samples} == {"image"}
    assert {s.source for s in m.samples} == {"faces"}
    assert all(s.split == "" for s in m.samples)

    assert m.root == root.resolve()
    assert m.name == "faces"
    for s in m.samples:
        assert m.resolve(s).is_file()
    validate(m)


def test_folder_modalities(tmp_path: Path) -> None:
    root = _tree(tmp_path / "mixed")
    (root / "fake" / "gen" / "clip.MP4").parent.mkdir(parents=True)
    (root / "fake" / "gen" / "clip.MP4").write_bytes(b"\x00")
    (root / "real" / "voice.wav").write_bytes(b"\x00")
    rows = _by_id(build_manifest("folder", str(root)))
    assert rows["fake/gen/clip.MP4"].modality == "video"
    assert rows["fake/gen/clip.MP4"].method == "gen"
    assert rows["real/voice.wav"].modality == "audio"
    only_images = _by_id(build_manifest("folder", str(root), modalities=("image",)))
    assert "fake/gen/clip.MP4" not in only_images and "real/voice.wav" not in only_images
    assert "real/a.jpg" in only_images


@pytest.mark.parametrize("suffix,expected", [(".jpg", "image"), (".JPEG", "image"),
                                             (".webp", "image"), (".mp4", "video"),
                                             (".flac", "audio"), (".txt", None), ("", None)])
def test_modality_of(suffix: str, expected) -> None:
    assert modality_of(suffix) == expected


def test_custom_label_names(tmp_path: Path) -> None:
    root = _tree(tmp_path / "asv", real="bonafide", fake="spoof")
    m = build_manifest("folder", str(root), real_label="bonafide", fake_label="spoof")
    rows = _by_id(m)
    assert {s.label for s in m.samples} == {"real", "fake"}  # canonical names
    assert rows["real/person1/b.png"].path == "bonafide/person1/b.png"
    assert rows["fake/methodX/c.jpg"].path == "spoof/methodX/c.jpg"
    assert rows["fake/methodX/c.jpg"].method == "methodX"
    validate(m)


def test_label_comes_from_class_folder_only(tmp_path: Path) -> None:
    root = tmp_path / "d"
    _image(root / "real" / "fake_looking" / "fake.jpg")
    _image(root / "fake" / "real" / "x.jpg")
    rows = _by_id(build_manifest("folder", str(root)))
    assert rows["real/fake_looking/fake.jpg"].label == "real"
    assert rows["fake/real/x.jpg"].label == "fake"


def test_missing_class_folder_names_it(tmp_path: Path) -> None:
    root = tmp_path / "half"
    _image(root / "real" / "a.jpg")
    with pytest.raises(ManifestError) as info:
        build_manifest("folder", str(root))
    msg = str(info.value)
    assert str(root / "fake") in msg
    assert str(root / "real") + "," not in msg  # the present one is not reported missing


def test_missing_custom_class_folder_names_it(tmp_path: Path) -> None:
    root = _tree(tmp_path / "d")  # has real/ and fake/, not bonafide/ spoof/
    with pytest.raises(ManifestError) as info:
        build_manifest("folder", str(root), real_label="bonafide", fake_label="spoof")
    msg = str(info.value)
    assert str(root / "bonafide") in msg and str(root / "spoof") in msg


def test_no_media_files(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    (root / "real").mkdir(parents=True)
    (root / "fake").mkdir()
    (root / "fake" / "x.txt").write_text("x")
    with pytest.raises(ManifestError, match="no media files"):
        build_manifest("folder", str(root))


def test_registered() -> None:
    from dfdetect.data.adapters import _load_builtin

    _load_builtin()
    assert "folder" in ADAPTERS and "labels_csv" in ADAPTERS


def test_ids_unique_when_names_differ_only_by_suffix(tmp_path: Path) -> None:
    root = tmp_path / "d"
    _image(root / "real" / "x.jpg")
    _image(root / "real" / "x.png")
    _image(root / "fake" / "y.jpg")
    m = build_manifest("folder", str(root))
    assert len({s.id for s in m.samples}) == len(m.samples)


def test_folder_lists_videos_as_video_rows(tmp_path: Path, put) -> None:
    root = put(tmp_path / "vids", "real/a.mp4", "fake/deepfakes/b.mov")
    m = build_manifest("folder", str(root))
    rows = _by_id(m)
    assert rows["real/a.mp4"].modality == rows["fake/deepfakes/b.mov"].modality == "video"
    assert rows["fake/deepfakes/b.mov"].method == "deepfakes"
