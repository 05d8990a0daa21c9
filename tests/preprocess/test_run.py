"""Tests for the video prepare driver (dfdetect.preprocess.run via dfdetect.preparation):
crop rows, every failure kind, resume, shard + merge, workers, and the all-failed exit."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from dfdetect.config.schema import PrepareConfig
from dfdetect.data.manifest import read_manifest, validate
from dfdetect.preparation import prepare
from dfdetect.preprocess import PrepareError
from dfdetect.preprocess.merge import merge_shards


@pytest.fixture(scope="module")
def video_tree(tmp_path_factory) -> Path:
    """real/a, real/b, fake/c: moving faces; fake/blank: no face; fake/broken: not a video."""
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    root = tmp_path_factory.mktemp("videos")
    face = astronaut_face()
    for i, name in enumerate(["real/a.mp4", "real/b.mp4", "fake/c.mp4"]):
        write_video(root / name, moving_face_frames(face, n=10, size=(96, 80), seed=i), gop=5)
    write_video(root / "fake/blank.mp4", [np.full((80, 96, 3), 90, np.uint8)] * 6)
    (root / "fake/broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 40)
    return root


def _cfg(root: Path, out: Path, **kw) -> PrepareConfig:
    base = dict(data="folder", root=str(root), out=str(out), frames_per_video=3,
                min_face_size=20, image_size=48, split_ratio="0.5,0.5")
    base.update(kw)
    return PrepareConfig(**base)


def _failures(out: Path) -> dict[str, str]:
    with (out / "failures.csv").open() as f:
        return {Path(r["path"]).name: r["stage"] for r in csv.DictReader(f)}


def test_videos_become_face_crop_rows_and_failures_are_logged(video_tree, tmp_path) -> None:
    lines: list[str] = []
    out = tmp_path / "prep"
    m = prepare(_cfg(video_tree, out), echo=lines.append)
    assert len(m) == 9 and {s.modality for s in m.samples} == {"frame"}
    first = m.samples[0]
    assert {"video_id", "frame", "time", "crop_size", "box_x0", "lm1_x", "lm5_y"} <= set(first.extra)
    assert first.extra["lm1_x"] and first.extra["detector"] == "mtcnn"
    by_video = {s.extra["video_id"] for s in m.samples}
    assert by_video == {"real/a.mp4", "real/b.mp4", "fake/c.mp4"}
    assert all(s.split for s in m.samples)
    written = read_manifest(out / "manifest.csv")
    validate(written)  # crops exist, no group in two splits
    assert all(p.startswith("crops/") for p in (s.path for s in written.samples))
    assert _failures(out) == {"blank.mp4": "detect", "broken.mp4": "open"}
    assert (out / "videos.csv").is_file() and len(list((out / "done").rglob("*.json"))) == 5
    text = "\n".join(lines)
    assert "Processed 5/5 videos" in text and "faces found in 3 (60.0 %)" in text
    assert "failures: 2" in text and str(out / "failures.csv") in text
    assert not (out / "crops" / "fake" / "blank").exists()  # a failed video leaves no crops


def test_rerun_skips_done_videos_and_redoes_changed_settings(video_tree, tmp_path) -> None:
    out = tmp_path / "prep"
    prepare(_cfg(video_tree, out), echo=lambda _: None)
    marker = out / "done" / "real" / "a.mp4.json"
    (out / "done" / "real" / "b.mp4.json").unlink()  # as if killed before b was finished
    before = marker.stat().st_mtime_ns
    lines: list[str] = []
    m = prepare(_cfg(video_tree, out), echo=lines.append)
    assert "4 already done, 1 to do" in lines[0] and len(m) == 9
    assert marker.stat().st_mtime_ns == before
    lines.clear()
    prepare(_cfg(video_tree, out, retry_failed=True), echo=lines.append)
    assert "3 already done, 2 to do" in lines[0]
    lines.clear()
    m = prepare(_cfg(video_tree, out, margin=0.4), echo=lines.append)
    assert "0 already done, 5 to do" in lines[0]
    assert {s.extra["crop_size"] for s in m.samples} != set()


def test_shards_merge_into_the_unsharded_result(video_tree, tmp_path) -> None:
    whole = prepare(_cfg(video_tree, tmp_path / "whole"), echo=lambda _: None)
    n = 2  # sorted ids: shard 0 = blank, c, real/b; shard 1 = broken, real/a
    out = tmp_path / "sharded"
    for k in range(n - 1):
        prepare(_cfg(video_tree, out, shard=f"{k}/{n}"), echo=lambda _: None)
    with pytest.raises(PrepareError, match=f"{n - 1}/{n} not finished"):
        merge_shards(str(out), echo=lambda _: None)
    prepare(_cfg(video_tree, out, shard=f"{n - 1}/{n}"), echo=lambda _: None)
    merged = merge_shards(str(out), echo=lambda _: None)
    assert sorted(s.id for s in merged.samples) == sorted(s.id for s in whole.samples)
    assert {s.id: s.split for s in merged.samples} == {s.id: s.split for s in whole.samples}
    assert _failures(out) == _failures(tmp_path / "whole")
    validate(read_manifest(out / "manifest.csv"))


def test_bad_shard_is_refused() -> None:
    from dfdetect.preprocess.run import parse_shard

    assert parse_shard("3/4") == (3, 4)
    for bad in ("4/4", "1", "a/b", "0/0"):
        with pytest.raises(PrepareError):
            parse_shard(bad)


def test_worker_processes_give_the_same_rows(video_tree, tmp_path) -> None:
    one = prepare(_cfg(video_tree, tmp_path / "one"), echo=lambda _: None)
    two = prepare(_cfg(video_tree, tmp_path / "two", num_workers=2), echo=lambda _: None)
    assert sorted((s.id, Path(s.path).name) for s in one.samples) == \
        sorted((s.id, Path(s.path).name) for s in two.samples)


def test_keep_all_faces_and_haar_without_landmarks(video_tree, tmp_path) -> None:
    m = prepare(_cfg(video_tree, tmp_path / "haar", detector="haar", fallback_detector="none",
                     keep_all_faces=True, frames_per_video=4), echo=lambda _: None)
    assert m.samples and all(s.extra["lm1_x"] == "" for s in m.samples)
    assert all("_face" in s.id for s in m.samples)


def test_a_run_where_every_video_fails_exits_non_zero(tmp_path) -> None:
    from dfdetect.cli.main import main

    root = tmp_path / "bad"
    for name in ("real/x.mp4", "fake/y.mp4"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"not a video")
    code = main(["prepare", "data=folder", f"root={root}", f"out={tmp_path / 'o'}",
                 "detector=haar", "fallback_detector=none"])
    assert code == 2
    assert len(json.loads((tmp_path / "o" / "done" / "real" / "x.mp4.json").read_text())) > 0
