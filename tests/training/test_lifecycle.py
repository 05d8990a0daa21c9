"""A run's life cycle, piece by piece (fast, in process): train.log, top-k retention, the
early-stopping decision, the gradient norm, the disk check and the resume command.

End-to-end runs (signals in a subprocess, NaN loss, lean resume state, export=) are in
test_lifecycle_runs.py.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from dfdetect.training.callbacks import DetectorCheckpoint
from dfdetect.training.guards import AnnouncedEarlyStopping, total_grad_norm
from dfdetect.training.lifecycle import (check_disk, expected_bytes, optimizer_copies,
                                         resume_command)
from dfdetect.training.runlog import RunLog


# ------------------------------------------------------------------------------- train.log
def test_run_log_holds_early_lines_then_tees_and_drops_bar_redraws(tmp_path, capsys) -> None:
    with RunLog() as runlog:
        print("device line")                       # before the run folder exists
        runlog.attach(tmp_path / "train.log")
        print("epoch 1 batch 1")
        sys.stderr.write("\r 10%|#    | 1/10")       # a tqdm redraw
        sys.stderr.write("\r 20%|##   | 2/10")
        sys.stderr.write("\n")                      # the bar closing
        logging.getLogger("dfdetect.test").warning("disk nearly full")
        runlog.line("log only")
    print("after the run")                          # not captured any more
    lines = (tmp_path / "train.log").read_text().splitlines()
    assert lines[:2] == ["device line", "epoch 1 batch 1"]
    assert "disk nearly full" in lines[2] and lines[3:] == ["log only"]
    text = "\n".join(lines)
    assert "10%" not in text and "\r" not in text
    out = capsys.readouterr()
    assert "epoch 1 batch 1" in out.out and "after the run" in out.out  # terminal keeps all
    assert "10%" in out.err and "log only" not in out.out + out.err


def test_a_resumed_run_appends_after_a_separator(tmp_path) -> None:
    log = tmp_path / "train.log"
    with RunLog() as runlog:
        runlog.attach(log)
        print("first attempt")
    with RunLog() as runlog:
        runlog.attach(log, "resumed from resume.ckpt")
        print("second attempt")
    lines = log.read_text().splitlines()
    assert lines[0] == "first attempt" and lines[-1] == "second attempt"
    assert any(line.startswith("----- ") and "resumed from resume.ckpt" in line
               for line in lines[1:-1])


# --------------------------------------------------------------------------------- top-k
def _epoch(cb: DetectorCheckpoint, model: nn.Module, epoch: int, value: float) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float(epoch))  # each epoch's weights are recognisable
    trainer = SimpleNamespace(callback_metrics={"val/auc": torch.tensor(value)},
                              current_epoch=epoch, global_step=10 * (epoch + 1),
                              is_global_zero=True, max_epochs=9)
    cb.on_train_epoch_end(trainer, SimpleNamespace(model=model))


def _saved_epoch(path: Path) -> int:
    return torch.load(path, weights_only=True)["epoch"]


def _checkpoints(tmp_path, k: int, protected=()) -> tuple[DetectorCheckpoint, nn.Module]:
    model = nn.Linear(3, 2)
    describe = lambda: {"model_name": "lin", "model_kwargs": {}, "preprocessing": {},  # noqa: E731
                        "config": {}}
    return DetectorCheckpoint(tmp_path, "val/auc", describe, echo=lambda *_: None,
                              save_top_k=k, protected=protected), model


def test_save_top_k_keeps_the_k_best_and_best_ckpt_is_the_best(tmp_path) -> None:
    cb, model = _checkpoints(tmp_path, k=2)
    for epoch, auc in enumerate([0.6, 0.8, 0.7, 0.9, 0.5]):
        _epoch(cb, model, epoch, auc)
    kept = sorted(p.name for p in (tmp_path / "top_k").iterdir())
    assert kept == ["epoch002-auc0.8000.ckpt", "epoch004-auc0.9000.ckpt"]
    assert [_saved_epoch(tmp_path / "top_k" / n) for n in kept] == [1, 3]
    assert _saved_epoch(tmp_path / "best.ckpt") == 3 and _saved_epoch(tmp_path / "last.ckpt") == 4
    best = torch.load(tmp_path / "best.ckpt", weights_only=True)["state_dict"]["weight"]
    assert torch.all(best == 3.0)  # the best epoch's weights, not the last one's
    # one write per epoch: best.ckpt and its top_k twin share the file (hard link) when possible
    same = os.path.samefile(tmp_path / "best.ckpt", tmp_path / "top_k" / kept[1])
    assert same or (tmp_path / "best.ckpt").read_bytes() == (tmp_path / "top_k" / kept[1]).read_bytes()


def test_top_k_state_survives_resume_and_protected_files_stay(tmp_path) -> None:
    cb, model = _checkpoints(tmp_path, k=2)
    for epoch, auc in enumerate([0.6, 0.8]):
        _epoch(cb, model, epoch, auc)
    first = tmp_path / "top_k" / "epoch001-auc0.6000.ckpt"
    resumed, _ = _checkpoints(tmp_path, k=2, protected=(first,))  # e.g. the run started from it
    resumed.load_state_dict(cb.state_dict())
    _epoch(resumed, model, 2, 0.95)  # pushes epoch 1 out of the top 2
    assert [t["epoch"] for t in resumed.top] == [2, 1]
    assert first.is_file()  # protected: left on disk, only forgotten
    _epoch(resumed, model, 3, 0.99)  # pushes epoch 2 (0.8) out: deleted
    assert not (tmp_path / "top_k" / "epoch002-auc0.8000.ckpt").exists()
    assert sorted(p.name for p in (tmp_path / "top_k").iterdir()) == [
        "epoch001-auc0.6000.ckpt", "epoch003-auc0.9500.ckpt", "epoch004-auc0.9900.ckpt"]


def test_save_top_k_1_writes_no_top_k_folder(tmp_path) -> None:
    cb, model = _checkpoints(tmp_path, k=1)
    for epoch, auc in enumerate([0.6, 0.8, 0.7]):
        _epoch(cb, model, epoch, auc)
    assert not (tmp_path / "top_k").exists()
    assert _saved_epoch(tmp_path / "best.ckpt") == 1


# ------------------------------------------------------------------------- guards, stopping
def test_early_stopping_prints_its_decision_with_the_best_epoch() -> None:
    lines: list[str] = []
    es = AnnouncedEarlyStopping("val/auc", patience=2, mode="max", echo=lines.append,
                                best_epoch=lambda: 3)
    decisions = [es._evaluate_stopping_criteria(torch.tensor(v))[0] for v in (0.91, 0.9, 0.85)]
    assert decisions == [False, False, True]
    assert lines == ["early stopping: val/auc did not improve for 2 epochs (best 0.91 at epoch 4)"]
    assert es.decision == lines[0]


def test_early_stopping_state_keeps_lightnings_key_for_older_resume_files() -> None:
    from lightning.pytorch.callbacks import EarlyStopping

    ours = AnnouncedEarlyStopping("val/eer", patience=3, mode="min")
    assert ours.state_key == EarlyStopping("val/eer", patience=3, mode="min").state_key


def test_grad_norm_is_the_total_l2_norm_torch_clips_by() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    net(torch.randn(5, 4)).pow(2).sum().backward()
    ours = total_grad_norm(net.parameters())
    theirs = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=1e9)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6) and ours.item() > 0


# ------------------------------------------------------------------------------------ disk
def test_disk_check_warns_with_the_figures_when_space_is_short(tmp_path) -> None:
    param_bytes = 11_700_000 * 4                               # resnet18 in fp32
    need = expected_bytes(param_bytes, optimizer_copies("adamw"), kept=3)
    assert need == 2 * 3 * param_bytes + 3 * param_bytes
    usage = lambda path: SimpleNamespace(free=need - 1)       # noqa: E731
    lines: list[str] = []
    warned = check_disk([tmp_path, tmp_path / "drive" / "runs"], param_bytes, 2, 3,
                        lines.append, usage=usage)
    assert len(warned) == 2 and lines == warned
    assert f"in {tmp_path / 'drive' / 'runs'}" in warned[1]   # a backup folder not made yet
    assert "0.42 GB free" in warned[0] and "about 0.42 GB" in warned[0]
    assert check_disk([tmp_path], param_bytes, 2, 3, lines.append,
                      usage=lambda path: SimpleNamespace(free=need)) == []


def test_optimizer_state_per_parameter() -> None:
    assert (optimizer_copies("adamw"), optimizer_copies("sgd", 0.9),
            optimizer_copies("sgd", 0.0)) == (2, 1, 0)


# -------------------------------------------------------------------------- resume command
def test_resume_command_repeats_the_arguments_with_the_run_folder() -> None:
    argv = ["train", "data=d.csv", "epochs=5", "resume=", "name=exp"]
    assert resume_command(Path("runs/exp_2"), "", argv) == (
        "dfdetect train data=d.csv epochs=5 name=exp_2 resume=auto")
    assert resume_command(Path("runs/x"), "runs/x/resume.ckpt", ["train", "data=a b.csv"]) == (
        "dfdetect train 'data=a b.csv' resume=runs/x/resume.ckpt")
    from_python = resume_command(Path("runs/x"), "", ["-c"])
    assert from_python == "dfdetect train config=runs/x/config.yaml out_dir=runs name=x resume=auto"


def test_an_error_that_ends_the_run_is_the_last_line_of_its_log(tmp_path) -> None:
    with pytest.raises(ValueError):
        with RunLog() as runlog:
            runlog.attach(tmp_path / "train.log")
            print("epoch 1")
            raise ValueError("data/x.csv: no such file\nmore detail")
    assert (tmp_path / "train.log").read_text().splitlines() == [
        "epoch 1", "error: ValueError: data/x.csv: no such file"]


def test_stale_top_k_temporaries_are_removed_and_nothing_else(tmp_path) -> None:
    from dfdetect.training.recipe import remove_stale_temporaries

    top = tmp_path / "top_k"
    top.mkdir()
    stale = top / ".epoch003-auc0.9100.ckpt.k2j4h1x0.tmp"
    kept = [top / "epoch003-auc0.9100.ckpt", top / ".notes.abc.tmp"]
    for p in [stale, *kept]:
        p.write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path, lambda *_: None) == 1
    assert not stale.exists() and all(p.is_file() for p in kept)


@pytest.mark.parametrize("progress, tty, bar", [(True, True, True), (True, False, False),
                                                (False, True, False)])
def test_the_bar_is_drawn_only_on_a_terminal(monkeypatch, progress, tty, bar) -> None:
    import io

    from dfdetect.config.schema import TrainConfig
    from dfdetect.training.recipe import use_bar

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    monkeypatch.setattr(sys, "stdout", Stream())
    cfg = TrainConfig()
    cfg.trainer.progress = progress
    with RunLog():  # seen through the tee train() puts on stdout
        assert use_bar(cfg) is bar
