"""Tests for one video -> crop rows (dfdetect.preprocess.video)."""
from __future__ import annotations

from pathlib import Path

from dfdetect.preprocess.video import VideoSettings, VideoWorker, safe_id


def _sample() -> dict:
    return {"id": "real/face", "path": "real/face.mp4", "label": "real", "split": "train",
            "group": "g", "source": "s", "method": "none"}


def test_safe_id_keeps_folders_and_drops_escapes() -> None:
    assert safe_id("Deepfakes/000_003") == "Deepfakes/000_003"
    assert safe_id("../../etc/pass wd") == "etc/pass_wd"
    assert safe_id("") == "_"


def test_fingerprint_ignores_the_device_only() -> None:
    a = VideoSettings()
    assert a.fingerprint() == VideoSettings(device="cuda").fingerprint()
    assert a.fingerprint() != VideoSettings(margin=0.3).fingerprint()


def test_rows_carry_the_video_and_crop_geometry(face_video: Path, tmp_path: Path) -> None:
    worker = VideoWorker(VideoSettings(frames_per_video=2, min_face_size=20, image_size=32,
                                       fallback_detector="none"))
    result = worker.process(_sample(), str(face_video), str(tmp_path))
    assert result["status"] == "ok" and result["sampled"] == 2 and result["with_face"] == 2
    row = result["rows"][0]
    assert row["id"] == "real/face/000003" and row["modality"] == "frame"
    assert (row["split"], row["group"], row["method"]) == ("train", "g", "none")
    assert row["extra"]["video_id"] == "real/face" and row["extra"]["frame"] == "3"
    assert (tmp_path / row["path"]).is_file() and row["path"].startswith("crops/real/face/")
    assert 0 <= float(row["extra"]["lm1_x"]) <= 32


def test_an_unexpected_error_is_a_failure_not_a_crash(face_video: Path, tmp_path: Path) -> None:
    worker = VideoWorker(VideoSettings(frames_per_video=2, detector="haar",
                                       fallback_detector="none"))

    class Broken:
        name = "broken"

        def detect(self, images):
            raise RuntimeError("detector exploded")

    worker.detector = Broken()
    result = worker.process(_sample(), str(face_video), str(tmp_path))
    assert result["status"] == "failed" and result["stage"] == "error"
    assert "RuntimeError: detector exploded" in result["reason"]
    assert not (tmp_path / "crops" / "real" / "face").exists()
