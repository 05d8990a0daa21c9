"""Tests for optimiser / scheduler factories (dfdetect.training.optim)."""
from __future__ import annotations

import pytest
import torch

from dfdetect.config.schema import OptimConfig
from dfdetect.training.optim import OPTIMIZERS, SCHEDULERS, build_optimizer, build_scheduler
from dfdetect.training.resume import check_plain


def _params():
    return [torch.nn.Parameter(torch.zeros(3))]


def _lrs(opt, sched, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_registries() -> None:
    assert set(OPTIMIZERS) == {"adamw", "sgd"}
    assert set(SCHEDULERS) == {"cosine", "step", "plateau", "none"}


def test_adamw_and_sgd_take_their_options() -> None:
    adamw = build_optimizer(_params(), OptimConfig(lr=0.01, weight_decay=0.1))
    assert isinstance(adamw, torch.optim.AdamW) and adamw.defaults["weight_decay"] == 0.1
    sgd = build_optimizer(_params(), OptimConfig(optimizer="sgd", lr=0.1, momentum=0.8,
                                                 nesterov=True))
    assert isinstance(sgd, torch.optim.SGD)
    assert sgd.defaults["momentum"] == 0.8 and sgd.defaults["nesterov"] is True


def test_cosine_warms_up_then_decays_to_eta_min() -> None:
    cfg = OptimConfig(lr=1.0, warmup_epochs=1, min_lr=0.01)
    opt = build_optimizer(_params(), cfg)
    spec = build_scheduler(opt, cfg, steps_per_epoch=4, total_steps=20)
    lrs = _lrs(opt, spec.scheduler, 21)
    assert spec.interval == "step"
    assert lrs[0] == pytest.approx(0.25) and lrs[3] == pytest.approx(1.0)
    assert lrs[4] == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))


def test_step_decays_by_gamma_every_step_epochs() -> None:
    cfg = OptimConfig(lr=1.0, scheduler="step", step_epochs=2, gamma=0.5)
    opt = build_optimizer(_params(), cfg)
    lrs = _lrs(opt, build_scheduler(opt, cfg, 3, 30).scheduler, 19)
    assert lrs[5] == pytest.approx(1.0) and lrs[6] == pytest.approx(0.5)
    assert lrs[11] == pytest.approx(0.5) and lrs[18] == pytest.approx(0.125)


def test_plateau_watches_the_monitor_once_per_epoch() -> None:
    cfg = OptimConfig(lr=1.0, scheduler="plateau", plateau_patience=0, plateau_factor=0.1)
    opt = build_optimizer(_params(), cfg)
    spec = build_scheduler(opt, cfg, 3, 30, monitor="val/auc")
    assert spec.interval == "epoch" and spec.lightning()["monitor"] == "val/auc"
    spec.scheduler.step(0.8)
    spec.scheduler.step(0.7)  # worse for a max metric -> decay
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    assert build_scheduler(opt, cfg, 3, 30, monitor="val/loss").scheduler.mode == "min"


@pytest.mark.parametrize("name", ["cosine", "step", "plateau", "none"])
def test_scheduler_state_is_plain_for_the_resume_file(name: str) -> None:
    cfg = OptimConfig(scheduler=name)
    opt = build_optimizer(_params(), cfg)
    check_plain(build_scheduler(opt, cfg, 3, 30).scheduler.state_dict())
    check_plain(opt.state_dict())
