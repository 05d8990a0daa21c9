"""Integration on real third-party faces (../shared/data/faces_flux); skipped when absent."""
from __future__ import annotations

import json

import pytest

from dfdetect.cli.main import main

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def test_train_briefly_then_evaluate(shared_data, tmp_path):
    labels = shared_data / "faces_flux" / "labels.csv"
    manifest = tmp_path / "flux" / "manifest.csv"
    assert main(["prepare", "data=labels_csv", f"root={labels}", f"out={manifest}",
                 "split_ratio=0.5,0.25,0.25", "seed=3"]) == 0
    first = manifest.read_text().splitlines()[1].split(",")
    assert first[1].startswith(str(shared_data))  # outside the manifest's folder: absolute
    assert main(["train", f"data={manifest}", f"out_dir={tmp_path / 'runs'}", "name=flux",
                 "model=timm:test_resnet", "image_size=64", "epochs=2", "batch_size=32",
                 "lr=3e-3", "precision=32", "num_workers=0", "progress=false",
                 "device=cpu"]) == 0
    out = tmp_path / "eval"
    assert main(["evaluate", f"ckpt={tmp_path / 'runs/flux/best.ckpt'}", f"data={manifest}",
                 "split=test", f"out={out}", "device=cpu", "num_workers=0"]) == 0
    report = json.loads((out / "metrics.json").read_text())
    # measured: test AUC 0.99 (fp32, seed 3 split); the same run with lr=0 scores 0.76 (these
    # generated faces differ from the real ones even in an untrained net's features)
    assert report["overall"]["auc"] >= 0.90
    assert report["overall"]["n"] > 0 and report["failed"] == 0
    assert set(report["by_source"]) <= {"video_extraction", "web_scraping", "FLUX1_LoRA"}
    assert (out / "report.md").read_text().startswith("# Evaluation")
