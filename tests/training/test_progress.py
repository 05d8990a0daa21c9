"""Tests for progress lines, ETAs and device figures (dfdetect.training.progress)."""
from __future__ import annotations

from types import SimpleNamespace

import torch

from dfdetect.training.progress import Eta, LineProgress, device_stats, fmt_seconds


def test_fmt_seconds() -> None:
    assert fmt_seconds(3725) == "1:02:05"
    assert fmt_seconds(None) == "?" and fmt_seconds(float("nan")) == "?"


def test_eta_from_pace(monkeypatch) -> None:
    clock = iter([0.0, 0.0, 10.0, 10.0])
    monkeypatch.setattr("dfdetect.training.progress.time.monotonic", lambda: next(clock))
    eta = Eta()
    trainer = SimpleNamespace(global_step=0, estimated_stepping_batches=100)
    assert eta.run(trainer) is None  # first call only starts the clock
    trainer.global_step = 10  # 10 steps in 10 s -> 90 left = 90 s
    assert eta.run(trainer) == 90
    eta.epoch_t0, eta.epoch_batch0 = 0.0, 0
    assert eta.epoch(5, 20) == 30  # 5 batches in 10 s, 15 left


def test_cpu_stats_report_memory() -> None:
    assert device_stats("cpu").startswith("cpu rss ")


def test_line_has_loss_accuracy_lr_etas_and_device() -> None:
    trainer = SimpleNamespace(
        callback_metrics={"train/loss_step": torch.tensor(0.5), "train/acc_step":
                          torch.tensor(0.75), "lr": torch.tensor(3e-4)},
        num_training_batches=20, max_epochs=4, current_epoch=1)
    line = LineProgress("cpu").line(trainer, 5, 120.0)
    assert line.startswith("epoch 2/4 batch 5/20 · loss 0.500 acc 0.750 · lr 3.0e-04")
    assert "ETA epoch" in line and "run 0:02:00" in line and "cpu rss" in line
