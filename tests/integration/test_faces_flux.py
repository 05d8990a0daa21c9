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
                 "model=timm:resnet18", "image_size=64", "epochs=1", "batch_size=16",
                 "limit_train_batches=4", "limit_val_batches=4", "num_workers=0",
                 "progress=false", "device=cpu"]) == 0
    out = tmp_path / "eval"
    assert main(["evaluate", f"ckpt={tmp_path / 'runs/flux/best.ckpt'}", f"data={manifest}",
                 "split=test", f"out={out}"]) == 0
    report = json.loads((out / "metrics.json").read_text())
    auc = report["overall"]["auc"]
    assert isinstance(auc, float) and 0.0 <= auc <= 1.0
    assert report["overall"]["n"] > 0 and report["failed"] == 0
    assert set(report["by_source"]) <= {"video_extraction", "web_scraping", "FLUX1_LoRA"}
    assert (out / "report.md").read_text().startswith("# Evaluation")
