"""A run's life cycle end to end: SIGTERM and Ctrl-C in a real subprocess save and resume; a
NaN loss stops the run keeping the last good checkpoints; a finished run keeps a lean resume
state that still extends; ``export=onnx`` exports after training; the disk check warns early.

Tiny runs: timm's ``test_resnet`` at 32 px on the session's demo faces, a few batches.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from dfdetect.config.schema import TrainConfig

pytestmark = pytest.mark.slow


def _args(manifest: Path, out: Path, name: str, *extra: str) -> list[str]:
    return [f"data={manifest}", "model=timm:test_resnet", "image_size=32", "batch_size=8",
            "num_workers=0", "epochs=2", "limit_train_batches=4", "limit_val_batches=2",
            "device=cpu", "precision=32", "log_every_n_steps=1", "loggers=csv", "seed=3",
            "save_every_n_steps=0", f"out_dir={out}", f"name={name}", *extra]


def _train_until(args: list[str], marker: str, sig: int) -> tuple[int, str]:
    """Run ``dfdetect train``; send ``sig`` once a line containing ``marker`` was printed.
    Returns (exit status, everything printed)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-u", "-m", "dfdetect.cli.main", "train", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    seen, sent = [], False
    for line in proc.stdout:
        seen.append(line)
        if not sent and marker in line:
            proc.send_signal(sig)
            sent = True
    assert sent, f"the run ended before '{marker}':\n{''.join(seen)[-2000:]}"
    return proc.wait(timeout=120), "".join(seen)


def _step(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


def test_sigterm_then_ctrl_c_save_print_the_command_and_resume(demo_faces, tmp_path):
    # progress=true (the default) with stdout a pipe: plain lines, never bar redraws
    args = _args(demo_faces, tmp_path, "sig")
    status, out = _train_until(args, "epoch 1/2 batch 2/4", signal.SIGTERM)
    assert status == 143, out[-2000:]
    state = tmp_path / "sig" / "resume.ckpt"
    assert "SIGTERM received: stopped after step 3 (epoch 1, batch 3)" in out
    assert f"the resume state is saved in {state}" in out
    command = next(line.strip() for line in out.splitlines() if line.strip().startswith(
        "dfdetect train "))
    assert command.endswith("name=sig resume=auto") and f"data={demo_faces}" in command
    assert _step(state) == 3 and "\r" not in out and "epoch 1/2 batch 1/4" in out

    again = command.split()[2:]  # exactly the printed command
    status, out = _train_until(again, "epoch 2/2 batch 1/4", signal.SIGINT)
    assert status == 130, out[-2000:]
    assert f"Resuming from {state}" in out
    assert "epoch 1/2 batch 4/4" in out and "epoch 1/2 batch 3/4" not in out  # continued at 4
    assert "SIGINT received: stopped after step 6 (epoch 2, batch 2)" in out
    assert _step(state) == 6

    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "dfdetect.cli.main", "train", *again],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _step(tmp_path / "sig" / "last.ckpt") == 8  # 2 epochs x 4 batches, none repeated
    log = (tmp_path / "sig" / "train.log").read_text()
    assert log.count("\n----- ") == 2 and "resumed from" in log
    assert "SIGTERM received: stopped" in log and "SIGINT received: stopped" in log
    assert "Run summary · stopped by max epochs" in log
    summary = json.loads((tmp_path / "sig" / "summary.json").read_text())
    assert (summary["stop_reason"], summary["epochs_run"], summary["global_step"]) == (
        "max_epochs", 2, 8)


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoints(demo_faces, tmp_path,
                                                                      monkeypatch, capsys):
    import dfdetect.losses as losses
    from dfdetect.config.loader import load_config
    from dfdetect.training.recipe import train

    build = losses.build_loss
    calls = {"n": 0}

    def nan_at_step_6(cfg, counts):
        inner = build(cfg, counts)

        def loss(logits, target):
            value = inner(logits, target)
            if torch.is_grad_enabled():
                calls["n"] += 1
                if calls["n"] == 6:
                    return value * float("nan")
            return value

        return loss

    monkeypatch.setattr(losses, "build_loss", nan_at_step_6)
    cfg = load_config(TrainConfig, _args(demo_faces, tmp_path, "nan", "save_every_n_steps=1",
                                         "progress=false"))
    result = train(cfg)
    out = capsys.readouterr().out
    assert (result.stop_reason, result.exit_status, result.completed) == (
        "non_finite_loss", 2, False)
    assert "non-finite loss (nan) at epoch 2, step 6 (batch 2 of the epoch)" in out
    run = tmp_path / "nan"
    last = torch.load(run / "last.ckpt", weights_only=True)
    state = torch.load(run / "resume.ckpt", weights_only=True)
    assert (last["epoch"], last["global_step"], state["global_step"]) == (0, 4, 5)
    for tensors in (last["state_dict"], state["state_dict"]):
        assert all(torch.isfinite(t).all() for t in tensors.values() if t.is_floating_point())
    assert json.loads((run / "summary.json").read_text())["stop_reason"] == "non_finite_loss"


def test_finished_run_keeps_a_lean_resume_state_that_still_extends(demo_faces, tmp_path,
                                                                   monkeypatch, capsys):
    from dfdetect import train
    from dfdetect.config.loader import load_config
    from dfdetect.training.resume import ResumeError, check_resume_file, load_resume_file

    pytest.importorskip("onnxruntime")
    # the disk check reads the (faked) free space before training
    monkeypatch.setattr("shutil.disk_usage", lambda path: SimpleNamespace(free=1000))
    args = _args(demo_faces, tmp_path, "lean", "epochs=1", "resume=auto", "progress=false")
    first = train(load_config(TrainConfig, args))
    out = capsys.readouterr().out
    run = tmp_path / "lean"
    assert f"warning: 0 MB free in {run}, but this run keeps about" in out
    assert out.index("warning: 0 MB free") < out.index("Data: ")
    state = torch.load(run / "resume.ckpt", weights_only=True)
    assert not any(k.startswith("model.") for k in state["state_dict"])  # weights stored once
    assert state["weights_in"]["file"] == "last.ckpt" and first.stop_reason == "max_epochs"
    full = load_resume_file(run / "resume.ckpt")
    last = torch.load(run / "last.ckpt", weights_only=True)["state_dict"]
    assert all(torch.equal(full["state_dict"]["model." + k], v) for k, v in last.items())

    extended = train(load_config(TrainConfig, args[:-3] + ["epochs=2", "resume=auto",
                                                            "progress=false", "export=onnx"]))
    out = capsys.readouterr().out
    assert f"Resuming from {run / 'resume.ckpt'}" in out and extended.completed
    assert _step(run / "last.ckpt") == 8  # 4 more steps on top of the first 4
    assert (run / "best.onnx").is_file() and "Parity PyTorch vs onnx" in out
    summary = json.loads((run / "summary.json").read_text())
    assert summary["paths"]["export"] == str(run / "best.onnx")
    assert summary["epochs_run"] == 2

    from dfdetect.checkpoint import weights_digest

    edited = torch.load(run / "last.ckpt", weights_only=True)  # e.g. replaced by another run's
    key = next(iter(edited["state_dict"]))
    edited["state_dict"][key] = edited["state_dict"][key] + 1
    edited["weights_sha256"] = weights_digest(edited["state_dict"])
    torch.save(edited, run / "last.ckpt")
    with pytest.raises(ResumeError, match="last.ckpt is not the checkpoint of step 8"):
        check_resume_file(run / "resume.ckpt")
