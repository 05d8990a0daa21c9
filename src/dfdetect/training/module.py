"""The thin LightningModule: wires model, loss, metrics and optimiser; holds no policy.

Batch contract: ``{"input": (B, 3, H, W) for images, "target": (B,), "index": (B,)}``; the model returns
(B, 2) logits. Metric objects (torchmetrics) hold state and sync across processes under DDP.
"""
from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import BinaryAUROC, MulticlassAccuracy, MulticlassF1Score

from dfdetect.config.schema import OptimConfig


def _classification_metrics(prefix: str) -> MetricCollection:
    return MetricCollection({
        "acc": MulticlassAccuracy(num_classes=2, average="micro"),
        "f1_macro": MulticlassF1Score(num_classes=2, average="macro"),
    }, prefix=prefix)


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int,
                  min_lr: float) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up from ~0 to the peak rate, then cosine decay to ``min_lr``."""
    peak = [g["lr"] for g in optimizer.param_groups]

    def factor(step: int, base: float) -> float:
        if warmup_steps and step < warmup_steps:
            return (step + 1) / warmup_steps
        span = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / span)
        floor = min_lr / base if base else 0.0
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, [lambda s, b=b: factor(s, b) for b in peak])


class DetectorModule(L.LightningModule):
    """Two-class detector training: cross-entropy, AdamW, warm-up + cosine schedule."""

    def __init__(self, model: nn.Module, optim: OptimConfig) -> None:
        super().__init__()
        self.model = model
        self.optim = optim
        self.loss_fn = nn.CrossEntropyLoss()
        self.train_metrics = _classification_metrics("train/")
        self.val_metrics = _classification_metrics("val/")
        self.val_auc = BinaryAUROC()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image)  # (B, 2)

    def training_step(self, batch: dict | None, batch_idx: int) -> torch.Tensor | None:
        if batch is None:  # every file in this batch failed to decode (logged already)
            return None
        logits = self(batch["input"])
        loss = self.loss_fn(logits, batch["target"])
        self.train_metrics.update(logits.detach(), batch["target"])
        bs = batch["target"].shape[0]
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=bs)
        self.log("train/acc", self.train_metrics["acc"], prog_bar=True, on_step=False,
                 on_epoch=True, batch_size=bs)
        self.log("train/f1_macro", self.train_metrics["f1_macro"], on_step=False, on_epoch=True,
                 batch_size=bs)
        self.log("lr", self.optimizers().param_groups[0]["lr"], on_step=True, on_epoch=False)
        return loss

    def validation_step(self, batch: dict | None, batch_idx: int) -> None:
        if batch is None:
            return
        logits = self(batch["input"])
        target = batch["target"]
        bs = target.shape[0]
        self.log("val/loss", self.loss_fn(logits, target), prog_bar=True, batch_size=bs,
                 sync_dist=True)
        self.val_metrics.update(logits, target)
        self.val_auc.update(logits.float().softmax(-1)[:, 1], target)
        self.log_dict(self.val_metrics, batch_size=bs)
        self.log("val/auc", self.val_auc, batch_size=bs)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.optim.lr,
                                weight_decay=self.optim.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        per_epoch = total / max(1, self.trainer.max_epochs or 1)
        warmup = int(self.optim.warmup_epochs * per_epoch)
        sched = warmup_cosine(opt, total, warmup, self.optim.min_lr)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
