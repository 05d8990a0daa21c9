"""DDP on the CPU: two processes (gloo) train a tiny run through the normal command."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.slow


def test_two_process_ddp_on_cpu(demo_faces, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("DFDETECT_RUN_DIR", None)
    cmd = [sys.executable, "-m", "dfdetect.cli.main", "train", f"data={demo_faces}",
           "model=timm:resnet18", "image_size=32", "batch_size=8", "num_workers=0",
           "device=cpu", "processes=2", "epochs=1", "limit_train_batches=2",
           "limit_val_batches=2", "progress=false", "loggers=csv", f"out_dir={tmp_path}",
           "name=ddp"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    both = done.stdout + done.stderr
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in both  # a second process joined the group
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp"]  # one run folder for both
    last = torch.load(tmp_path / "ddp" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 2
