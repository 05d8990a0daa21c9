"""``train``: the recipe that turns a TrainConfig into a run folder with checkpoints.

Reads as a list of steps (torchtune's recipe style); each step lives in its own module:
device plan, data, model, loss, callbacks (checkpoints, early stopping, resume state, progress,
backup, signals, guards), loggers, then Lightning's fit, and the run's summary. ``resume=auto``
continues the run folder ``<out_dir>/<name>`` from its ``resume.ckpt``. Everything printed goes
to ``<run folder>/train.log`` as well (:mod:`~dfdetect.training.runlog`).
"""
from __future__ import annotations

import copy
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dfdetect.config.loader import ConfigError, save_yaml, to_dict
from dfdetect.config.schema import TrainConfig, TrainerConfig
from dfdetect.failures import FailureLog
from dfdetect.training.device import DevicePlan, resolve_device, resolve_memory_format

log = logging.getLogger(__name__)
RUN_DIR_ENV = "DFDETECT_RUN_DIR"  # hands rank 0's run folder to DDP processes it launches


@dataclass
class TrainResult:
    """Where a run went and how its best checkpoint scored on validation."""

    run_dir: Path
    best_ckpt: Path
    last_ckpt: Path
    best_metrics: dict = field(default_factory=dict)
    failures: int = 0
    completed: bool = True  # False when max_time, a signal or a NaN stopped the run
    resumed_from: Path | None = None
    #: max_epochs, max_steps, early_stopping, max_time, signal or non_finite_loss
    stop_reason: str = "max_epochs"
    stop_detail: str = ""
    exit_status: int = 0  # what `dfdetect train` exits with: 130/143 after a signal, 2 on NaN
    log: Path | None = None
    summary: Path | None = None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "run"


def new_run_dir(out_dir: str, name: str) -> Path:
    """``<out_dir>/<name>``, or ``<name>_2``, ``_3``... if taken (never overwrites a run)."""
    base = Path(out_dir)
    base.mkdir(parents=True, exist_ok=True)
    safe = _safe(name)
    candidate, n = base / safe, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = base / f"{safe}_{n}"


def env_rank() -> int:
    """This process's global rank as torchrun, SLURM or Lightning's launcher set it."""
    for key in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    return 0


def _confined(out_dir: str, run_dir: Path) -> Path:
    """The run folder, refused when it resolves outside ``out_dir`` (a symlinked name...)."""
    base = Path(out_dir).expanduser().resolve()
    if base not in run_dir.resolve().parents:
        raise ConfigError(f"name={run_dir.name}: the run folder {run_dir} is not inside "
                          f"out_dir={out_dir}")
    return run_dir


#: files dfdetect writes atomically in a run folder; ``.<name>.<random>.tmp`` are their
#: temporaries (io.atomic_write), left behind only by a kill during the write
_ATOMIC = ("resume.ckpt", "best.ckpt", "last.ckpt", "config.yaml", "summary.json")
_TMP = re.compile(r"^\.(%s)\.[A-Za-z0-9_]+\.tmp$" % "|".join(re.escape(n) for n in _ATOMIC))
_TOP_TMP = re.compile(r"^\.epoch\d+-[^/]+\.ckpt\.[A-Za-z0-9_]+\.tmp$")


