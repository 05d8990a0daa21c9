"""Tiny generated videos for the preprocess tests (a few frames, under 100 px)."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def face_video(tmp_path_factory) -> Path:
    """A 12-frame 96x80 H.264 clip of a moving face (keyframe every 4 frames)."""
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    path = tmp_path_factory.mktemp("vid") / "face.mp4"
    return write_video(path, moving_face_frames(astronaut_face(), n=12, size=(96, 80)), gop=4)


@pytest.fixture(scope="session")
def mtcnn():
    """One MTCNN for the session (building it costs about a second)."""
    from dfdetect.preprocess.faces import build_detector

    return build_detector("mtcnn", min_face_size=20)
