"""predict: corrupt files in a batch, ensembles, videos in a folder, JSON lines output."""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch

from dfdetect.config.loader import ConfigError
from dfdetect.config.schema import PredictConfig
from dfdetect.inference import predict as predict_mod
from dfdetect.inference.predict import predict
from dfdetect.inference.scorers import Ensemble, build_scorer, parse_ckpt_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def inbox(demo_faces, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for f in sorted((demo_faces.parent / "images" / "fake").iterdir())[:7]:
        shutil.copy(f, folder / f.name)
    (folder / "m_broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return folder


def test_corrupt_file_in_a_batch_loses_nothing_else(inbox, make_tiny_ckpt, tmp_path) -> None:
    cfg = PredictConfig(ckpt=str(make_tiny_ckpt()), input=str(inbox), out=str(tmp_path / "s.csv"),
                        batch_size=4, num_workers=0, device="cpu", progress=False)
    lines = []
    result = predict(cfg, echo=lines.append)
    rows = {r["id"]: r for r in csv.DictReader((tmp_path / "s.csv").open())}
    assert len(rows) == 8 and result.scored == 7 and result.failed == 1
    assert rows["m_broken.jpg"]["status"] == "error" and rows["m_broken.jpg"]["score"] == ""
    assert "cannot decode image" in rows["m_broken.jpg"]["error"]
    # the corrupt file's batch-mates are scored exactly as they are alone
    alone = build_scorer(cfg.ckpt, device="cpu", batch_size=1, num_workers=0)
    for r in rows.values():
        if r["status"] == "ok":
            (p,) = alone.score([str(inbox / r["id"])])
            assert float(r["score"]) == pytest.approx(p.score, abs=1e-6)
    assert "Scored 7/8 files" in lines[-1] and "1 failed" in lines[-1]


def test_parse_ckpt_spec() -> None:
    assert parse_ckpt_spec("a.ckpt") == [("a.ckpt", 1.0)]
    assert parse_ckpt_spec("a.ckpt,b.ckpt") == [("a.ckpt", 0.5), ("b.ckpt", 0.5)]
    assert parse_ckpt_spec("runs/a.ckpt:3,b.ckpt:1") == [("runs/a.ckpt", 0.75), ("b.ckpt", 0.25)]
    with pytest.raises(ConfigError, match="no checkpoint"):
        parse_ckpt_spec(" , ")
    with pytest.raises(ConfigError, match="positive"):
        parse_ckpt_spec("a.ckpt:0,b.ckpt:1")


def test_ensemble_prediction_averages_and_fails_together(inbox, make_tiny_ckpt, tmp_path) -> None:
    a, b = make_tiny_ckpt(32, seed=0), make_tiny_ckpt(48, seed=1)
    files = sorted(str(f) for f in inbox.iterdir())
    ens = build_scorer(f"{a},{b}", device="cpu", batch_size=3, num_workers=0)
    assert isinstance(ens, Ensemble) and ens.threshold == pytest.approx(0.5)
    singles = [list(build_scorer(str(c), device="cpu", num_workers=0).score(files)) for c in (a, b)]
    for i, p in enumerate(ens.score(files)):
        if files[i].endswith("m_broken.jpg"):
            assert p.status == "error" and p.score is None
        else:
            assert p.score == pytest.approx((singles[0][i].score + singles[1][i].score) / 2)
    crops = [np.full((20, 30, 3), v, np.uint8) for v in (10, 200)]
    expect = [(x + y) / 2 for x, y in zip(*(s.score_arrays(crops) for s in ens.members))]
    assert ens.score_arrays(crops) == pytest.approx(expect)


def test_folder_with_videos_writes_per_frame_jsonl(inbox, make_tiny_ckpt, tmp_path,
                                                   monkeypatch) -> None:
    (inbox / "clip.mp4").write_bytes(b"fake video bytes")
    (inbox / "broken.mp4").write_bytes(b"")
    crops = [(0, np.full((40, 40, 3), 90, np.uint8)), (8, np.full((40, 40, 3), 160, np.uint8))]

    def provider(preprocessing, num_frames):
        assert preprocessing["image_size"] == 32 and num_frames == 4

        def frames_and_crops(path):
            if path.endswith("broken.mp4"):
                from dfdetect.data.media import DecodeError

                raise DecodeError(f"{path}: cannot open video")
            return crops

        return frames_and_crops

    monkeypatch.setattr("dfdetect.inference.video.crop_provider", provider)
    cfg = PredictConfig(ckpt=str(make_tiny_ckpt()), input=str(inbox), out=str(tmp_path / "o.jsonl"),
                        frames=4, aggregation="max", num_workers=0, device="cpu", progress=False)
    result = predict_mod.predict(cfg, echo=lambda *_: None)
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "o.jsonl").read_text().splitlines())}
    assert len(rows) == 10 and result.failed == 2
    clip = rows["clip.mp4"]
    assert clip["status"] == "ok" and [f["frame"] for f in clip["frames"]] == [0, 8]
    assert clip["score"] == pytest.approx(max(f["score"] for f in clip["frames"]))
    assert rows["broken.mp4"]["status"] == "error" and rows["broken.mp4"]["frames"] == []
    assert "frames" not in rows["m_broken.jpg"]  # images have no per-frame list
