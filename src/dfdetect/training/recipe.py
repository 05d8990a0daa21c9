"""``train``: the recipe that turns a TrainConfig into a run folder with checkpoints.

Reads as a list of steps (torchtune's recipe style); each step lives in its own module.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from dfdetect.config.loader import save_yaml, to_dict
from dfdetect.config.schema import TrainConfig
from dfdetect.failures import FailureLog
from dfdetect.training.device import DevicePlan, resolve_device

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Where a run went and how its best checkpoint scored on validation."""

    run_dir: Path
    best_ckpt: Path
    last_ckpt: Path
    best_metrics: dict = field(default_factory=dict)
    failures: int = 0


def new_run_dir(out_dir: str, name: str) -> Path:
    """``<out_dir>/<name>``, or ``<name>_2``, ``_3``... if taken (never overwrites a run)."""
    base = Path(out_dir)
    base.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "run"
    candidate, n = base / safe, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = base / f"{safe}_{n}"


def _loggers(run_dir: Path):
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    return [TensorBoardLogger(str(run_dir), name="tensorboard", version=""),
            CSVLogger(str(run_dir), name="logs", version="")]


def _quiet_lightning() -> None:
    """Lightning sets its loggers to INFO when imported (GPU/TPU lines, tips); dfdetect prints
    its own device line, so keep Lightning to warnings unless dfdetect is debugging."""
    if logging.getLogger("dfdetect").getEffectiveLevel() > logging.DEBUG:
        for name in ("lightning.pytorch", "lightning.fabric"):
            logging.getLogger(name).setLevel(logging.WARNING)


def _trainer(cfg: TrainConfig, plan: DevicePlan, callbacks: list, run_dir: Path,
             batches_per_epoch: int):
    import lightning as L
    from lightning.pytorch.callbacks import LearningRateMonitor, TQDMProgressBar

    _quiet_lightning()
    t = cfg.trainer
    cbs = [*callbacks, LearningRateMonitor(logging_interval="step")]
    if t.progress:
        cbs.append(TQDMProgressBar(refresh_rate=1))
    limit = lambda v: int(v) if v > 1 else float(v)  # noqa: E731
    return L.Trainer(
        accelerator=plan.accelerator, devices=plan.devices, precision=plan.precision,
        max_epochs=t.epochs, max_steps=t.max_steps, deterministic=t.deterministic,
        callbacks=cbs, logger=_loggers(run_dir),
        log_every_n_steps=max(1, min(t.log_every_n_steps, batches_per_epoch)),
        limit_train_batches=limit(t.limit_train_batches),
        limit_val_batches=limit(t.limit_val_batches), enable_checkpointing=False,
        enable_progress_bar=t.progress, enable_model_summary=False, num_sanity_val_steps=0,
        default_root_dir=str(run_dir))


def _batches(n_samples: int, batch_size: int, limit: float) -> int:
    full = max(1, n_samples // batch_size)
    return min(full, int(limit)) if limit > 1 else max(1, int(full * limit))


def train(cfg: TrainConfig, echo=print) -> TrainResult:
    """Train a detector as ``cfg`` says; returns the run folder and checkpoint paths."""
    import lightning as L

    from dfdetect.data.datamodule import DetectorDataModule
    from dfdetect.data.load import open_dataset
    from dfdetect.data.modality import get_handler, manifest_modality
    from dfdetect.models import build_model
    from dfdetect.training.callbacks import DetectorCheckpoint
    from dfdetect.training.module import DetectorModule

    plan = resolve_device(cfg.trainer.device, cfg.trainer.gpus, cfg.trainer.precision)
    echo(plan.message + f" · precision {plan.precision}")
    d = cfg.data
    manifest = open_dataset(d.manifest, root=d.root, real_label=d.real_label,
                            fake_label=d.fake_label, split_ratio=d.split_ratio,
                            seed=cfg.trainer.seed)
    run_dir = new_run_dir(cfg.out_dir, cfg.name or cfg.model.name.replace("timm:", ""))
    save_yaml(cfg, run_dir / "config.yaml")
    L.seed_everything(cfg.trainer.seed, workers=True, verbose=False)
    model_kwargs = {"num_classes": 2, "drop_rate": cfg.model.drop_rate}
    model = build_model(cfg.model.name, cfg.model.pretrained, **model_kwargs)
    prep = get_handler(manifest_modality(manifest.samples)).preprocessing(d, model)
    failures = FailureLog(run_dir / "failures.csv")
    dm = DetectorDataModule(
        manifest, prep, batch_size=d.batch_size or plan.batch_size,
        num_workers=plan.num_workers if d.num_workers < 0 else d.num_workers,
        train_split=d.train_split, val_split=d.val_split, augment=d.augment,
        failures=failures, pin_memory=plan.accelerator == "cuda")
    echo(f"Data: {manifest.name} · {len(dm.train_set)} train / {len(dm.val_set)} val samples "
         f"· run folder {run_dir}")
    describe = lambda: {"model_name": cfg.model.name, "model_kwargs": model_kwargs,  # noqa: E731
                        "preprocessing": prep, "config": to_dict(cfg)}
    ckpt_cb = DetectorCheckpoint(run_dir, cfg.trainer.monitor, describe, echo)
    from dfdetect.training.eer import ValidationEER  # issue 6: logs val/eer (audio monitor)
    trainer = _trainer(cfg, plan, [ValidationEER(), ckpt_cb], run_dir,
                       _batches(len(dm.train_set), dm.batch_size, cfg.trainer.limit_train_batches))
    trainer.fit(DetectorModule(model, cfg.optim), datamodule=dm)
    n_fail = len(failures.read())
    if n_fail:
        echo(f"{n_fail} file(s) could not be read and were skipped: see {failures.path}")
    return TrainResult(run_dir, run_dir / "best.ckpt", run_dir / "last.ckpt",
                       ckpt_cb.best_metrics, n_fail)
