"""A run's life cycle around Lightning's fit: signals, the disk check and the closing summary.

Signals: during training SIGINT (Ctrl-C) and SIGTERM (preemption, ``kill``) only set a flag
(:class:`SignalCatcher`); :class:`~dfdetect.training.resume.ResumeState` sees it at the next
position an uninterrupted run also saves at (an optimiser step boundary, or the end of the
epoch after its validation), saves ``resume.ckpt`` there and raises :class:`Interrupted`. The
recipe prints where the state is and the command that continues, and ``dfdetect train`` exits
128 + the signal number (130 for SIGINT, 143 for SIGTERM). A second Ctrl-C aborts at once (an
atomic write in progress leaves the previous file intact).

Disk: :func:`check_disk` compares the free space of the run folder and ``backup_dir`` with what
the run keeps (weights x (1 + optimiser state) for the resume state, one weights copy per kept
checkpoint, and room for one atomic rewrite) and warns before training starts.

Summary: :func:`write_summary` prints and writes ``summary.json`` (best metric and epoch,
epochs and steps run, why the run stopped, wall time, where every file is).
"""
from __future__ import annotations

import json
import os
import time
import shlex
import shutil
import signal
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import lightning as L

from dfdetect.io import atomic_write_text
from dfdetect.training.progress import fmt_seconds

SUMMARY_FILE = "summary.json"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalCatcher(L.Callback):
    """Turns the first SIGINT/SIGTERM during training into a request to save and stop.

    Installed when training starts (after Lightning's own SIGTERM handler, which it replaces
    while training runs; Lightning puts the previous handlers back at the end of fit), in the
    main thread of a single-process run only (under DDP every rank would have to agree on the
    step: Lightning's handling stays). DataLoader workers forked later inherit the handler and
    ignore the signal there: the main process decides.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._pid = os.getpid()
        self._previous: dict = {}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.world_size > 1 or threading.current_thread() is not threading.main_thread():
            return
        self._pid = os.getpid()
        for sig in _SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.restore()

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        self.restore()

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _handle(self, signum: int, frame) -> None:
        if os.getpid() != self._pid:  # a forked data-loading worker: the main process decides
            return
        if self.signum is None:
            self.signum = signum
            # os.write, not print: a handler may run while the main thread holds the stream
            os.write(2, (f"\n{signal.Signals(signum).name} received: saving the resume state at "
                         "the next step (Ctrl-C again to abort without saving)\n").encode())
            return
        self.restore()
        raise KeyboardInterrupt  # the second signal: abort now

    def requested(self) -> int | None:
        return self.signum


def resume_command(run_dir: Path, resume: str, argv: list[str] | None = None) -> str:
    """The command that continues this run: the same ``dfdetect train`` arguments with the run
    folder's name and ``resume=auto`` (or the resume file when one was named)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = argv[argv.index("train") + 1:] if "train" in argv else []
    drop = {"resume", "trainer.resume", "name"}
    kept = [a for a in args if a.split("=", 1)[0] not in drop and not a.startswith("--")]
    if resume and resume != "auto":
        tail = [f"resume={Path(run_dir) / 'resume.ckpt'}"]
    else:
        tail = [f"name={Path(run_dir).name}", "resume=auto"]
        if not args:  # called from Python: the run folder's own config says the rest
            kept = [f"config={Path(run_dir) / 'config.yaml'}", f"out_dir={Path(run_dir).parent}"]
    return shlex.join(["dfdetect", "train", *kept, *tail])


# ------------------------------------------------------------------------------------- disk
def optimizer_copies(optimizer: str, momentum: float = 0.0) -> int:
    """Tensors the optimiser keeps per parameter (AdamW: two moments; SGD: momentum or none)."""
    if optimizer == "sgd":
        return 1 if momentum else 0
    return 2


def expected_bytes(param_bytes: int, opt_copies: int, kept: int) -> int:
    """Checkpoint bytes a run keeps: the resume state (weights + optimiser state), ``kept``
    weight-only checkpoints (last, best, the other top-k), and room for one atomic rewrite of
    the resume state (the new file exists next to the old one until the rename)."""
    resume = param_bytes * (1 + opt_copies)
    return 2 * resume + kept * param_bytes


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def check_disk(folders: list[Path], param_bytes: int, opt_copies: int, kept: int,
               echo: Callable[[str], None] = print, usage: Callable | None = None) -> list[str]:
    """Warn (and return the warnings) for each folder whose free space is below what the run
    writes there (``usage``: :func:`shutil.disk_usage` unless a test fakes it)."""
    usage = usage or shutil.disk_usage
    need = expected_bytes(param_bytes, opt_copies, kept)
    warnings = []
    for folder in folders:
        probe = Path(folder)
        while not probe.exists() and probe != probe.parent:  # backup_dir may not exist yet
            probe = probe.parent
        try:
            free = usage(probe).free
        except OSError:
            continue
        if free < need:
            text = (f"warning: {_gb(free)} free in {folder}, but this run keeps about {_gb(need)} "
                    f"of checkpoints there ({_gb(param_bytes)} of weights x (1 + {opt_copies} "
                    f"optimiser copies) in resume.ckpt, twice during a rewrite, + {kept} "
                    "checkpoints of the weights): free space or choose another folder before a "
                    "save fails")
            echo(text)
            warnings.append(text)
    return warnings


