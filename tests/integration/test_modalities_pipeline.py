"""For every modality, the whole CLI on a tiny set: prepare -> train -> evaluate -> predict -> export.

image: the demo faces as a plain ``real/`` + ``fake/`` folder; video: clips rendered from the demo
photos, listed in a labels CSV (identity = group, split written out) and cut into face crops by
``prepare``; audio: synthetic speech vs Griffin-Lim resynthesis as ``bonafide/`` + ``spoof/``.
Training is one or two tiny epochs: these runs prove the plumbing (files, shapes, levels, the
ONNX backend scoring like PyTorch), the learning floors live in tests/cli and tests/demo.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from dfdetect.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

COMMON = ["num_workers=0", "progress=false", "device=cpu", "seed=0", "precision=32"]


def image_case(tmp: Path, demo_faces: Path) -> dict:
    root = tmp / "faces"
    shutil.copytree(demo_faces.parent / "images", root)
    return {"prepare": ["data=folder", f"root={root}", f"out={tmp / 'manifest.csv'}"],
            "manifest": tmp / "manifest.csv", "level": "frame",
            "train": ["model=timm:test_resnet", "image_size=32", "epochs=1", "batch_size=16",
                      "limit_train_batches=3"],
            "inputs": sorted((root / "fake").iterdir())[:3]}


def video_case(tmp: Path, demo_faces: Path) -> dict:
    from dfdetect.demo.videos import render_demo_videos

    rows = render_demo_videos(tmp / "clips", size=128, frames=8, clips_per_identity=2, seed=0)
    split = {"astronaut": "train", "camera": "val", "grace_hopper": "test"}
    with (tmp / "clips" / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "group", "split"])
        w.writerows([r.path, r.label, r.group, split[r.group]] for r in rows)
    assert {r.group for r in rows} == set(split)
    out = tmp / "crops"
    return {"prepare": ["data=labels_csv", f"root={tmp / 'clips' / 'labels.csv'}", f"out={out}",
                        "frames_per_video=3", "image_size=48", "min_face_size=20"],
            "manifest": out / "manifest.csv", "level": "video",
            "train": ["model=timm:test_resnet", "image_size=48", "epochs=1", "batch_size=8"],
            "inputs": [tmp / "clips" / r.path for r in rows if r.group == "grace_hopper"][:2]}


def audio_case(tmp: Path, demo_faces: Path) -> dict:
    from dfdetect.demo.audio import build_demo_speech

    build_demo_speech(tmp / "speech", utterances=8, seconds=0.6, seed=0)
    (tmp / "speech" / "manifest.csv").unlink()  # prepare makes its own from the folders
    return {"prepare": ["data=audio_folder", f"root={tmp / 'speech'}",
                        f"out={tmp / 'manifest.csv'}", "split_ratio=0.5,0.25,0.25"],
            "manifest": tmp / "manifest.csv", "level": "frame",
            "train": ["model=lcnn", "seconds=0.5", "epochs=1", "batch_size=4",
                      "limit_train_batches=2"],
            "inputs": sorted((tmp / "speech" / "spoof").iterdir())[:2]}


CASES = {"image": image_case, "video": video_case, "audio": audio_case}


def test_every_modality_handler_has_a_pipeline_case() -> None:
    from dfdetect.modalities import all_modalities

    served = {"frame": "video"}  # frame rows come from prepared videos
    assert {served.get(m.name, m.name) for m in all_modalities()} <= set(CASES)


@pytest.fixture(scope="module", params=list(CASES))
def pipeline(request, demo_faces, tmp_path_factory):
    """prepare -> train -> evaluate for one modality; returns (case, checkpoint, report)."""
    tmp = tmp_path_factory.mktemp(request.param)
    case = CASES[request.param](tmp, demo_faces)
    assert main(["prepare", *case["prepare"]]) == 0
    with case["manifest"].open() as f:
        rows = list(csv.DictReader(f))
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    assert main(["train", f"data={case['manifest']}", f"out_dir={tmp / 'runs'}", "name=r",
                 *COMMON, *case["train"]]) == 0
    ckpt = tmp / "runs" / "r" / "best.ckpt"
    assert main(["evaluate", f"ckpt={ckpt}", f"data={case['manifest']}", "split=test",
                 f"out={tmp / 'eval'}", "device=cpu", "num_workers=0", "bootstrap=0"]) == 0
    report = json.loads((tmp / "eval" / "metrics.json").read_text())
    return request.param, case, ckpt, report, rows


def test_prepare_train_evaluate(pipeline) -> None:
    modality, case, ckpt, report, rows = pipeline
    test_rows = [r for r in rows if r["split"] == "test"]
    assert report["level"] == case["level"]
    assert report["levels"]["frame"]["metrics"]["n"] == len(test_rows)
    if case["level"] == "video":  # grace_hopper's 2 real + 2 fake test clips, crops of each
        assert report["levels"]["video"]["units"] == 4 < len(test_rows)
    assert report["threshold_source"] == "val:eer"


def test_predict_then_export_scores_alike(pipeline, tmp_path) -> None:
    modality, case, ckpt, report, rows = pipeline
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for f in case["inputs"]:
        shutil.copy(f, inbox / f.name)
    torch_out = tmp_path / "torch.csv"
    assert main(["predict", f"ckpt={ckpt}", f"input={inbox}", f"out={torch_out}", "frames=3",
                 "device=cpu", "num_workers=0", "progress=false"]) == 0
    scored = {r["id"]: r for r in csv.DictReader(torch_out.open())}
    assert set(scored) == {f.name for f in case["inputs"]}
    assert all(r["status"] == "ok" for r in scored.values()), scored

    assert main(["export", f"ckpt={ckpt}", "format=onnx"]) == 0
    onnx_out = tmp_path / "onnx.csv"
    assert main(["predict", f"ckpt={ckpt}", "backend=onnx", f"input={inbox}", f"out={onnx_out}",
                 "frames=3", "num_workers=0", "progress=false"]) == 0
    for r in csv.DictReader(onnx_out.open()):
        assert float(r["score"]) == pytest.approx(float(scored[r["id"]]["score"]), abs=1e-4)
