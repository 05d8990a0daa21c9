"""Predict on audio files and folders: windowed long-file scoring and per-window JSON lines."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from dfdetect.checkpoint import make_checkpoint, save_checkpoint
from dfdetect.config.schema import PredictConfig
from dfdetect.inference.audio_windows import window_times
from dfdetect.inference.predict import predict
from dfdetect.models import build_model

PREP = {"modality": "audio", "sample_rate": 16000, "seconds": 0.5, "window_hop": 0.25,
        "trim_silence": False, "augment": ""}


def audio_ckpt(path: Path) -> Path:
    torch.manual_seed(0)
    net = build_model("rawnet2_light")
    kwargs = {"num_classes": 2, "drop_rate": 0.0}
    return save_checkpoint(make_checkpoint(net, model_name="rawnet2_light", model_kwargs=kwargs,
                                           preprocessing=PREP, config={}), path)


def test_predict_folder_of_audio_with_windows(tmp_path):
    ckpt = audio_ckpt(tmp_path / "a.ckpt")
    clips = tmp_path / "clips"
    (clips / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    sf.write(str(clips / "long.wav"), 0.1 * rng.standard_normal(16000 * 2), 16000)  # 2 s
    sf.write(str(clips / "sub" / "short.flac"), 0.1 * rng.standard_normal(4000), 16000)
    sf.write(str(clips / "hi.mp3"), 0.1 * rng.standard_normal(44100), 44100, format="MP3")
    (clips / "broken.ogg").write_bytes(b"OggS nope")
    (clips / "photo.jpg").write_bytes(b"not listed for an audio checkpoint")
    out = tmp_path / "submission.csv"
    result = predict(PredictConfig(ckpt=str(ckpt), input=str(clips), out=str(out), device="cpu",
                                   num_workers=0), echo=lambda *_: None)
    rows = {r["id"]: r for r in csv.DictReader(out.open())}
    assert set(rows) == {"long.wav", "sub/short.flac", "hi.mp3", "broken.ogg"}
    assert rows["broken.ogg"]["status"] == "error" and rows["broken.ogg"]["score"] == ""
    assert result.scored == 3
    lines = [json.loads(x) for x in (tmp_path / "submission.windows.jsonl").read_text().split("\n")
             if x]
    long = [x for x in lines if x["id"] == "long.wav"]
    assert [x["start"] for x in long] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    assert long[-1]["end"] == 2.0
    mean = np.mean([x["score"] for x in long])
    assert abs(mean - float(rows["long.wav"]["score"])) < 1e-5  # file score = mean of windows
    assert len([x for x in lines if x["id"] == "sub/short.flac"]) == 1


def test_window_times_layout():
    assert window_times(1, 0.3, 0.5, 0.25) == [(0.0, 0.3)]
    assert window_times(3, 1.1, 0.5, 0.5) == [(0.0, 0.5), (0.5, 1.0), (0.6, 1.1)]
