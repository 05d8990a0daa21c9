"""Optimiser and learning-rate scheduler factories (registries, not if-chains).

``build_optimizer(params, cfg)`` and ``build_scheduler(optimizer, cfg, steps_per_epoch,
total_steps)`` return plain torch objects whose ``state_dict()`` holds only numbers and tensors,
so the resume state stays ``weights_only``-loadable: schedules are :class:`LambdaLR` with a
picklable-free closure (the lambdas are not saved, only ``last_epoch``), or ReduceLROnPlateau.

Example::

    opt = build_optimizer(model.parameters(), OptimConfig(optimizer="sgd", lr=0.01))
    sched = build_scheduler(opt, OptimConfig(scheduler="step"), steps_per_epoch=100,
                            total_steps=1000)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dfdetect.registry import Registry

OPTIMIZERS: Registry[torch.optim.Optimizer] = Registry("optimizer")
SCHEDULERS: Registry["ScheduleSpec"] = Registry("scheduler")


@dataclass
class ScheduleSpec:
    """A scheduler and how Lightning steps it (per optimiser step, or per epoch on a metric)."""

    scheduler: object
    interval: str = "step"
    monitor: str | None = None

    def lightning(self) -> dict:
        out = {"scheduler": self.scheduler, "interval": self.interval}
        if self.monitor:
            out["monitor"] = self.monitor
        return out


@OPTIMIZERS.register("adamw")
def _adamw(params, cfg) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


@OPTIMIZERS.register("sgd")
def _sgd(params, cfg) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                           weight_decay=cfg.weight_decay, nesterov=cfg.nesterov)


def build_optimizer(params, cfg) -> torch.optim.Optimizer:
    """The optimiser ``cfg.optimizer`` names, over ``params``."""
    return OPTIMIZERS.build(cfg.optimizer, params=params, cfg=cfg)


def warmup_factor(step: int, warmup_steps: int) -> float:
    """Linear warm-up from 1/warmup to 1 over ``warmup_steps`` optimiser steps."""
    return (step + 1) / warmup_steps if warmup_steps and step < warmup_steps else 1.0


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int,
                  min_lr: float) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up to the peak rate, then cosine decay to ``min_lr`` (eta_min)."""
    peak = [g["lr"] for g in optimizer.param_groups]

    def factor(step: int, base: float) -> float:
        if warmup_steps and step < warmup_steps:
            return warmup_factor(step, warmup_steps)
        span = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / span)
        floor = min_lr / base if base else 0.0
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, [lambda s, b=b: factor(s, b) for b in peak])


@SCHEDULERS.register("cosine")
def _cosine(optimizer, cfg, steps_per_epoch: int, total_steps: int) -> ScheduleSpec:
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    return ScheduleSpec(warmup_cosine(optimizer, total_steps, warmup, cfg.min_lr))


@SCHEDULERS.register("step")
def _step(optimizer, cfg, steps_per_epoch: int, total_steps: int) -> ScheduleSpec:
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    every = max(1, int(round(cfg.step_epochs * steps_per_epoch)))

    def factor(step: int) -> float:
        return warmup_factor(step, warmup) * cfg.gamma ** (step // every)

    return ScheduleSpec(torch.optim.lr_scheduler.LambdaLR(optimizer, factor))


@SCHEDULERS.register("plateau")
def _plateau(optimizer, cfg, steps_per_epoch: int, total_steps: int,
             monitor: str = "val/f1_macro") -> ScheduleSpec:
    from dfdetect.config.selection import mode

    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode=mode(monitor), factor=cfg.plateau_factor, patience=cfg.plateau_patience,
        min_lr=cfg.min_lr)
    return ScheduleSpec(sched, interval="epoch", monitor=monitor)


@SCHEDULERS.register("none")
def _none(optimizer, cfg, steps_per_epoch: int, total_steps: int) -> ScheduleSpec:
    return ScheduleSpec(torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0))


def build_scheduler(optimizer, cfg, steps_per_epoch: int, total_steps: int,
                    monitor: str = "val/f1_macro") -> ScheduleSpec:
    """The schedule ``cfg.scheduler`` names; ``plateau`` watches ``monitor`` once per epoch."""
    extra = {"monitor": monitor} if cfg.scheduler == "plateau" else {}
    return SCHEDULERS.build(cfg.scheduler, optimizer=optimizer, cfg=cfg,
                            steps_per_epoch=max(1, steps_per_epoch),
                            total_steps=max(1, total_steps), **extra)
