"""Tests for frame sampling (dfdetect.preprocess.frames): indices, seek planning, decoding."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dfdetect.demo.clips import write_video
from dfdetect.preprocess import PrepareError
from dfdetect.preprocess.frames import (SEEK_COST, VideoInfo, plan_reads, probe, read_frames,
                                        sample_indices)


def numbered_frames(n: int, size=(64, 48)) -> list[np.ndarray]:
    """Frames whose brightness encodes their index (index * 10), to check which frame came out."""
    w, h = size
    return [np.full((h, w, 3), min(255, 10 * i), np.uint8) for i in range(n)]


def test_sample_indices_even_all_and_step() -> None:
    assert sample_indices(10, count=2) == [2, 7]
    assert sample_indices(100, count=4) == [12, 37, 62, 87]
    assert sample_indices(5, count=32) == [0, 1, 2, 3, 4]  # short video: every frame
    assert sample_indices(7, count=0) == list(range(7))   # 0 = all frames
    assert sample_indices(10, count=3, step=4) == [0, 4, 8]  # every k-th wins
    assert sample_indices(0, count=3) == []


def _info(n: int, key_every: int) -> VideoInfo:
    return VideoInfo("x.mp4", 64, 48, list(range(n)), list(range(0, n, key_every)), 1 / 25)


def test_plan_seeks_with_dense_keyframes_and_decodes_through_sparse_ones() -> None:
    wanted = sample_indices(300, count=8)
    dense = plan_reads(_info(300, key_every=10), wanted)
    sparse = plan_reads(_info(300, key_every=250), wanted)
    assert all(dense)          # each target is close to its keyframe: seek every time
    assert sparse[0] and not any(sparse[1:])  # one GOP: decoding on is cheaper than re-seeking
    assert sparse.count(True) == 1
    # targets closer together than the seek cost are decoded through
    near = plan_reads(_info(300, key_every=10), [0, SEEK_COST // 2])
    assert near == [True, False]


@pytest.mark.parametrize("gop", [0, 3])
def test_read_frames_returns_exactly_the_wanted_frames(tmp_path: Path, gop: int) -> None:
    path = write_video(tmp_path / "n.mp4", numbered_frames(20), gop=gop, crf=0)
    info = probe(str(path))
    assert info.n_frames == 20 and (info.width, info.height) == (64, 48)
    wanted = [1, 6, 7, 15, 19]
    frames = list(read_frames(info, wanted))
    assert [f.index for f in frames] == wanted
    for f in frames:  # the pixels are those of the frame with that index
        assert abs(int(np.median(f.rgb)) - 10 * f.index) <= 3
        assert f.rgb.shape == (48, 64, 3)
    assert frames[1].time == pytest.approx(6 / 25, abs=1e-3)


def test_rotation_metadata_gives_upright_frames(tmp_path: Path) -> None:
    img = np.zeros((48, 64, 3), np.uint8)
    img[:8, :8] = 255  # a white mark in the top-left corner
    path = write_video(tmp_path / "r.mp4", [img] * 4, rotation=90, crf=0)
    frame = next(iter(read_frames(probe(str(path)), [0])))
    assert frame.rgb.shape == (64, 48, 3)  # displayed as portrait
    # a 90 degree counter-clockwise turn moves the top-left corner to the bottom-left
    assert frame.rgb[-4:, :4].mean() > 200 and frame.rgb[:4, :4].mean() < 50


def test_variable_frame_rate_indexes_by_order_not_by_fps(tmp_path: Path) -> None:
    import av
    from fractions import Fraction

    path = tmp_path / "vfr.mp4"
    stamps = [0, 40, 60, 200, 210, 400]  # milliseconds, irregular gaps
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        s.options = {"crf": "0", "preset": "ultrafast", "bf": "0"}
        for i, (ms, img) in enumerate(zip(stamps, numbered_frames(6))):
            fr = av.VideoFrame.from_ndarray(img, format="rgb24")
            fr.pts, fr.time_base = ms, Fraction(1, 1000)
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    info = probe(str(path))
    assert info.n_frames == 6
    frames = list(read_frames(info, [3, 5]))
    assert [f.index for f in frames] == [3, 5]
    assert [round(f.time, 2) for f in frames] == [0.2, 0.4]
    assert abs(int(np.median(frames[0].rgb)) - 30) <= 3


def test_garbage_file_fails_at_open(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 50)
    with pytest.raises(PrepareError) as e:
        probe(str(bad))
    assert e.value.stage == "open" and "bad.mp4" in str(e.value)


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    import av

    path = tmp_path / "audio.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate = 16000
        for p in [*s.encode(frame), *s.encode()]:
            c.mux(p)
    with pytest.raises(PrepareError, match="no video stream") as e:
        probe(str(path))
    assert e.value.stage == "open"


def _cut_in_half(path: Path) -> Path:
    cut = path.with_name("cut_" + path.name)
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_truncated_file_without_its_index_fails_at_open(tmp_path: Path) -> None:
    cut = _cut_in_half(write_video(tmp_path / "t.mp4", numbered_frames(30), gop=5, crf=0))
    with pytest.raises(PrepareError, match="cannot open") as e:  # the index (moov) was at the end
        probe(str(cut))
    assert e.value.stage == "open"


def test_truncated_file_keeps_the_frames_before_the_cut(tmp_path: Path) -> None:
    path = write_video(tmp_path / "t.mp4", numbered_frames(30), gop=5, crf=0, faststart=True)
    info = probe(str(_cut_in_half(path)))
    assert 0 < info.n_frames < 30
    frames = list(read_frames(info, sample_indices(info.n_frames, 30)))
    assert 0 < len(frames) <= info.n_frames
    assert all(abs(int(np.median(f.rgb)) - 10 * f.index) <= 3 for f in frames)
