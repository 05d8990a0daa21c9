"""``val/eer``: the validation equal error rate, logged by a callback (the audio default monitor).

Why a callback: anti-spoofing picks checkpoints by EER, which needs every validation score of the
epoch at once. The callback hooks the model's forward during validation, pairs each batch's
logits with its targets, and logs ``val/eer`` at the end of the validation epoch, so the
LightningModule stays as it is and any monitor (``trainer.monitor=val/eer``) can use it.
"""
from __future__ import annotations

import lightning as L
import torch


class ValidationEER(L.Callback):
    """Collect validation P(fake) and targets; log ``val/eer`` (lower is better)."""

    def __init__(self) -> None:
        self.scores: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []
        self._last: torch.Tensor | None = None
        self._hook = None

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self.scores, self.targets, self._last = [], [], None

        def keep(_module, _inputs, output):  # output: (B, 2) logits
            self._last = output.detach().float().softmax(-1)[:, 1].cpu()

        self._hook = pl_module.model.register_forward_hook(keep)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx,
                                dataloader_idx=0) -> None:
        if batch is not None and self._last is not None:
            self.scores.append(self._last)
            self.targets.append(batch["target"].detach().cpu())
        self._last = None

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        if trainer.sanity_checking or not self.scores:
            return
        from dfdetect.metrics.binary import eer

        rate, _ = eer(torch.cat(self.targets).numpy(), torch.cat(self.scores).numpy())
        if rate is not None:
            pl_module.log("val/eer", float(rate), prog_bar=True, sync_dist=False)
