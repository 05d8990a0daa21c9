"""Unit tests for the resume machinery (dfdetect.training.resume) and run-folder choice."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from dfdetect.config.loader import ConfigError
from dfdetect.config.schema import TrainConfig
from dfdetect.training.callbacks import DetectorCheckpoint
from dfdetect.training.recipe import check_selection, choose_run_dir
from dfdetect.training.resume import (RESUME_FILE, PlainCheckpointIO, ResumeError, capture_rng,
                                      check_plain, parse_max_time, restore_rng)


def test_check_plain_names_the_offending_key() -> None:
    check_plain({"a": [1, 2.0, "x", None, (torch.zeros(1),)], "b": {"c": True}})
    with pytest.raises(TypeError, match=r"checkpoint\.b\.fn is a function"):
        check_plain({"b": {"fn": lambda: 0}})


def test_plain_io_is_atomic_and_weights_only(tmp_path) -> None:
    io, path = PlainCheckpointIO(), tmp_path / RESUME_FILE
    io.save_checkpoint({"loops": {"step": 1}, "w": torch.ones(2)}, path)
    with pytest.raises(TypeError):
        io.save_checkpoint({"loops": {}, "bad": object()}, path)
    assert io.load_checkpoint(path)["loops"] == {"step": 1}  # the previous file is intact
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    torch.save({"something": 1}, tmp_path / "other.ckpt")
    with pytest.raises(ResumeError, match="resume state"):
        io.load_checkpoint(tmp_path / "other.ckpt")


def test_rng_round_trip_through_a_weights_only_file(tmp_path) -> None:
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    state = capture_rng()
    check_plain(state)
    torch.save(state, tmp_path / "rng.pt")
    expected = (random.random(), np.random.rand(), torch.rand(1))
    restore_rng(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected


def test_parse_max_time() -> None:
    assert parse_max_time("") is None
    assert parse_max_time("08:30") == 8 * 3600 + 30 * 60
    assert parse_max_time("00:00:05") == 5
    for bad in ("8h", "1:2:3:4", "-1:00"):
        with pytest.raises(ResumeError, match="HH:MM"):
            parse_max_time(bad)


def test_best_metric_state_round_trips() -> None:
    a = DetectorCheckpoint("x", "val/auc", dict)
    a.best, a.best_epoch, a.best_metrics = 0.9, 3, {"val/auc": 0.9}
    b = DetectorCheckpoint("x", "val/auc", dict)
    b.load_state_dict(a.state_dict())
    assert (b.best, b.best_epoch, b.best_metrics) == (0.9, 3, {"val/auc": 0.9})
    assert not b._improved(0.85) and b._improved(0.95)


def _cfg(tmp_path, **trainer) -> TrainConfig:
    cfg = TrainConfig(name="exp", out_dir=str(tmp_path))
    for k, v in trainer.items():
        setattr(cfg.trainer, k, v)
    return cfg


def test_run_folder_choice(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    first, _ = choose_run_dir(_cfg(tmp_path))
    second, _ = choose_run_dir(_cfg(tmp_path))
    assert (first.name, second.name) == ("exp", "exp_2")  # never overwrites
    run, state = choose_run_dir(_cfg(tmp_path, resume="auto"))
    assert run == first and state is None  # nothing saved yet: start (in the same folder)
    (first / RESUME_FILE).write_bytes(b"x")
    assert choose_run_dir(_cfg(tmp_path, resume="auto")) == (first, first / RESUME_FILE)
    explicit = choose_run_dir(_cfg(tmp_path, resume=str(first / RESUME_FILE)))
    assert explicit == (first, first / RESUME_FILE)
    with pytest.raises(ResumeError, match="no such file"):
        choose_run_dir(_cfg(tmp_path, resume=str(tmp_path / "nope.ckpt")))


def test_a_test_split_never_selects(tmp_path) -> None:
    cfg = _cfg(tmp_path)
    check_selection(cfg)
    cfg.data.val_split = "test"
    with pytest.raises(ConfigError, match="never picks checkpoints"):
        check_selection(cfg)
    cfg = _cfg(tmp_path, monitor="test/auc")
    with pytest.raises(ConfigError, match="test/auc: not a validation metric"):
        check_selection(cfg)


def test_save_schedule_by_steps_minutes_and_time_budget(monkeypatch) -> None:
    from types import SimpleNamespace

    from dfdetect.training.resume import ResumeState

    clock = [0.0]
    monkeypatch.setattr("dfdetect.training.resume.time.monotonic", lambda: clock[0])
    cb = ResumeState("run", sampler=None, batch_size=8, every_n_steps=5, every_minutes=1,
                     max_time_s=300)
    trainer = SimpleNamespace(global_step=3,
                              strategy=SimpleNamespace(broadcast=lambda obj, src=0: obj))
    assert cb._due(trainer) == (False, False)
    trainer.global_step = 5
    assert cb._due(trainer) == (True, False)          # every 5 steps
    trainer.global_step, clock[0] = 6, 61.0
    assert cb._due(trainer) == (True, False)          # every minute
    clock[0] = 301.0
    assert cb._due(trainer) == (True, True)           # max_time: save, then stop
