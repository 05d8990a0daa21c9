"""The thin LightningModule: wires model, loss, metrics and optimiser; holds no policy.

Losses come from :mod:`dfdetect.losses`, optimiser and schedule from
:mod:`dfdetect.training.optim`; policies (checkpointing, early stopping, resume, progress) are
callbacks. Several validation sets are reported under their own names (``val/...``,
``val_<name>/...``), each with the metrics :data:`dfdetect.config.selection.SELECTION_METRICS`
lists (loss, acc, f1_macro, auc, eer), so any of them can select checkpoints.

Batch contract: ``{"input": (B, 3, H, W) for images, "target": (B,), "index": (B,)}``; the model returns
(B, 2) logits. With ``channels_last`` the weights and 4-D inputs use NHWC strides (faster
convolutions on CPU and CUDA; the values, shapes and saved state dict are the same).
Metric objects (torchmetrics) hold state and sync across processes under DDP.
"""
from __future__ import annotations

import lightning as L
import torch
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import BinaryAUROC, MulticlassAccuracy, MulticlassF1Score

from dfdetect.config.schema import OptimConfig
from dfdetect.training.eer import BinaryEER
from dfdetect.training.optim import build_optimizer, build_scheduler, warmup_cosine  # noqa: F401


def _classification_metrics(prefix: str) -> MetricCollection:
    return MetricCollection({
        "acc": MulticlassAccuracy(num_classes=2, average="micro"),
        "f1_macro": MulticlassF1Score(num_classes=2, average="macro"),
    }, prefix=prefix)


class DetectorModule(L.LightningModule):
    """Two-class detector training: any registered loss, optimiser and schedule.

    ``DetectorModule(model, optim)`` keeps the foundation's behaviour (cross-entropy, AdamW,
    warm-up + cosine). ``val_names`` names the validation loaders in order; the first is the
    one checkpoint selection reads by default (``val``).
    """

    def __init__(self, model: nn.Module, optim: OptimConfig, loss: nn.Module | None = None,
                 val_names: tuple[str, ...] | list[str] = ("val",),
                 monitor: str = "val/f1_macro", channels_last: bool = False) -> None:
        super().__init__()
        self.channels_last = channels_last
        self.model = model.to(memory_format=torch.channels_last) if channels_last else model
        self.optim = optim
        self.loss_fn = loss if loss is not None else nn.CrossEntropyLoss()
        self.monitor = monitor
        self.val_names = list(val_names)
        self.train_metrics = _classification_metrics("train/")
        self.val_metrics = nn.ModuleList(_classification_metrics(f"{n}/") for n in self.val_names)
        self.val_auc = nn.ModuleList(BinaryAUROC() for _ in self.val_names)
        self.val_eer = nn.ModuleList(BinaryEER() for _ in self.val_names)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self.channels_last and image.dim() == 4:  # NHWC strides, same values and shape
            image = image.contiguous(memory_format=torch.channels_last)
        return self.model(image)  # (B, 2)

    def training_step(self, batch: dict | None, batch_idx: int) -> torch.Tensor | None:
        if batch is None:  # every file in this batch failed to decode (logged already)
            return None
        logits = self(batch["input"])
        target = batch["target"]
        loss = self.loss_fn(logits, target)
        self.train_metrics.update(logits.detach(), target)
        bs = target.shape[0]
        batch_acc = (logits.detach().argmax(-1) == target).float().mean()
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=bs)
        self.log("train/acc_step", batch_acc, prog_bar=True, on_step=True, on_epoch=False,
                 batch_size=bs)
        self.log("train/acc", self.train_metrics["acc"], on_step=False, on_epoch=True,
                 batch_size=bs)
        self.log("train/f1_macro", self.train_metrics["f1_macro"], on_step=False, on_epoch=True,
                 batch_size=bs)
        self.log("lr", self.optimizers().param_groups[0]["lr"], on_step=True, on_epoch=False)
        return loss

    def validation_step(self, batch: dict | None, batch_idx: int, dataloader_idx: int = 0) -> None:
        if batch is None:
            return
        name = self.val_names[dataloader_idx]
        logits = self(batch["input"])
        target = batch["target"]
        bs = target.shape[0]
        kw = {"batch_size": bs, "add_dataloader_idx": False}
        self.log(f"{name}/loss", self.loss_fn(logits, target), prog_bar=dataloader_idx == 0,
                 sync_dist=True, **kw)
        metrics, auc = self.val_metrics[dataloader_idx], self.val_auc[dataloader_idx]
        eer = self.val_eer[dataloader_idx]  # this set's scores only, gathered over all ranks
        p_fake = logits.float().softmax(-1)[:, 1]
        metrics.update(logits, target)
        auc.update(p_fake, target)
        eer.update(p_fake, target)
        self.log_dict(metrics, **kw)
        self.log(f"{name}/auc", auc, **kw)
        self.log(f"{name}/eer", eer, prog_bar=dataloader_idx == 0, **kw)

    def configure_optimizers(self):
        opt = build_optimizer(self.model.parameters(), self.optim)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        per_epoch = max(1, round(total / max(1, self.trainer.max_epochs or 1)))
        spec = build_scheduler(opt, self.optim, per_epoch, total, self.monitor)
        return {"optimizer": opt, "lr_scheduler": spec.lightning()}
