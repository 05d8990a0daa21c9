"""Tests for the DFDC adapter (dfdetect.data.adapters.dfdc)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dfdetect.data.adapters import build_manifest
from dfdetect.data.manifest import ManifestError, group_split, validate


def _part(root: Path, put, name: str, entries: dict) -> None:
    put(root, *(f"{name}/{f}" for f in entries))
    (root / name / "metadata.json").write_text(json.dumps(entries))


def _meta(label: str, split: str = "train", original: str | None = None) -> dict:
    d = {"label": label, "split": split}
    if original:
        d["original"] = original
    return d


def test_every_metadata_json_is_read_and_fakes_group_with_their_original(tmp_path, put) -> None:
    _part(tmp_path, put, "dfdc_train_part_0", {"a.mp4": _meta("REAL"),
                                                "b.mp4": _meta("FAKE", original="a.mp4")})
    _part(tmp_path, put, "dfdc_train_part_1", {"c.mp4": _meta("REAL"),
                                                "d.mp4": _meta("FAKE", original="a.mp4"),
                                                "e.mp4": _meta("FAKE", original="c.mp4")})
    m = build_manifest("dfdc", str(tmp_path))
    rows = {s.id: s for s in m.samples}
    assert set(rows) == {f"dfdc/{x}" for x in "abcde"}
    assert rows["dfdc/a"].group == rows["dfdc/b"].group == rows["dfdc/d"].group
    assert rows["dfdc/e"].group == rows["dfdc/c"].group != rows["dfdc/a"].group
    assert rows["dfdc/b"].label == "fake" and rows["dfdc/a"].method == "none"
    assert rows["dfdc/d"].extra["part"] == "dfdc_train_part_1"
    # every video says split=train, which is no split: left for the group split
    assert {s.split for s in m.samples} == {""}
    m.samples = group_split(m.samples, (0.5, 0.5, 0), seed=0)
    validate(m)


def test_named_splits_are_kept(tmp_path: Path, put) -> None:
    _part(tmp_path, put, "p", {"a.mp4": _meta("REAL", "train"), "b.mp4": _meta("REAL", "test"),
                               "c.mp4": _meta("FAKE", "test", "b.mp4")})
    m = build_manifest("dfdc", str(tmp_path))
    assert {s.id: s.split for s in m.samples} == {"dfdc/a": "train", "dfdc/b": "test",
                                                  "dfdc/c": "test"}


def test_bad_metadata_is_explained(tmp_path: Path, put) -> None:
    with pytest.raises(ManifestError, match="no metadata.json"):
        build_manifest("dfdc", str(tmp_path))
    _part(tmp_path, put, "p", {"a.mp4": {"label": "MAYBE"}})
    with pytest.raises(ManifestError, match="expected REAL or FAKE"):
        build_manifest("dfdc", str(tmp_path))
    (tmp_path / "p" / "metadata.json").write_text(json.dumps({"zz.mp4": _meta("REAL")}))
    with pytest.raises(ManifestError, match="none of the 1 listed files is on disk"):
        build_manifest("dfdc", str(tmp_path))
