"""Resumable runs: the full training state in ``resume.ckpt``, saved often and atomically.

What is saved: Lightning's own checkpoint contents (model, optimiser, scheduler, AMP scaler,
loop progress = epoch and batch position, callback states such as early stopping and the best
metric) plus this module's :class:`ResumeState` (random generators and the sampler position).
Everything is plain tensors, numbers, strings, lists and dicts: :class:`PlainCheckpointIO`
checks that on save, writes through a temporary file and a rename, and loads with
``torch.load(weights_only=True)``, so resuming never unpickles code (Lightning's default
checkpoints may hold pickled objects; ours cannot).

When: every ``save_every_n_steps`` optimiser steps, every ``save_every_minutes`` minutes, after
each epoch, and when ``max_time`` runs out (then training stops with :class:`TimeBudgetReached`
which the recipe reports as a clean exit). Step saves happen only at accumulation boundaries
and never on an epoch's last batch (the epoch-end save follows), so every saved position is one
an uninterrupted run passes through.

Signals: ``stop_requested`` (the recipe's :class:`~dfdetect.training.lifecycle.SignalCatcher`)
is read at the same positions; after SIGINT/SIGTERM the state is saved at the next one and
training stops with :class:`~dfdetect.training.lifecycle.Interrupted`.

Lean when finished (:func:`compact_resume_state`): after a run ends normally its weights are in
``last.ckpt`` too, so ``resume.ckpt`` keeps the rest (optimiser, schedule, loops, callbacks,
RNG) and records ``weights_in`` (file, step, checksum); :func:`load_resume_file` puts the
weights back from ``last.ckpt`` after checking that checksum, so the run can still be extended
(``epochs=`` higher, ``resume=auto``).

Why it is exact: the sampler's draws depend on (seed, epoch) only and skip what was consumed;
augmentation is seeded per draw; the global generators are restored just before the first
batch after resuming, when an uninterrupted run would hold the same state.
"""
from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Any, Callable

import lightning as L
import numpy as np
import torch
from lightning.fabric.plugins.io.checkpoint_io import CheckpointIO

from dfdetect.config.loader import ConfigError
from dfdetect.io import atomic_torch_save

MODEL_PREFIX = "model."  # DetectorModule.model: its keys in Lightning's state_dict

RESUME_FILE = "resume.ckpt"
PLAIN = (torch.Tensor, int, float, bool, str, bytes, type(None))


class TimeBudgetReached(Exception):
    """``max_time`` ran out; the resume state was saved first."""


class Interrupted(Exception):
    """SIGINT/SIGTERM stopped training after the resume state was saved."""

    def __init__(self, signum: int, where: str) -> None:
        import signal

        self.signum = signum
        super().__init__(f"{signal.Signals(signum).name} received: stopped {where}")

    @property
    def exit_status(self) -> int:
        """128 + the signal number, as a shell reports a process the signal ended."""
        return 128 + self.signum


class ResumeError(ConfigError):
    """A resume request that cannot be honoured (missing or foreign file)."""