# ---------------------------------------------------------------------------------- summary
@dataclass
class RunSummary:
    """What ``summary.json`` holds."""

    run_dir: str
    stop_reason: str        # max_epochs, max_steps, early_stopping, max_time, signal, non_finite_loss
    stop_detail: str
    completed: bool
    epochs_run: int
    global_step: int
    monitor: str
    best_value: float | None
    best_epoch: int | None  # 1-based, as the epoch lines print it
    wall_time_s: float
    paths: dict = field(default_factory=dict)


def run_paths(run_dir: Path, log_path: Path | None) -> dict:
    """best/last/resume/log/summary paths that exist (export is added by the export step)."""
    run_dir = Path(run_dir)
    paths = {"best": run_dir / "best.ckpt", "last": run_dir / "last.ckpt",
             "resume": run_dir / "resume.ckpt", "top_k": run_dir / "top_k",
             "log": log_path or run_dir / "train.log"}
    out = {k: str(v) for k, v in paths.items() if v.exists()}
    out["summary"] = str(run_dir / SUMMARY_FILE)
    return out


def summary_lines(s: RunSummary) -> list[str]:
    epochs = f"{s.epochs_run} epoch{'s' * (s.epochs_run != 1)} ({s.global_step} steps)"
    reason = s.stop_reason.replace("_", " ")
    detail = s.stop_detail.removeprefix(reason + ": ")
    lines = [f"Run summary · stopped by {reason}" + (f" ({detail})" if detail else "")
             + f" · {epochs} in {fmt_seconds(s.wall_time_s)}"]
    if s.best_value is not None:
        lines.append(f"  best {s.monitor} {s.best_value:.4f} at epoch {s.best_epoch}")
    else:
        lines.append(f"  no epoch finished with {s.monitor}: no best checkpoint yet")
    width = max(len(k) for k in s.paths)
    lines += [f"  {k:<{width}}  {v}" for k, v in s.paths.items()]
    return lines


def write_summary(s: RunSummary, echo: Callable[[str], None] = print) -> Path:
    """Print the summary and write ``summary.json`` in the run folder (atomically)."""
    path = Path(s.run_dir) / SUMMARY_FILE
    for line in summary_lines(s):
        echo(line)
    atomic_write_text(path, json.dumps(asdict(s), indent=2) + "\n")
    return path


def add_export(run_dir: Path, export_path: Path) -> None:
    """Record the export of the best checkpoint in ``summary.json``."""
    path = Path(run_dir) / SUMMARY_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["paths"]["export"] = str(export_path)
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


@dataclass
class Stop:
    """Why fit ended, and the exit status `dfdetect train` returns for it."""

    reason: str = "max_epochs"
    detail: str = ""
    exit_status: int = 0


def explain_stop(stop: Stop, cfg, run_dir: Path, echo: Callable) -> None:
    """What a stopped run left and the command that continues it (``cfg``: TrainConfig)."""
    again = resume_command(run_dir, cfg.trainer.resume)
    state = run_dir / "resume.ckpt"
    if stop.reason == "max_time":
        echo(f"{stop.detail}: state saved in {state}; continue with resume=auto "
             f"name={run_dir.name} out_dir={cfg.out_dir}:\n  {again}")
    elif stop.reason == "signal" and stop.exit_status and "aborted" not in stop.detail:
        echo(f"{stop.detail}: the resume state is saved in {state}; continue with:\n  {again}")
    elif stop.reason == "signal":
        echo(f"{stop.detail}; the last saved state is {state} (if any); continue with:\n  {again}")
    elif stop.reason == "non_finite_loss":
        good = [n for n in ("last.ckpt", "best.ckpt", state.name) if (run_dir / n).is_file()]
        kept = (f"{', '.join(good)} in {run_dir} are the last good ones" if good
                else "nothing was saved yet")
        echo(f"{stop.detail}: training stopped before that step changed the weights; {kept}. "
             f"Lower lr=, set grad_clip=1.0 or check the data; continue from the last save "
             f"with:\n  {again}")


def finished_reason(trainer, stopper, t) -> Stop:
    """Why a run that ended normally ended (``t``: the trainer config)."""
    if stopper is not None and stopper.decision:
        return Stop("early_stopping", stopper.decision)
    if t.max_steps > 0 and trainer.global_step >= t.max_steps:
        return Stop("max_steps", f"max_steps={t.max_steps}")
    return Stop("max_epochs", f"epochs={t.epochs}")


def summarise(result, trainer, ckpt_cb, monitor: str, start: float,
              echo: Callable[[str], None] = print) -> Path:
    """Print and write the summary of a run (``result``: the recipe's TrainResult)."""
    best_epoch = ckpt_cb.best_epoch + 1 if ckpt_cb.best_epoch is not None else None
    summary = RunSummary(
        run_dir=str(result.run_dir), stop_reason=result.stop_reason,
        stop_detail=result.stop_detail, completed=result.completed,
        epochs_run=int(trainer.fit_loop.epoch_progress.current.completed),
        global_step=int(trainer.global_step), monitor=monitor,
        best_value=ckpt_cb.best, best_epoch=best_epoch,
        wall_time_s=round(time.monotonic() - start, 1),
        paths=run_paths(result.run_dir, result.log))
    return write_summary(summary, echo)
