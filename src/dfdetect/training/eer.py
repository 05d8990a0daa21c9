"""``<set>/eer``: the validation equal error rate, one metric object per validation set.

Why a torchmetrics Metric: the EER needs every score of the epoch at once. The metric keeps the
epoch's P(fake) and targets as list states that torchmetrics concatenates across DDP processes
(uneven shards included) before computing, so every rank computes, logs and selects on the same
value over the whole validation set. :class:`~dfdetect.training.module.DetectorModule` holds one
per validation set, so ``val/eer`` is the primary set's EER alone and each extra set logs its own
``val_<name>/eer``. Lower is better (see :mod:`dfdetect.config.selection`).
"""
from __future__ import annotations

import torch
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat


class BinaryEER(Metric):
    """Equal error rate of P(fake) scores (NaN when the epoch lacks a class)."""

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("scores", default=[], dist_reduce_fx="cat")
        self.add_state("targets", default=[], dist_reduce_fx="cat")

    def update(self, scores: torch.Tensor, targets: torch.Tensor) -> None:
        self.scores.append(scores.detach().float().flatten())
        self.targets.append(targets.detach().long().flatten())

    def compute(self) -> torch.Tensor:
        from dfdetect.metrics.binary import eer

        nan = torch.tensor(float("nan"))
        if isinstance(self.scores, list) and not self.scores:  # no batch on any rank
            return nan
        scores, targets = dim_zero_cat(self.scores), dim_zero_cat(self.targets)
        if not scores.numel():
            return nan
        rate, _ = eer(targets.cpu().numpy(), scores.cpu().numpy())
        return nan if rate is None else torch.tensor(float(rate))