def check_plain(obj: Any, where: str = "checkpoint") -> None:
    """Raise TypeError naming the key if ``obj`` holds anything ``weights_only`` cannot load."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"{where}: key {k!r} is a {type(k).__name__}")
            check_plain(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            check_plain(v, f"{where}[{i}]")
    elif not isinstance(obj, PLAIN):
        raise TypeError(f"{where} is a {type(obj).__name__}: the resume state must be plain "
                        "tensors, numbers, strings, lists and dicts")


#: top-level keys of a resume state and the type each must have
_RESUME_KEYS = {"loops": dict, "state_dict": dict, "optimizer_states": list, "callbacks": dict,
                "epoch": int, "global_step": int}


def load_resume_file(path, map_location=None) -> dict:
    """Load a resume state (weights_only) and check its structure; a truncated, foreign or
    malformed file raises :class:`ResumeError` naming the file and what is wrong."""
    try:
        ckpt = torch.load(path, map_location=map_location or "cpu", weights_only=True)
    except Exception as e:  # truncated zip, pickled code, not a torch file...
        first = (str(e).strip().splitlines() or ["empty or truncated file"])[0][:200]
        raise ResumeError(f"{path}: unreadable resume state ({type(e).__name__}: {first}); "
                          f"delete it to start over, or resume from another {RESUME_FILE}"
                          ) from None
    if not isinstance(ckpt, dict) or "loops" not in ckpt:
        raise ResumeError(f"{path}: not a dfdetect resume state (resume= needs the "
                          f"{RESUME_FILE} of a run folder)")
    for key, typ in _RESUME_KEYS.items():
        if key in ckpt and not isinstance(ckpt[key], typ):
            raise ResumeError(f"{path}: malformed resume state: '{key}' is a "
                              f"{type(ckpt[key]).__name__}, expected a {typ.__name__}")
    if "weights_in" in ckpt:
        _restore_weights(ckpt, Path(path))
    return ckpt


def _restore_weights(ckpt: dict, path: Path) -> None:
    """Put the model weights a compacted resume state left in ``last.ckpt`` back into it."""
    from dfdetect.checkpoint import weights_digest

    ref = ckpt.pop("weights_in")
    if not isinstance(ref, dict) or not isinstance(ref.get("file"), str) \
            or "/" in ref["file"] or "\\" in ref["file"]:
        raise ResumeError(f"{path}: malformed resume state: 'weights_in' must name a file "
                          "beside it")
    source = path.parent / ref["file"]
    fix = (f"the run's weights are in {source}, which resume.ckpt was compacted against; "
           "put that file back (e.g. from backup_dir) or start a new run")
    try:
        last = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as e:  # missing, truncated...
        raise ResumeError(f"{path}: cannot read {source} ({type(e).__name__}); {fix}") from None
    state = last.get("state_dict") if isinstance(last, dict) else None
    if not isinstance(state, dict) or last.get("global_step") != ref.get("global_step") \
            or weights_digest(state) != ref.get("weights_sha256"):
        raise ResumeError(f"{path}: {source} is not the checkpoint of step "
                          f"{ref.get('global_step')} it was compacted against; {fix}")
    ckpt["state_dict"].update({MODEL_PREFIX + k: v for k, v in state.items()})


def compact_resume_state(run_dir: Path, last_file: str = "last.ckpt") -> int:
    """Drop the model weights from a finished run's ``resume.ckpt`` when ``last.ckpt`` holds
    exactly them (same step, equal tensors); returns the bytes saved (0: left as it was)."""
    path, last_path = Path(run_dir) / RESUME_FILE, Path(run_dir) / last_file
    if not path.is_file() or not last_path.is_file():
        return 0
    before = path.stat().st_size
    state = torch.load(path, map_location="cpu", weights_only=True)
    last = torch.load(last_path, map_location="cpu", weights_only=True)
    weights = last.get("state_dict", {})
    ours = {k[len(MODEL_PREFIX):]: v for k, v in state.get("state_dict", {}).items()
            if k.startswith(MODEL_PREFIX)}
    if "weights_in" in state or state.get("global_step") != last.get("global_step") \
            or ours.keys() != weights.keys() \
            or not all(torch.equal(ours[k], weights[k]) for k in ours):
        return 0
    for k in ours:
        del state["state_dict"][MODEL_PREFIX + k]
    state["weights_in"] = {"file": last_file, "global_step": int(last["global_step"]),
                           "weights_sha256": last.get("weights_sha256", "")}
    atomic_torch_save(state, path)
    return before - path.stat().st_size


def check_resume_file(path, model: torch.nn.Module | None = None) -> None:
    """Raise :class:`ResumeError` unless ``path`` is a readable, well-formed resume state (with
    ``model``: whose weights fit it, by name and shape), before the run folder is written."""
    ckpt = load_resume_file(path)
    if model is None:
        return
    saved = {k[len("model."):]: v for k, v in ckpt.get("state_dict", {}).items()
             if isinstance(k, str) and k.startswith("model.")}
    wanted = model.state_dict()
    bad = sorted(set(saved) ^ set(wanted)) or sorted(
        k for k in wanted if not isinstance(saved[k], torch.Tensor)
        or tuple(saved[k].shape) != tuple(wanted[k].shape))
    if bad:
        raise ResumeError(f"{path}: its weights do not fit this run's model (first: '{bad[0]}'); "
                          "resume with the model= and options the run was started with")


class PlainCheckpointIO(CheckpointIO):
    """Lightning checkpoint I/O that writes atomically and loads with ``weights_only=True``."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        check_plain(checkpoint)
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(self, path, map_location=None, weights_only=None) -> dict:
        return load_resume_file(path, map_location)

    def remove_checkpoint(self, path) -> None:
        Path(path).unlink(missing_ok=True)


