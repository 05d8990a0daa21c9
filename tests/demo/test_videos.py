"""Tests for the demo's rendered clips (dfdetect.demo.videos) and their prepare step."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dfdetect.demo.videos import render_demo_videos
from dfdetect.preprocess.frames import probe, read_frames


def test_clips_are_real_and_frame_by_frame_swapped_pairs(tmp_path: Path) -> None:
    rows = render_demo_videos(tmp_path, size=64, frames=4, seed=0)
    assert len(rows) == 6 and {r.modality for r in rows} == {"video"}
    assert {r.group for r in rows} == {"astronaut", "grace_hopper", "camera"}
    real = next(r for r in rows if r.id == "video/real/astronaut_0")
    fake = next(r for r in rows if r.id == "video/fake/astronaut_0")
    assert fake.method == "faceswap_blend" and real.method == "none"
    fr = [list(read_frames(probe(str(tmp_path / r.path)), [0, 3])) for r in (real, fake)]
    assert [f.index for f in fr[0]] == [0, 3] and fr[0][0].rgb.shape == (64, 64, 3)
    diff = np.abs(fr[0][0].rgb.astype(int) - fr[1][0].rgb.astype(int)).mean(axis=2)
    assert diff[24:40, 24:40].mean() > 3 * max(1.0, diff[:6, :6].mean())  # the face, not corners
    moved = np.abs(fr[0][0].rgb.astype(int) - fr[0][1].rgb.astype(int)).mean()
    assert moved > 2  # camera motion between the first and last frame


def test_demo_data_step_prepares_the_clips_into_crops(tmp_path: Path) -> None:
    from dfdetect.config.schema import DemoConfig
    from dfdetect.data.manifest import read_manifest, validate
    from dfdetect.demo.run import _prepare_data

    lines: list[str] = []
    path = _prepare_data(DemoConfig(out=str(tmp_path), image_size=48, variants=1, clips=1),
                         lines.append)
    m = read_manifest(path)
    validate(m)
    frames = [s for s in m.samples if s.modality == "frame"]
    assert {s.label for s in frames} == {"real", "fake"}
    assert {s.extra["video_id"].split("/")[-1] for s in frames} >= {"astronaut_0"}
    assert any("Video: Processed 6/6 videos" in line for line in lines)
