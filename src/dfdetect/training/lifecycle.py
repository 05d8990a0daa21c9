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
from dfdetect.training.resume import Interrupted  # noqa: F401 - raised by ResumeState

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
