"""Video prediction through a fake crop provider (the real one lives in dfdetect.preprocess)."""
from __future__ import annotations

import numpy as np
import pytest

from dfdetect.data.media import DecodeError
from dfdetect.inference.video import VideoScorer, crop_provider


class MeanScorer:
    """Scores a crop by its mean pixel / 255; counts the batches it is given."""

    batch_size = 4
    threshold = 0.5

    def __init__(self) -> None:
        self.batches: list[int] = []

    def score_arrays(self, arrays):
        self.batches.append(len(arrays))
        return [float(a.mean() / 255) for a in arrays]


def _crop(value: int) -> np.ndarray:
    return np.full((8, 8, 3), value, dtype=np.uint8)


VIDEOS = {
    "a.mp4": [(0, _crop(51)), (10, _crop(102)), (20, _crop(255))],   # 0.2, 0.4, 1.0
    "b.mp4": [(5, _crop(0))],
    "c.mp4": [(0, _crop(204)), (7, _crop(153))],                     # 0.8, 0.6
}


def fake_provider(path: str):
    if path == "broken.mp4":
        raise DecodeError(f"{path}: cannot open video (moov atom not found)")
    return VIDEOS.get(path, [])


def test_scores_aggregates_and_keeps_per_frame_scores() -> None:
    scorer = MeanScorer()
    out = list(VideoScorer(scorer, fake_provider, "mean").score(["a.mp4", "b.mp4", "c.mp4"]))
    assert [v.path for v in out] == ["a.mp4", "b.mp4", "c.mp4"]
    assert out[0].score == pytest.approx((0.2 + 0.4 + 1.0) / 3)
    assert out[0].frames == [{"frame": 0, "score": pytest.approx(0.2)},
                             {"frame": 10, "score": pytest.approx(0.4)},
                             {"frame": 20, "score": pytest.approx(1.0)}]
    assert out[1].score == 0.0 and out[2].score == pytest.approx(0.7)
    # crops of several videos share batches: 3 + 1 = 4 crops fill one, then 2
    assert scorer.batches == [4, 2]


@pytest.mark.parametrize("strategy,expected", [("max", 1.0), ("topk_mean", 0.7)])
def test_strategy_is_applied(strategy, expected) -> None:
    (v,) = VideoScorer(MeanScorer(), fake_provider, strategy, k=2).score(["a.mp4"])
    assert v.score == pytest.approx(expected)


def test_broken_and_faceless_videos_fail_without_losing_the_others() -> None:
    seen = []
    out = list(VideoScorer(MeanScorer(), fake_provider).score(
        ["a.mp4", "broken.mp4", "noface.mp4", "c.mp4"], progress=seen.append))
    assert [v.status for v in out] == ["ok", "error", "error", "ok"]
    assert out[1].score is None and "moov atom" in out[1].error
    assert out[2].error == "no face found in any sampled frame" and out[2].frames == []
    assert out[3].score == pytest.approx(0.7)
    assert sum(seen) == 4


def test_unknown_strategy_fails_before_decoding() -> None:
    from dfdetect.registry import RegistryError

    with pytest.raises(RegistryError):
        VideoScorer(MeanScorer(), fake_provider, "median")


def test_default_provider_reports_an_unreadable_video(tmp_path) -> None:
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"not a video at all")
    provider = crop_provider({"image_size": 32}, num_frames=8)
    with pytest.raises(DecodeError, match="clip.mp4"):
        provider(str(bad))


def test_default_provider_crops_the_face_of_a_real_clip(tmp_path) -> None:
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    clip = write_video(tmp_path / "face.mp4",
                       moving_face_frames(astronaut_face(), n=8, size=(160, 128)), gop=4)
    crops = crop_provider({"image_size": 48}, num_frames=4)(str(clip))
    assert crops and all(c.shape == (48, 48, 3) and c.dtype == np.uint8 for _, c in crops)
    assert [i for i, _ in crops] == sorted(i for i, _ in crops)
    # per crop: its frame's time (25 fps) and the face box inside the 160 x 128 frame
    assert [d["time"] for d in crops.details] == pytest.approx([i / 25 for i, _ in crops])
    assert all(0 <= x0 < x1 <= 160 and 0 <= y0 < y1 <= 128
               for x0, y0, x1, y1 in (d["box"] for d in crops.details))


class Detailed(list):
    details: list = []


def test_provider_details_reach_the_frames_and_only_when_they_match() -> None:
    def provider(path: str):
        got = Detailed(VIDEOS[path])
        got.details = [{"time": i / 10, "box": [i, i, i + 4, i + 4]} for i, _ in got]
        if path == "c.mp4":
            got.details = got.details[:1]  # does not match the crops: ignored
        return got

    a, c = VideoScorer(MeanScorer(), provider, "mean").score(["a.mp4", "c.mp4"])
    assert a.frames[1] == {"frame": 10, "score": pytest.approx(0.4), "time": 1.0,
                           "box": [10, 10, 14, 14]}
    assert c.frames == [{"frame": 0, "score": pytest.approx(0.8)},
                        {"frame": 7, "score": pytest.approx(0.6)}]


