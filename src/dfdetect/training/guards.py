"""Guards on the training loop: a non-finite loss stops the run, the gradient norm is logged,
and early stopping says why it stopped.

Why before backward: the loss is checked in ``on_before_backward``, so a NaN or infinite loss
never reaches the weights; the run stops with :class:`NonFiniteLoss` naming the epoch and step,
and every checkpoint on disk (``last.ckpt``, ``best.ckpt``, ``resume.ckpt``) is the last good
one. A non-finite gradient norm with a finite loss stops the run the same way before the
optimiser step, except under 16-bit mixed precision, whose loss scaler skips such steps itself.

``train/grad_norm`` (the total L2 norm of the gradients, before clipping) is logged every
optimiser step, and shows in the progress lines.
"""
from __future__ import annotations

import math
from typing import Callable

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping

GRAD_NORM = "train/grad_norm"


class NonFiniteLoss(Exception):
    """Training produced a NaN/inf loss (or gradient); nothing was saved from that step."""


def total_grad_norm(parameters) -> torch.Tensor:
    """L2 norm over every parameter's gradient (0 when none has one)."""
    norms = [p.grad.detach().float().norm(2) for p in parameters if p.grad is not None]
    if not norms:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(norms), 2)


class TrainingGuard(L.Callback):
    """Stops on a non-finite loss or gradient before it reaches the weights; logs grad_norm."""

    def _where(self, trainer: L.Trainer) -> str:
        return (f"epoch {trainer.current_epoch + 1}, step {trainer.global_step + 1} "
                f"(batch {trainer.fit_loop.epoch_loop.batch_progress.current.ready} of the epoch)")

    def on_before_backward(self, trainer, pl_module, loss: torch.Tensor) -> None:
        value = float(loss.detach())
        finite = math.isfinite(value)
        if trainer.world_size > 1:  # every process stops together (or none does)
            finite = trainer.strategy.reduce_boolean_decision(finite, all=True)
        if not finite:
            raise NonFiniteLoss(f"non-finite loss ({value}) at {self._where(trainer)}")

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        norm = total_grad_norm(pl_module.parameters())
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        if not torch.isfinite(norm) and scaler is None:
            raise NonFiniteLoss(f"non-finite gradient norm ({float(norm)}) at "
                                f"{self._where(trainer)}")
        pl_module.log(GRAD_NORM, norm, on_step=True, on_epoch=False)


class AnnouncedEarlyStopping(EarlyStopping):
    """Lightning's EarlyStopping that prints its decision with the best value and epoch.

    ``best_epoch`` returns the 0-based epoch of the best value (the checkpoint callback knows
    it); the message numbers epochs from 1, as the epoch lines do.
    """

    def __init__(self, monitor: str, patience: int, mode: str,
                 echo: Callable[[str], None] = print,
                 best_epoch: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(monitor=monitor, patience=patience, mode=mode)
        self.echo, self.best_epoch = echo, best_epoch
        self.decision = ""

    @property
    def state_key(self) -> str:
        """Lightning's EarlyStopping key, so resume files written before this subclass (and
        after) restore the patience counter."""
        return "EarlyStopping" + repr({"monitor": self.monitor, "mode": self.mode})

    def _evaluate_stopping_criteria(self, current: torch.Tensor) -> tuple[bool, str | None]:
        should_stop, reason = super()._evaluate_stopping_criteria(current)
        if should_stop:
            best = float(self.best_score)
            epoch = self.best_epoch()
            at = f" at epoch {epoch + 1}" if epoch is not None else ""
            if not torch.isfinite(current):
                self.decision = (f"early stopping: {self.monitor} is {float(current)} "
                                 f"(best {best:.4g}{at})")
            else:
                n = self.wait_count
                self.decision = (f"early stopping: {self.monitor} did not improve for {n} "
                                 f"epoch{'s' * (n != 1)} (best {best:.4g}{at})")
            self.echo(self.decision)
        return should_stop, reason
