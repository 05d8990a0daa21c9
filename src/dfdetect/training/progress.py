"""Progress for people: live loss/accuracy, ETA for the epoch and the run, device memory.

With ``progress=true`` on a terminal a tqdm bar shows the batch loss and accuracy, tqdm's own
epoch ETA, and this module adds the run's ETA and device figures. With ``progress=false``, or
when standard output is not a terminal (``nohup``, a pipe, a log file), :class:`LineProgress`
prints the same as one line every ``log_every_n_steps`` (and writes those lines to
``train.log`` while a bar is on screen).

Example line::

    epoch 2/10 batch 40/120 · loss 0.412 acc 0.750 · lr 3.0e-04 grad norm 1.87 · ETA epoch 0:00:31 run 0:07:12 · cpu rss 1.9 GB load 96%
"""
from __future__ import annotations

import os
import time
from typing import Callable

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar

from dfdetect.console import fmt_seconds  # noqa: F401 - also imported from here


def device_stats(accelerator: str) -> str:
    """Memory (and utilisation where the device reports it); empty if nothing is reported."""
    import torch

    if accelerator == "cuda" and torch.cuda.is_available():
        i = torch.cuda.current_device()
        text = (f"gpu mem {torch.cuda.memory_allocated(i) / 2**30:.1f}/"
                f"{torch.cuda.get_device_properties(i).total_memory / 2**30:.0f} GB")
        try:
            text += f" util {torch.cuda.utilization(i)}%"  # needs pynvml; optional
        except Exception:  # noqa: BLE001 - utilisation is a nicety, never a failure
            pass
        return text
    if accelerator == "mps":
        mps = getattr(torch, "mps", None)
        if mps is not None and hasattr(mps, "current_allocated_memory"):
            return f"mps mem {mps.current_allocated_memory() / 2**30:.1f} GB"
        return ""
    return _cpu_stats()


def _cpu_stats() -> str:
    try:
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return ""
    text = f"cpu rss {rss / 2**30:.1f} GB"
    if hasattr(os, "getloadavg"):
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        text += f" load {100 * os.getloadavg()[0] / max(1, cpus or 1):.0f}%"
    return text


class Eta:
    """Seconds left for the epoch and the run, from this session's pace."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.step0: int | None = None
        self.total: float | None = None  # estimated_stepping_batches, read once (not free)
        self.epoch_t0 = self.t0
        self.epoch_batch0 = 0

    def start_epoch(self, batch0: int = 0) -> None:
        self.epoch_t0, self.epoch_batch0 = time.monotonic(), batch0

    def epoch(self, batch_done: int, batches: int) -> float | None:
        done = batch_done - self.epoch_batch0
        if done <= 0:
            return None
        return (time.monotonic() - self.epoch_t0) / done * max(0, batches - batch_done)

    def run(self, trainer: L.Trainer) -> float | None:
        step = trainer.global_step
        if self.step0 is None:
            self.step0, self.t0 = step, time.monotonic()
            self.total = float(trainer.estimated_stepping_batches)
            return None
        done = step - self.step0
        total = self.total
        if done <= 0 or total == float("inf"):
            return None
        return (time.monotonic() - self.t0) / done * max(0, total - step)


class RunProgressBar(TQDMProgressBar):
    """tqdm bar (epoch ETA built in) plus run ETA and device figures in its postfix."""

    def __init__(self, accelerator: str, refresh_rate: int = 1) -> None:
        super().__init__(refresh_rate=refresh_rate)
        self.accelerator = accelerator
        self.eta = Eta()

    def get_metrics(self, trainer, pl_module) -> dict:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)
        items["run ETA"] = fmt_seconds(self.eta.run(trainer))
        stats = device_stats(self.accelerator)
        if stats:
            items["dev"] = stats
        return items


class LineProgress(L.Callback):
    """One text line every ``every`` batches when the bar is off."""

    def __init__(self, accelerator: str, every: int = 10,
                 echo: Callable[[str], None] = print) -> None:
        self.accelerator, self.every, self.echo = accelerator, max(1, every), echo
        self.eta = Eta()

        self._epoch: int | None = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if self._epoch != trainer.current_epoch:  # first batch of an epoch (or after resuming)
            self._epoch = trainer.current_epoch
            self.eta.start_epoch(batch_idx + 1)
        run_eta = self.eta.run(trainer)
        if not trainer.is_global_zero or (batch_idx + 1) % self.every:
            return
        self.echo(self.line(trainer, batch_idx + 1, run_eta))

    def line(self, trainer: L.Trainer, done: int, run_eta: float | None) -> str:
        m = trainer.callback_metrics
        get = lambda k: float(m[k]) if k in m else float("nan")  # noqa: E731
        n = trainer.num_training_batches
        epochs = f"/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
        text = (f"epoch {trainer.current_epoch + 1}{epochs} batch {done}/{n} · "
                f"loss {get('train/loss_step'):.3f} acc {get('train/acc_step'):.3f} · "
                f"lr {get('lr'):.1e} grad norm {get('train/grad_norm'):.3g} · ETA epoch {fmt_seconds(self.eta.epoch(done, n))} "
                f"run {fmt_seconds(run_eta)}")
        stats = device_stats(self.accelerator)
        return text + (f" · {stats}" if stats else "")