def capture_rng() -> dict:
    """Python, NumPy and torch (CPU, CUDA) generator states as tensors and numbers."""
    version, mt, gauss = random.getstate()
    _, keys, pos, has_gauss, cached = np.random.get_state()
    out = {"python": {"version": version, "state": torch.tensor(mt, dtype=torch.int64),
                      "gauss": gauss},
           "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                     "has_gauss": int(has_gauss), "cached": float(cached)},
           "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def restore_rng(state: dict) -> None:
    """Inverse of :func:`capture_rng`."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npy = state["numpy"]
    np.random.set_state(("MT19937", npy["keys"].numpy().astype(np.uint32), npy["pos"],
                         npy["has_gauss"], npy["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def parse_max_time(text: str) -> float | None:
    """``HH:MM`` (or ``HH:MM:SS``) -> seconds; empty -> None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        parts = [int(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if len(parts) not in (2, 3) or min(parts) < 0:
        raise ResumeError(f"max_time='{text}': expected HH:MM (e.g. 08:30) or HH:MM:SS")
    h, m, s = (parts + [0])[:3]
    return float(h * 3600 + m * 60 + s)


class ResumeState(L.Callback):
    """Saves ``resume.ckpt`` on schedule; on resume restores RNGs and the sampler position."""

    def __init__(self, run_dir: Path, sampler, batch_size: int, every_n_steps: int = 0,
                 every_minutes: float = 0.0, max_time_s: float | None = None,
                 after_save: Callable[[], None] = lambda: None,
                 echo: Callable[[str], None] = print,
                 stop_requested: Callable[[], int | None] = lambda: None) -> None:
        self.path = Path(run_dir) / RESUME_FILE
        self.stop_requested = stop_requested
        self.sampler, self.batch_size = sampler, batch_size
        self.every_n_steps, self.every_s = every_n_steps, every_minutes * 60
        self.max_time_s, self.after_save, self.echo = max_time_s, after_save, echo
        self._position = (0, 0)  # (epoch, batches of this epoch done) at the last save
        self._pending_rng: dict | None = None
        self._last_step = -1
        self._start = self._last_save = time.monotonic()

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict:
        epoch, done = self._position
        return {"format": "dfdetect-resume", "version": 1, "epoch": epoch,
                "batches_done": done, "rng": capture_rng()}

    def load_state_dict(self, state: dict) -> None:
        self._pending_rng = state["rng"]
        self.sampler.resume_at(state["epoch"], state["batches_done"] * self.batch_size)

    # ---------------------------------------------------------------- hooks
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = self._last_save = time.monotonic()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if self._pending_rng is not None:  # first batch after resuming
            restore_rng(self._pending_rng)
            self._pending_rng = None

    def _due(self, trainer: L.Trainer) -> tuple[bool, bool]:
        """(save now, stop after saving); time-based answers come from rank 0."""
        step = trainer.global_step
        by_steps = bool(self.every_n_steps and step != self._last_step
                        and step % self.every_n_steps == 0)
        now = time.monotonic()
        by_time = bool(self.every_s and now - self._last_save >= self.every_s)
        out_of_time = self.max_time_s is not None and now - self._start >= self.max_time_s
        if self.every_s or self.max_time_s is not None:
            by_time, out_of_time = trainer.strategy.broadcast((by_time, out_of_time), src=0)
        return by_steps or by_time or out_of_time, out_of_time

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        done = batch_idx + 1
        at_boundary = done % trainer.accumulate_grad_batches == 0
        last_of_epoch = done >= trainer.num_training_batches
        if not at_boundary or last_of_epoch:
            return
        signum = self.stop_requested()
        save, stop = self._due(trainer)
        if save or signum:
            self.save(trainer, trainer.current_epoch, done)
        if signum:
            self._interrupt(signum, f"after step {trainer.global_step} (epoch "
                                    f"{trainer.current_epoch + 1}, batch {done})")
        if stop:
            raise TimeBudgetReached(f"max_time reached after step {trainer.global_step}")

    def _interrupt(self, signum: int, where: str) -> None:
        raise Interrupted(signum, where)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # after DetectorCheckpoint and early stopping updated their state for this epoch
        self.save(trainer, trainer.current_epoch, math.inf)
        signum = self.stop_requested()
        if signum and trainer.max_epochs != trainer.current_epoch + 1:
            self._interrupt(signum, f"after epoch {trainer.current_epoch + 1} "
                                    f"(step {trainer.global_step})")
        if self.max_time_s is not None and trainer.max_epochs != trainer.current_epoch + 1:
            _, stop = self._due(trainer)
            if stop:
                raise TimeBudgetReached(f"max_time reached after epoch {trainer.current_epoch + 1}")

    def save(self, trainer: L.Trainer, epoch: int, batches_done: float) -> None:
        """Write the full state (all ranks must call: Lightning synchronises the save)."""
        done = int(batches_done) if batches_done != math.inf else 1 << 40
        self._position = (int(epoch), done)
        trainer.save_checkpoint(self.path, weights_only=False)
        self._last_step, self._last_save = trainer.global_step, time.monotonic()
        if trainer.is_global_zero:
            self.after_save()
