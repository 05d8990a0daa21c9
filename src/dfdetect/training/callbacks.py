"""Callbacks: self-describing best/last checkpoints and the one-line epoch summary."""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Callable

import lightning as L

from dfdetect.checkpoint import make_checkpoint, save_checkpoint
from dfdetect.config.selection import higher_is_better

log = logging.getLogger(__name__)


def _value(metrics: dict, key: str) -> float | None:
    v = metrics.get(key)
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


class DetectorCheckpoint(L.Callback):
    """After each epoch, write ``last.ckpt`` and, when ``monitor`` improves, ``best.ckpt``.

    Both are dfdetect checkpoints (weights + metadata, ``weights_only``-loadable), written
    atomically. The direction (higher or lower is better) comes from
    :mod:`dfdetect.config.selection`.
    """

    def __init__(self, run_dir: Path, monitor: str, describe: Callable[[], dict],
                 echo: Callable[[str], None] = print,
                 after_save: Callable[[], None] = lambda: None,
                 stats: Callable[[], str] = lambda: "") -> None:
        self.run_dir = Path(run_dir)
        self.monitor = monitor
        self.describe = describe  # -> kwargs for make_checkpoint (model name, config, ...)
        self.echo = echo
        self.after_save = after_save  # e.g. ask the backup mirror to copy the run folder
        self.stats = stats  # device memory / utilisation text for the summary line
        self.lower_is_better = not higher_is_better(monitor)
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_metrics: dict = {}

    def state_dict(self) -> dict:
        """Best-metric state, saved in resume.ckpt so a resumed run compares against it."""
        return {"best": self.best, "best_epoch": self.best_epoch,
                "best_metrics": dict(self.best_metrics)}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.best_metrics = dict(state["best_metrics"])

    def _improved(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.best is None:
            return True
        return value < self.best if self.lower_is_better else value > self.best

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # runs after this epoch's validation and after the train epoch metrics are reduced
        # every rank reads the metrics: under DDP reading them syncs torchmetrics state across
        # processes (a collective), so a rank-0-only read would deadlock
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        value = _value(metrics, self.monitor)
        if self._improved(value):  # every rank keeps the same best state (resume, DDP)
            self.best, self.best_epoch, self.best_metrics = value, trainer.current_epoch, metrics
            improved = True
        else:
            improved = False
        if not trainer.is_global_zero:
            return
        ckpt = make_checkpoint(pl_module.model, metrics=metrics, epoch=trainer.current_epoch,
                               step=trainer.global_step, **self.describe())
        save_checkpoint(ckpt, self.run_dir / "last.ckpt")
        note = ""
        if improved:
            save_checkpoint(ckpt, self.run_dir / "best.ckpt")
            note = f" · Best {self.monitor.split('/')[-1]}! saved {self.run_dir / 'best.ckpt'}"
        elif value is None:
            note = f" · ({self.monitor} not available: is it spelt right?)"
        stats = self.stats()
        self.echo(epoch_summary(trainer.current_epoch, trainer.max_epochs, metrics)
                  + (f" · {stats}" if stats else "") + note)
        self.after_save()


def epoch_summary(epoch: int, max_epochs: int | None, m: dict) -> str:
    """``Epoch 3/10 · train loss 0.412 acc 0.812 F1 0.801 · val loss ... auc ...``"""

    def fmt(key: str) -> str:
        v = _value(m, key)
        return "n/a" if v is None else f"{v:.3f}"

    total = f"/{max_epochs}" if max_epochs and max_epochs > 0 else ""
    line = (f"Epoch {epoch + 1}{total} · train loss {fmt('train/loss_epoch')} "
            f"acc {fmt('train/acc')} F1 {fmt('train/f1_macro')} · val loss {fmt('val/loss')} "
            f"acc {fmt('val/acc')} F1 {fmt('val/f1_macro')} AUC {fmt('val/auc')} "
            f"EER {fmt('val/eer')}")
    extra = sorted({k.split("/")[0] for k in m if k.startswith("val_")})
    for name in extra:  # further validation sets, each under its own name
        line += (f" · {name} acc {fmt(name + '/acc')} F1 {fmt(name + '/f1_macro')} "
                 f"AUC {fmt(name + '/auc')} EER {fmt(name + '/eer')}")
    return line
