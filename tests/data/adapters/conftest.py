"""Tiny real videos for the dataset adapter tests (4 frames of 32x32 H.264 each)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory) -> bytes:
    """The bytes of one tiny MP4; adapters only list files, so trees reuse these bytes."""
    from dfdetect.demo.clips import write_video

    path = write_video(tmp_path_factory.mktemp("tiny") / "t.mp4",
                       [np.full((32, 32, 3), 40 * i, np.uint8) for i in range(4)])
    return path.read_bytes()


@pytest.fixture
def put(tiny_video):
    """put(root, "a/b.mp4", ...) writes tiny videos at those paths."""

    def write(root: Path, *names: str) -> Path:
        for name in names:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(tiny_video)
        return root

    return write
