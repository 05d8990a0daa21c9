"""Tests for the labels-CSV dataset adapter (dfdetect.data.adapters.labels_csv)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from dfdetect.data.adapters import build_manifest
from dfdetect.data.manifest import ManifestError, validate


def _image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (10, 120, 200)).save(path, format="JPEG")


@pytest.fixture
def flux_like(tmp_path: Path) -> Path:
    """Like shared/data/faces_flux: labels.csv with path,label,group,source beside images/."""
    root = tmp_path / "faces_flux"
    rows = [
        ("images/00393b62d7e6.jpg", "fake", "gonzalez", "FLUX1_LoRA"),
        ("images/0065b6fe523c.jpg", "real", "correa", "video_extraction"),
        ("images/00912ee70513.jpg", "real", "lasso", "video_extraction"),
        ("images/009ee1668cc5.jpg", "fake", "correa", "FLUX1_LoRA"),
    ]
    for path, *_ in rows:
        _image(root / path)
    text = "path,label,group,source\n" + "".join(",".join(r) + "\n" for r in rows)
    (root / "labels.csv").write_text(text)
    return root


def test_flux_like_labels_csv(flux_like: Path) -> None:
    m = build_manifest("labels_csv", str(flux_like / "labels.csv"))
    assert len(m.samples) == 4
    first = m.samples[0]
    assert first.id == "images/00393b62d7e6.jpg"
    assert first.path == "images/00393b62d7e6.jpg"
    assert first.label == "fake"
    assert first.group == "gonzalez"
    assert first.source == "FLUX1_LoRA"
    assert first.modality == "image"
    assert first.split == ""
    assert [s.label for s in m.samples] == ["fake", "real", "real", "fake"]
    assert [s.method for s in m.samples] == ["", "none", "none", ""]
    assert m.root == flux_like.resolve()
    assert m.name == "faces_flux"
    assert len({s.id for s in m.samples}) == 4
    validate(m)


def test_folder_holding_labels_csv(flux_like: Path) -> None:
    by_file = build_manifest("labels_csv", str(flux_like / "labels.csv"))
    by_dir = build_manifest("labels_csv", str(flux_like))
    assert by_dir.samples == by_file.samples
    assert by_dir.root == by_file.root


def test_synonyms_system_split_and_default_source(tmp_path: Path) -> None:
    root = tmp_path / "asv"
    root.mkdir()
    (root / "labels.csv").write_text(
        "path,label,system,split,group\n"
        "wav/a.flac,bonafide,,train,spk1\n"
        "wav/b.flac,spoof,A07,test,spk2\n"
        "wav/c.flac, spoof ,A19,val,spk3\n"
        "wav/d.flac,real,,train,spk1\n"
        "wav/e.flac,fake,A01,train,spk1\n"
    )
    m = build_manifest("labels_csv", str(root / "labels.csv"), real_label="bonafide",
                       fake_label="spoof")
    assert [s.label for s in m.samples] == ["real", "fake", "fake", "real", "fake"]
    assert [s.method for s in m.samples] == ["none", "A07", "A19", "none", "A01"]
    assert [s.split for s in m.samples] == ["train", "test", "val", "train", "train"]
    assert {s.modality for s in m.samples} == {"audio"}
    assert {s.source for s in m.samples} == {"asv"}  # no source column: the folder name
    validate(m, check_files=False)


def test_method_column_preferred_then_generator(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("path,label,generator\na.png,fake,sdxl\nb.png,real,\n")
    m = build_manifest("labels_csv", str(csv_path))
    assert [s.method for s in m.samples] == ["sdxl", "none"]


def test_unknown_label_names_the_line(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("path,label\na.jpg,real\nb.jpg,fake\nc.jpg,maybe\n")
    with pytest.raises(ManifestError) as info:
        build_manifest("labels_csv", str(csv_path))
    msg = str(info.value)
    assert "line 4" in msg and "'maybe'" in msg and str(csv_path) in msg


def test_synonym_not_configured_is_unknown(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("path,label\na.jpg,bonafide\n")
    with pytest.raises(ManifestError, match="line 2: unknown label 'bonafide'"):
        build_manifest("labels_csv", str(csv_path))


def test_missing_columns(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("file,class\na.jpg,real\n")
    with pytest.raises(ManifestError, match="needs 'path' and 'label'"):
        build_manifest("labels_csv", str(csv_path))


def test_missing_labels_csv(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="labels CSV not found"):
        build_manifest("labels_csv", str(tmp_path))


def test_short_row_is_a_manifest_error(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("path,label,group\na.jpg,real,g\nb.jpg\n")
    with pytest.raises(ManifestError, match="line 3"):
        build_manifest("labels_csv", str(csv_path))
