"""Callbacks: self-describing best/last/top-k checkpoints and the one-line epoch summary.

Why not Lightning's ModelCheckpoint: it writes Lightning checkpoints (optimiser state, loop
state) through the trainer; dfdetect's are self-describing weights + metadata that ``predict``
reads alone (:mod:`dfdetect.checkpoint`). Retention follows ModelCheckpoint's ``save_top_k``.

Disk: an epoch's checkpoint is written once (``last.ckpt``); ``best.ckpt`` and the ``top_k/``
file of the same epoch are hard links to it where the file system has them (a copy otherwise).
Every later write replaces a name atomically (a new file), so the others keep their content.
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import lightning as L

from dfdetect.checkpoint import make_checkpoint, save_checkpoint
from dfdetect.config.selection import higher_is_better
from dfdetect.io import current_umask

log = logging.getLogger(__name__)


def _value(metrics: dict, key: str) -> float | None:
    v = metrics.get(key)
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


TOP_DIR = "top_k"


def link_or_copy(src: Path, dst: Path) -> Path:
    """Make ``dst`` hold ``src``'s content: a hard link (no extra disk) or, where links are not
    possible (some network or FUSE drives), a copy; atomic either way."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
            os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dst


class DetectorCheckpoint(L.Callback):
    """After each epoch, write ``last.ckpt`` and, when ``monitor`` improves, ``best.ckpt``;
    with ``save_top_k`` > 1 also keep the k best epochs in ``top_k/`` (the worst one leaving
    is deleted; ``protected`` files, such as the one a run resumes or starts from, never are).

    All are dfdetect checkpoints (weights + metadata, ``weights_only``-loadable), written
    atomically. The direction (higher or lower is better) comes from
    :mod:`dfdetect.config.selection`.
    """

    def __init__(self, run_dir: Path, monitor: str, describe: Callable[[], dict],
                 echo: Callable[[str], None] = print,
                 after_save: Callable[[], None] = lambda: None,
                 stats: Callable[[], str] = lambda: "", save_top_k: int = 1,
                 protected: tuple = ()) -> None:
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
        self.save_top_k = max(1, int(save_top_k))
        self.protected = {Path(p).resolve() for p in protected if p}
        self.top: list[dict] = []  # {"value", "epoch", "file"} best first, files in top_k/

    def state_dict(self) -> dict:
        """Best-metric and top-k state, saved in resume.ckpt so a resumed run compares against
        it (and knows which top_k/ files it made)."""
        return {"best": self.best, "best_epoch": self.best_epoch,
                "best_metrics": dict(self.best_metrics), "top": [dict(t) for t in self.top]}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.best_metrics = dict(state["best_metrics"])
        self.top = [dict(t) for t in state.get("top", [])]

    def _better(self, a: float, b: float) -> bool:
        return a < b if self.lower_is_better else a > b

    def _improved(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.best is None:
            return True
        return self._better(value, self.best)

    def _enters_top(self, value: float | None) -> bool:
        if value is None or self.save_top_k < 2:
            return False
        return len(self.top) < self.save_top_k or self._better(value, self.top[-1]["value"])

    def _update_top(self, value: float, epoch: int) -> tuple[dict, list[dict]]:
        """Insert this epoch (every rank); returns (its entry, the entries that left)."""
        leaf = self.monitor.split("/")[-1]
        entry = {"value": value, "epoch": epoch,
                 "file": f"{TOP_DIR}/epoch{epoch + 1:03d}-{leaf}{value:.4f}.ckpt"}
        self.top.append(entry)
        self.top.sort(key=lambda t: t["value"], reverse=not self.lower_is_better)
        left, self.top = self.top[self.save_top_k:], self.top[:self.save_top_k]
        return entry, left

    def _remove(self, entry: dict) -> None:
        """Delete a top-k file that left the k best: only one this callback named, inside
        top_k/, and never a protected one (resumed from, named by the user)."""
        path = (self.run_dir / entry["file"]).resolve()
        top = (self.run_dir / TOP_DIR).resolve()
        if top not in path.parents or path in self.protected:
            log.warning("kept %s (not removed: it is protected or outside %s)", path, top)
            return
        path.unlink(missing_ok=True)

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
        entry, left = (self._update_top(value, trainer.current_epoch)
                       if self._enters_top(value) else (None, []))
        if not trainer.is_global_zero:
            return
        ckpt = make_checkpoint(pl_module.model, metrics=metrics, epoch=trainer.current_epoch,
                               step=trainer.global_step, **self.describe())
        last = save_checkpoint(ckpt, self.run_dir / "last.ckpt")
        note = ""
        if improved:
            link_or_copy(last, self.run_dir / "best.ckpt")
            note = f" · Best {self.monitor.split('/')[-1]}! saved {self.run_dir / 'best.ckpt'}"
        if entry is not None:
            (self.run_dir / TOP_DIR).mkdir(exist_ok=True)
            link_or_copy(last, self.run_dir / entry["file"])
            for gone in left:
                self._remove(gone)
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
