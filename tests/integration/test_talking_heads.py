"""`prepare` on the 17 real talking-head clips of ../shared/data (varied size, fps, a portrait
720x1280): a face must be found in every clip. Two frames per clip keep it quick."""
from __future__ import annotations

from pathlib import Path

import pytest

from dfdetect.config.schema import PrepareConfig
from dfdetect.data.manifest import read_manifest, validate
from dfdetect.preparation import prepare

pytestmark = pytest.mark.shared_data


def test_prepare_finds_a_face_in_every_talking_head_clip(shared_data: Path, tmp_path) -> None:
    clips = sorted((shared_data / "talking_heads").glob("*.mp4"))
    assert len(clips) == 17
    root = tmp_path / "heads"  # folder layout by symlinks: the shared data is never copied
    (root / "real").mkdir(parents=True)
    (root / "fake").mkdir()
    for clip in clips:
        (root / "real" / clip.name).symlink_to(clip)
    out = tmp_path / "prepared"
    lines: list[str] = []
    m = prepare(PrepareConfig(data="folder", root=str(root), out=str(out), frames_per_video=2,
                              image_size=112, split_ratio="0.8"), echo=lines.append)
    assert "faces found in 17 (100.0 %)" in "\n".join(lines)
    assert {s.extra["video_id"] for s in m.samples} == {f"real/{c.name}" for c in clips}
    assert len(m) == 34
    written = read_manifest(out / "manifest.csv")
    validate(written)
    assert {s.split for s in written.samples} == {"train", "val"}
    portrait = [s for s in m.samples if s.extra["video_id"] == "real/d13.mp4"]
    assert all(int(s.extra["crop_size"]) <= 720 for s in portrait)  # upright: width 720
    # the face fills a sensible share of each crop (margin 0.2 -> box about 1/1.4 of the side)
    for s in m.samples:
        side = float(s.extra["box_x1"]) - float(s.extra["box_x0"])
        assert 0.3 * 112 < side < 112
