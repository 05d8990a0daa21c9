"""Checkpoint selection: per-validation-set EER, synced under DDP, one table of directions.

The EER tests train on uniform grey images with a model whose P(fake) rises with the grey level,
so every validation score is known from the data; the expected EERs are computed here from those
grey levels with sklearn's roc_curve, not with dfdetect's metric code.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.metrics import roc_curve

from dfdetect.config.loader import ConfigError, load_config
from dfdetect.config.schema import TrainConfig
from dfdetect.data.manifest import Manifest, Sample, write_manifest
from dfdetect.config import selection

# A model whose fake logit is the mean of its (normalised) input: a monotone function of the
# grey level, so the ranking of validation scores is the ranking of grey levels. Registered in
# this process and, written to a file, in each DDP process.
GREY_MODEL = '''
import torch
from torch import nn
from dfdetect.models import MODELS, _load_builtin


class GreyLevel(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1))  # lr=0 keeps it; shifts every score alike

    def forward(self, x):
        fake = x.float().mean(dim=(1, 2, 3)) * 4 + self.bias
        return torch.stack([torch.zeros_like(fake), fake], dim=1)


def register():
    _load_builtin()
    if "test_grey" not in MODELS:
        MODELS.register("test_grey")(lambda pretrained="false", num_classes=2, drop_rate=0.0:
                                     GreyLevel())
'''


def _register_grey() -> None:
    space: dict = {}
    exec(GREY_MODEL, space)  # noqa: S102 - test-local model definition
    space["register"]()


def _manifest(folder: Path, name: str, train: list, val: list) -> Path:
    """Uniform grey PNGs; ``train`` / ``val`` are (label, grey level) in manifest order."""
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for split, rows in (("train", train), ("val", val)):
        for i, (label, grey) in enumerate(rows):
            sid = f"{name}_{split}_{i}"
            Image.new("RGB", (16, 16), (grey, grey, grey)).save(folder / f"{sid}.png")
            samples.append(Sample(sid, f"{sid}.png", label, split, group=sid))
    out = folder / f"{name}.csv"
    write_manifest(Manifest(samples, folder, name), out)
    return out


def sklearn_eer(rows: list) -> float:
    """EER where the designed ROC curve crosses FPR = FNR exactly at one of its points."""
    labels = [int(label == "fake") for label, _ in rows]
    fpr, tpr, _ = roc_curve(labels, [grey for _, grey in rows])
    fnr = 1 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    assert fpr[i] == fnr[i], "test data must cross at a ROC point"
    return float(fpr[i])


TRAIN = [("real", 5), ("fake", 250), ("real", 15), ("fake", 240)]
HARD = [("real", 10), ("real", 20), ("real", 30), ("real", 60),  # val: EER 0.25
        ("fake", 40), ("fake", 70), ("fake", 80), ("fake", 90)]
EASY = [("real", 100), ("real", 110), ("real", 120), ("real", 130),  # val_easy: EER 0
        ("fake", 200), ("fake", 210), ("fake", 220), ("fake", 230)]
COMMON = ["model=test_grey", "image_size=16", "batch_size=4", "num_workers=0", "device=cpu",
          "precision=32", "epochs=1", "lr=0", "weight_decay=0", "progress=false",
          "loggers=csv", "augment=false", "scheduler=none"]


@pytest.mark.slow
def test_val_eer_is_the_primary_sets_eer_alone(tmp_path, one_torch_thread) -> None:
    from dfdetect.training.recipe import train

    _register_grey()
    primary = _manifest(tmp_path / "hard", "hard", TRAIN, HARD)
    extra = _manifest(tmp_path / "easy", "easy", TRAIN, EASY)
    expected, union = sklearn_eer(HARD), sklearn_eer(HARD + EASY)
    assert (expected, sklearn_eer(EASY), union) == (0.25, 0.0, 0.5)  # the sets differ
    cfg = load_config(TrainConfig, [*COMMON, f"data={primary}", f"extra_val={extra}",
                                    "monitor=val/eer", f"out_dir={tmp_path}", "name=two_sets"])
    result = train(cfg, echo=lambda *_: None)
    metrics = torch.load(result.last_ckpt, weights_only=True)["metrics"]
    assert metrics["val/eer"] == pytest.approx(expected, abs=1e-6)
    assert metrics["val_easy/eer"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["val/auc"] == pytest.approx(0.9375)  # 15 of 16 pairs ranked right
    # the direction table names exactly what the module logs per validation set
    logged = {k for k in metrics if k.startswith("val")}
    assert logged == set(selection.monitor_names(["val", "val_easy"]))


@pytest.mark.slow
def test_val_eer_under_two_process_ddp_covers_both_shards(tmp_path) -> None:
    # DistributedSampler(shuffle=False) gives rank 0 the even rows, rank 1 the odd rows:
    # rank 0's shard alone is perfectly separated (EER 0), rank 1's is inverted (EER 1)
    val = [("real", 10), ("real", 150), ("fake", 200), ("fake", 40),
           ("real", 20), ("real", 160), ("fake", 210), ("fake", 50)]
    assert (sklearn_eer(val[0::2]), sklearn_eer(val[1::2]), sklearn_eer(val)) == (0.0, 1.0, 0.5)
    data = _manifest(tmp_path / "d", "d", TRAIN * 2, val)
    (tmp_path / "grey_model.py").write_text(GREY_MODEL)
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import grey_model\n"
        "grey_model.register()\n"
        "from dfdetect.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("DFDETECT_RUN_DIR", None)
    cmd = [sys.executable, str(script), "train", *COMMON, f"data={data}", "processes=2",
           "monitor=val/eer", f"out_dir={tmp_path / 'runs'}", "name=ddp"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MEMBER: 2/2" in done.stdout + done.stderr
    metrics = torch.load(tmp_path / "runs" / "ddp" / "last.ckpt", weights_only=True)["metrics"]
    assert metrics["val/eer"] == pytest.approx(0.5, abs=1e-6)  # both shards, not rank 0's 0.0


def test_one_direction_table_serves_checkpoint_early_stopping_and_plateau(tmp_path) -> None:
    from lightning.pytorch.callbacks import EarlyStopping

    from dfdetect.config.schema import OptimConfig
    from dfdetect.training.callbacks import DetectorCheckpoint
    from dfdetect.training.optim import build_scheduler

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    for name, higher in (("val/f1_macro", True), ("val_x/eer", False), ("val/loss", False),
                         ("val_cross/auc", True), ("val/acc", True)):
        ckpt = DetectorCheckpoint(tmp_path, name, dict)
        assert ckpt.lower_is_better is not higher, name
        assert selection.mode(name) == ("max" if higher else "min")
        sched = build_scheduler(opt, OptimConfig(scheduler="plateau"), 1, 1, name).scheduler
        assert sched.mode == selection.mode(name)
        assert EarlyStopping(name, mode=selection.mode(name)).mode == sched.mode
    # a new metric gets its direction from the table alone, in all consumers
    selection.SELECTION_METRICS["mystery"] = False
    try:
        assert DetectorCheckpoint(tmp_path, "val/mystery", dict).lower_is_better
        plateau = build_scheduler(opt, OptimConfig(scheduler="plateau"), 1, 1, "val/mystery")
        assert plateau.scheduler.mode == "min"
    finally:
        del selection.SELECTION_METRICS["mystery"]


def test_recipe_uses_the_table_for_early_stopping() -> None:
    import inspect

    from dfdetect.training import callbacks, optim, recipe

    for module in (recipe, callbacks, optim):  # no copy of the "ends with loss/eer" rule
        assert 'endswith(("loss", "eer"))' not in inspect.getsource(module)


@pytest.mark.parametrize("monitor, near", [("val/bogus", None), ("val/aucc", "val/auc"),
                                           ("val/er", "val/eer"), ("train/loss", None),
                                           ("test/auc", None)])
def test_check_selection_refuses_unknown_monitors(monitor, near) -> None:
    from dfdetect.training.recipe import check_selection

    cfg = TrainConfig()
    cfg.trainer.monitor = monitor
    with pytest.raises(ConfigError, match="not a validation metric") as info:
        check_selection(cfg)
    if near:
        assert f"did you mean '{near}'" in str(info.value)


def test_extra_set_monitors_need_an_extra_set() -> None:
    selection.check_monitor("val_celebdf/auc")  # extra sets not known yet: accepted
    selection.check_monitor("val_celebdf/auc", ["val", "val_celebdf"])
    with pytest.raises(ConfigError, match="did you mean 'val_celebdf/auc'"):
        selection.check_monitor("val_celebd/auc", ["val", "val_celebdf"])