def remove_stale_temporaries(run_dir: Path, echo: Callable = print) -> int:
    """Delete the temporaries of interrupted checkpoint writes in ``run_dir`` (only files named
    as dfdetect's atomic writes name them); returns how many."""
    stale = [p for p in Path(run_dir).glob(".*.tmp") if _TMP.match(p.name) and p.is_file()]
    stale += [p for p in Path(run_dir, "top_k").glob(".*.tmp")  # save_top_k's files
              if _TOP_TMP.match(p.name) and p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    if stale:
        echo(f"Removed {len(stale)} temporary file(s) of interrupted checkpoint writes in "
             f"{run_dir}")
    return len(stale)


def choose_run_dir(cfg: TrainConfig) -> tuple[Path, Path | None]:
    """(run folder, resume.ckpt to continue from or None), honouring ``resume=``; ``train``
    checks the resume file (:func:`~dfdetect.training.resume.check_resume_file`) before it
    writes anything there."""
    from dfdetect.training.resume import RESUME_FILE, ResumeError

    handed = os.environ.get(RUN_DIR_ENV)
    name = cfg.name or cfg.model.name.replace("timm:", "")
    fixed = Path(cfg.out_dir) / _safe(name)
    resume = cfg.trainer.resume.strip()
    if resume and resume != "auto":
        path = Path(resume).expanduser()
        if not path.is_file():
            raise ResumeError(f"resume={resume}: no such file (use resume=auto or the "
                              f"{RESUME_FILE} of a run folder)")
        return path.parent, path
    if handed and env_rank() > 0:
        run_dir = Path(handed)
    elif resume == "auto" or int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        run_dir = _confined(cfg.out_dir, fixed)  # the same folder on every restart and rank
        run_dir.mkdir(parents=True, exist_ok=True)
    else:
        run_dir = _confined(cfg.out_dir, new_run_dir(cfg.out_dir, name))
    state = run_dir / RESUME_FILE
    return run_dir, (state if resume == "auto" and state.is_file() else None)


def check_selection(cfg: TrainConfig) -> None:
    """A test split never chooses anything: not checkpoints, early stopping or the schedule; and
    every choice (model, optimiser, schedule, loss, sampling, loggers, monitor) is valid, also
    for configs built in Python, before any run folder is made."""
    d = cfg.data
    if d.val_split.strip().lower() == "test" or d.train_split.strip().lower() == "test":
        raise ConfigError("train_split/val_split=test: the test split is kept for the final "
                          "`dfdetect evaluate split=test`; it never picks checkpoints or stops "
                          "training. Use a val split (prepare makes one).")
    from dfdetect.config.choices import check_choices
    from dfdetect.config.outputs import check_folder_path

    check_choices(cfg)
    check_folder_path("out_dir", cfg.out_dir)


def check_classes(cfg: TrainConfig, manifests: list) -> None:
    """Training needs both classes in its train split (real only is fine with pseudo_fakes,
    which makes the fakes) and in its val split (every selection metric compares the two)."""
    d = cfg.data
    need = {d.train_split: not d.pseudo_fakes.strip() or d.pseudo_with_fakes, d.val_split: True}
    for split, both in need.items():
        labels = {s.label for m in manifests for s in m.samples if s.split == split}
        if both and len(labels) < 2:
            have = ", ".join(sorted(labels)) or "no rows"
            raise ConfigError(f"the {split} split holds {have}: training and checkpoint selection "
                              f"need real and fake samples in {d.train_split} and {d.val_split} "
                              "(re-split with `dfdetect prepare` or set train_split=/val_split=)")


def _open_manifests(cfg: TrainConfig) -> tuple[list, list]:
    """Training manifests and the named extra validation manifests."""
    from dfdetect.data.load import open_dataset

    d = cfg.data
    kw = {"root": d.root, "real_label": d.real_label, "fake_label": d.fake_label,
          "split_ratio": d.split_ratio, "seed": cfg.trainer.seed}
    train = [open_dataset(p.strip(), **kw) for p in d.manifest.split(",") if p.strip()]
    if not train:
        open_dataset("", **kw)  # raises the standard "no data given" error
    extra, names = [], set()
    for p in (x.strip() for x in d.extra_val.split(",")):
        if p:
            m = open_dataset(p, **kw)
            name, n = _safe(m.name), 2
            while name in names:
                name, n = f"{_safe(m.name)}{n}", n + 1
            names.add(name)
            extra.append((name, m))
    return train, extra


def _build_model(cfg: TrainConfig):
    from dfdetect.models import build_model, enable_grad_checkpointing, input_options

    kwargs = {"num_classes": 2, "drop_rate": cfg.model.drop_rate}
    for key in ("backbone", "spectrum"):
        if getattr(cfg.model, key):
            kwargs[key] = getattr(cfg.model, key)
    kwargs.update(input_options(cfg.model.name, cfg.data))  # e.g. sample_rate of audio models
    model = build_model(cfg.model.name, cfg.model.pretrained, **kwargs)
    if cfg.trainer.grad_checkpointing:
        enable_grad_checkpointing(model)
    return model, kwargs


def _datamodule(cfg: TrainConfig, manifests: list, extra: list, modality, prep: dict,
                plan: DevicePlan, failures: FailureLog, echo: Callable):
    from dfdetect.data.datamodule import DetectorDataModule
    from dfdetect.data.sbi import build_pseudo_fakes, coverage

    d = cfg.data
    pseudo = build_pseudo_fakes(d.pseudo_fakes)
    if pseudo is not None:
        rows = [s for m in manifests for s in m.where(split=d.train_split).samples]
        reals = [s for s in rows if s.label == "real"]
        fakes = (f" and {len(rows) - len(reals)} labelled fakes" if d.pseudo_with_fakes else "")
        echo(f"pseudo_fakes={d.pseudo_fakes}: training on {len(reals)} real faces{fakes}; "
             + coverage(reals))
    return DetectorDataModule(
        manifests, prep, modality=modality, batch_size=d.batch_size or plan.batch_size,
        num_workers=plan.num_workers if d.num_workers < 0 else d.num_workers,
        train_split=d.train_split, val_split=d.val_split,
        augment=cfg.augment if d.augment else False, failures=failures,
        pin_memory=plan.accelerator == "cuda", extra_val=extra, sampling=d.sampling,
        seed=cfg.trainer.seed, pseudo=pseudo, pseudo_fake_p=d.pseudo_fake_p,
        pseudo_with_fakes=d.pseudo_with_fakes)


def _callbacks(cfg: TrainConfig, plan: DevicePlan, run_dir: Path, dm, describe, mirror,
               echo: Callable, protected: tuple, runlog) -> tuple[list, dict]:
    """Callbacks in the order they must run at each hook: the guard sees a NaN loss before any
    save; the checkpoints and early stopping update their state before the resume state saves
    it; progress comes last. Returns (callbacks, the ones the recipe reads afterwards)."""
    from dfdetect.training.callbacks import DetectorCheckpoint
    from dfdetect.training.guards import AnnouncedEarlyStopping, TrainingGuard
    from dfdetect.training.lifecycle import SignalCatcher
    from dfdetect.training.progress import LineProgress, RunProgressBar, device_stats
    from dfdetect.training.resume import ResumeState, parse_max_time
    from dfdetect.config.selection import check_monitor, mode

    t = cfg.trainer
    check_monitor(t.monitor, dm.val_names)  # val_<name>: the extra sets are known now
    after_save = mirror.request if mirror else (lambda: None)
    signals = SignalCatcher()
    ckpt = DetectorCheckpoint(run_dir, t.monitor, describe, echo, after_save,
                              lambda: device_stats(plan.accelerator), t.save_top_k, protected)
    cbs: list = [signals, TrainingGuard(), ckpt]
    stopper = None
    if t.patience > 0:
        stopper = AnnouncedEarlyStopping(t.monitor, t.patience, mode(t.monitor), echo,
                                         lambda: ckpt.best_epoch)
        cbs.append(stopper)
    cbs.append(ResumeState(run_dir, dm.train_sampler, dm.batch_size, t.save_every_n_steps,
                           t.save_every_minutes, parse_max_time(t.max_time), after_save, echo,
                           signals.requested))
    if use_bar(cfg):
        cbs.append(RunProgressBar(plan.accelerator))
        if runlog is not None:  # the bar stays on screen; train.log gets the plain lines
            cbs.append(LineProgress(plan.accelerator, t.log_every_n_steps, runlog.line))
    else:
        cbs.append(LineProgress(plan.accelerator, t.log_every_n_steps, echo))
    return cbs, {"ckpt": ckpt, "early_stopping": stopper, "signals": signals}


def use_bar(cfg: TrainConfig) -> bool:
    """The tqdm bar only on a terminal: redraws in a log file or a pipe are noise."""
    from dfdetect.training.runlog import stdout_is_terminal

    return cfg.trainer.progress and stdout_is_terminal()


def _quiet_lightning() -> None:
    """Lightning sets its trainer logger to INFO when imported (GPU/TPU lines, tips); dfdetect
    prints its own device line, so keep it to warnings unless dfdetect is debugging. Fabric's
    distributed set-up lines ("GLOBAL_RANK: 1, MEMBER: 2/2") stay: they show DDP joined."""
    if logging.getLogger("dfdetect").getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)


