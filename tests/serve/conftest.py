"""Fixtures of the serve tests: tiny checkpoints (no training: weights from a seed, as the
inference tests use) and small media made offline by the demo's generators."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

AUDIO_PREP = {"modality": "audio", "sample_rate": 16000, "seconds": 0.5, "window_hop": 0.25,
              "trim_silence": False, "augment": ""}


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """face.jpg, clip.mp4 (8 frames, 25 fps, a moving face), speech.wav (1.5 s), and files that
    cannot be scored: broken.jpg, broken.mp4 (random bytes), notes.txt."""
    import soundfile as sf
    from PIL import Image

    from dfdetect.demo.audio import RATE, synth_speech
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    folder = tmp_path_factory.mktemp("media")
    Image.fromarray(astronaut_face(96)).save(folder / "face.jpg", quality=90)
    write_video(folder / "clip.mp4", moving_face_frames(astronaut_face(), n=8, size=(160, 128)),
                fps=25, gop=4)
    sf.write(str(folder / "speech.wav"), synth_speech(1.5, np.random.default_rng(0)), RATE)
    rng = np.random.default_rng(1)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + rng.bytes(2000))
    (folder / "broken.mp4").write_bytes(rng.bytes(3000))
    (folder / "notes.txt").write_text("not media")
    return {p.name: p for p in folder.iterdir()}


@pytest.fixture(scope="session")
def audio_ckpt(tmp_path_factory) -> Path:
    """An untrained rawnet2_light speech checkpoint scoring 0.5 s windows every 0.25 s."""
    import torch

    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.models import build_model

    torch.manual_seed(0)
    kwargs = {"num_classes": 2, "drop_rate": 0.0}
    net = build_model("rawnet2_light", **kwargs)
    ckpt = make_checkpoint(net, model_name="rawnet2_light", model_kwargs=kwargs,
                           preprocessing=AUDIO_PREP, config={})
    return save_checkpoint(ckpt, tmp_path_factory.mktemp("audio_ckpt") / "speech.ckpt")


@pytest.fixture
def serve_cfg(make_tiny_ckpt, tmp_path):
    """``serve_cfg(**overrides)`` -> ServeConfig for the tiny image checkpoint (CPU, 4 frames per
    video, uploads under ``tmp_path / "uploads"``)."""
    from dfdetect.config.schema import ServeConfig

    def make(**overrides) -> "ServeConfig":
        base = {"ckpt": str(make_tiny_ckpt(image_size=32)), "device": "cpu", "frames": 4,
                "tmp_dir": str(tmp_path / "uploads")}
        return ServeConfig(**{**base, **overrides})

    return make