def _trainer(cfg: TrainConfig, plan: DevicePlan, callbacks: list, loggers: list, run_dir: Path,
             batches_per_epoch: int):
    import lightning as L
    from lightning.pytorch.callbacks import LearningRateMonitor

    from dfdetect.training.resume import PlainCheckpointIO

    _quiet_lightning()
    t = cfg.trainer
    devices, strategy = plan.devices, t.strategy
    if plan.accelerator == "cpu" and t.processes > 1:
        devices, strategy = t.processes, ("ddp" if strategy == "auto" else strategy)
    if loggers:
        callbacks = [*callbacks, LearningRateMonitor(logging_interval="step")]
    limit = lambda v: int(v) if v > 1 else float(v)  # noqa: E731
    return L.Trainer(
        accelerator=plan.accelerator, devices=devices, num_nodes=t.num_nodes, strategy=strategy,
        precision=plan.precision, max_epochs=t.epochs, max_steps=t.max_steps,
        deterministic=t.deterministic, callbacks=callbacks, logger=loggers or False,
        log_every_n_steps=max(1, min(t.log_every_n_steps, batches_per_epoch)),
        limit_train_batches=limit(t.limit_train_batches),
        limit_val_batches=limit(t.limit_val_batches), enable_checkpointing=False,
        gradient_clip_val=t.grad_clip or None, gradient_clip_algorithm="norm",
        accumulate_grad_batches=max(1, t.accumulate), use_distributed_sampler=False,
        plugins=[PlainCheckpointIO()], enable_progress_bar=use_bar(cfg),
        enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=str(run_dir))


def _batches(n_samples: int, batch_size: int, limit: float) -> int:
    full = max(1, n_samples // batch_size)
    return min(full, int(limit)) if limit > 1 else max(1, int(full * limit))


def _fit(trainer, module, dm, resume_from, mirror, on_finish: Callable, signals):
    """Run Lightning's fit; says why it stopped. ``on_finish`` runs after a normal end, before
    the last backup pass."""
    from dfdetect.training.guards import NonFiniteLoss
    from dfdetect.training.lifecycle import Stop
    from dfdetect.training.resume import Interrupted, TimeBudgetReached

    try:
        trainer.fit(module, datamodule=dm, ckpt_path=resume_from, weights_only=True)
        on_finish()
        return Stop()
    except TimeBudgetReached as stop:
        return Stop("max_time", str(stop))
    except Interrupted as stop:
        return Stop("signal", str(stop), stop.exit_status)
    except NonFiniteLoss as stop:
        return Stop("non_finite_loss", str(stop), 2)
    except SystemExit:  # Lightning's answer to a KeyboardInterrupt: a second Ctrl-C
        if signals.signum is None:
            raise
        return Stop("signal", "aborted by a second signal before the state was saved",
                     128 + signals.signum)
    finally:
        if mirror:  # the last mirror pass finishes before train() returns
            mirror.request()
            mirror.close()


def _modality_defaults(cfg: TrainConfig, modality, echo: Callable) -> TrainConfig:
    """The modality's ``default_monitor`` (audio: val/eer, the anti-spoofing convention) unless
    the user chose a monitor; the returned copy is what config.yaml records."""
    wanted = modality.default_monitor
    chosen = cfg.trainer.monitor != TrainerConfig().monitor  # the user's choice stays
    if not wanted or chosen or wanted == cfg.trainer.monitor:
        return cfg
    cfg = copy.deepcopy(cfg)
    cfg.trainer.monitor = wanted
    echo(f"{modality.name.capitalize()} data: checkpoints are chosen by {wanted} "
         "(set monitor= to change)")
    return cfg


def _protected(cfg: TrainConfig, resume_from: Path | None) -> tuple:
    """Files a run never deletes: the one it resumes from, weights it starts from."""
    named = [resume_from, cfg.model.pretrained if Path(cfg.model.pretrained).suffix else None]
    return tuple(p for p in named if p)


def _check_disk(cfg: TrainConfig, model, run_dir: Path, echo: Callable) -> None:
    from dfdetect.training.lifecycle import check_disk, optimizer_copies

    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    folders = [run_dir] + ([Path(cfg.trainer.backup_dir)] if cfg.trainer.backup_dir else [])
    check_disk(folders, param_bytes, optimizer_copies(cfg.optim.optimizer, cfg.optim.momentum),
               2 + cfg.trainer.save_top_k - 1, echo)


def _both(echo: Callable, runlog) -> Callable:
    """``echo`` that also reaches train.log (print reaches it through the captured stdout)."""
    if echo is print or runlog is None:
        return echo
    return lambda text: (echo(text), runlog.line(text))


def train(cfg: TrainConfig, echo=print) -> TrainResult:
    """Train a detector as ``cfg`` says; returns the run folder, checkpoint paths and why the
    run stopped. Everything printed also goes to ``<run folder>/train.log``."""
    from dfdetect.training.runlog import RunLog

    if env_rank() > 0:
        return _train(cfg, lambda *_: None, None)  # rank 0 speaks (and logs) for the run
    with RunLog() as runlog:
        return _train(cfg, _both(echo, runlog), runlog)


def _train(cfg: TrainConfig, echo: Callable, runlog) -> TrainResult:
    import lightning as L

    from dfdetect.losses import build_loss
    from dfdetect.modalities import manifest_modality
    from dfdetect.models import starting_weights
    from dfdetect.preprocess.video import with_crop_settings
    from dfdetect.training.backup import BackupMirror, restore_from_backup
    from dfdetect.training.lifecycle import explain_stop, finished_reason, summarise
    from dfdetect.training.loggers import build_loggers
    from dfdetect.training.module import DetectorModule
    from dfdetect.training.resume import check_resume_file, compact_resume_state

    start = time.monotonic()
    check_selection(cfg)
    plan = resolve_device(cfg.trainer.device, cfg.trainer.gpus, cfg.trainer.precision)
    echo(plan.message + f" · precision {plan.precision}")
    manifests, extra = _open_manifests(cfg)
    modality = manifest_modality([s for m in manifests for s in m.samples])
    cfg = _modality_defaults(cfg, modality, echo)
    memory_format = resolve_memory_format(cfg.trainer.memory_format, plan.accelerator,
                                          modality.spatial_input)
    if memory_format != "contiguous" or cfg.trainer.memory_format != "auto":
        echo(f"Memory format: {memory_format} (memory_format={cfg.trainer.memory_format})")
    check_classes(cfg, manifests)
    L.seed_everything(cfg.trainer.seed, workers=True, verbose=False)
    model, model_kwargs = _build_model(cfg)
    echo(starting_weights(model, cfg.model.pretrained))  # issue 10: which weights a run starts from
    prep = modality.preprocessing(cfg.data, model)
    prep = with_crop_settings(prep, [s for m in manifests for s in m.samples], echo)  # issue 9
    run_dir, resume_from = choose_run_dir(cfg)
    if cfg.trainer.resume.strip() == "auto" and cfg.trainer.backup_dir and env_rank() == 0:
        resume_from = resume_from or restore_from_backup(  # a reset notebook: run folder gone
            run_dir, Path(cfg.trainer.backup_dir) / run_dir.name, echo,
            check=lambda path: check_resume_file(path, model))
    if resume_from:
        check_resume_file(resume_from, model)
    if env_rank() == 0:  # everything is checked: now write
        if runlog is not None:
            runlog.attach(run_dir / "train.log",
                          f"resumed from {resume_from}" if resume_from else "started again")
        remove_stale_temporaries(run_dir, echo)
        save_yaml(cfg, run_dir / "config.yaml")
        os.environ[RUN_DIR_ENV] = str(run_dir)
        _check_disk(cfg, model, run_dir, echo)
    failures = FailureLog(run_dir / "failures.csv")
    dm = _datamodule(cfg, manifests, extra, modality, prep, plan, failures, echo)
    echo(f"Data: {', '.join(m.name for m in manifests)} · {len(dm.train_set)} train / "
         f"{len(dm.val_set)} val samples · validation sets {', '.join(dm.val_names)} "
         f"· run folder {run_dir}")
    if resume_from:
        echo(f"Resuming from {resume_from}")
    describe = lambda: {"model_name": cfg.model.name, "model_kwargs": model_kwargs,  # noqa: E731
                        "preprocessing": prep, "config": to_dict(cfg)}
    mirror = (BackupMirror(run_dir, Path(cfg.trainer.backup_dir) / run_dir.name)
              if cfg.trainer.backup_dir and env_rank() == 0 else None)
    callbacks, parts = _callbacks(cfg, plan, run_dir, dm, describe, mirror, echo,
                                  _protected(cfg, resume_from), runlog)
    trainer = _trainer(cfg, plan, callbacks, build_loggers(run_dir, cfg.logging), run_dir,
                       _batches(len(dm.train_set), dm.batch_size, cfg.trainer.limit_train_batches))
    module = DetectorModule(model, cfg.optim, build_loss(cfg.loss, dm.class_counts()),
                            dm.val_names, cfg.trainer.monitor,
                            channels_last=memory_format == "channels_last")
    lean = (lambda: compact_resume_state(run_dir)) if env_rank() == 0 else (lambda: 0)
    stop = _fit(trainer, module, dm, resume_from, mirror, lean, parts["signals"])
    if stop.reason == "max_epochs" and not stop.exit_status:
        stop = finished_reason(trainer, parts["early_stopping"], cfg.trainer)
    explain_stop(stop, cfg, run_dir, echo)
    n_fail = len(failures.read())
    if n_fail:
        echo(f"{n_fail} file(s) could not be read and were skipped: see {failures.path}")
    ckpt_cb = parts["ckpt"]
    result = TrainResult(run_dir, run_dir / "best.ckpt", run_dir / "last.ckpt",
                         ckpt_cb.best_metrics, n_fail, stop.reason not in _UNFINISHED,
                         resume_from, stop.reason, stop.detail, stop.exit_status,
                         runlog.path if runlog else None)
    if env_rank() == 0:
        result.summary = summarise(result, trainer, ckpt_cb, cfg.trainer.monitor, start, echo)
    return result


#: stop reasons after which the run is not finished (resume=auto continues it)
_UNFINISHED = ("max_time", "signal", "non_finite_loss")
