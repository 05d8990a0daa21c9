"""What every modality shares: the decode error, the manifest-rows dataset and the collate.

Why here: images, audio and video frames all go through the same dataset and the same
failure-tolerant batching; keeping them in a neutral module means no modality imports another
(audio never imports "image").

Batch contract shared by every model and metric: ``{"input": (B, ...) float, "target": (B,)
long, "index": (B,) long}`` where ``index`` points back into the manifest's rows; ``input`` is
(B, 3, H, W) for images and (B, T) for audio waveforms.
"""
from __future__ import annotations

from typing import Callable

from torch.utils.data import Dataset, default_collate

from dfdetect.data.manifest import LABEL_INDEX, Manifest
from dfdetect.failures import FailureLog


class DecodeError(ValueError):
    """A media file that cannot be read; the message names the file and the reason."""


class MediaDataset(Dataset):
    """Rows of a manifest as transformed tensors; undecodable rows yield ``None``."""

    def __init__(self, manifest: Manifest, load: Callable, transform: Callable,
                 failures: FailureLog | None = None, stage: str = "load") -> None:
        self.manifest = manifest
        self.load = load
        self.transform = transform
        self.failures = failures or FailureLog()
        self.stage = stage

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, i: int) -> dict | None:
        sample = self.manifest.samples[i]
        path = self.manifest.resolve(sample)
        try:
            raw = self.load(path)
        except DecodeError as e:
            self.failures.record(path, self.stage, str(e).split(": ", 1)[-1])
            return None
        except Exception as e:  # noqa: BLE001 - a decoder bug on one odd file: one failure line
            self.failures.record(path, self.stage, f"cannot read ({type(e).__name__}: {e})")
            return None
        target = LABEL_INDEX.get(sample.label, -1)
        return {"input": self.transform(raw), "target": target, "index": i}


def collate_skip_none(batch: list[dict | None]) -> dict | None:
    """Default collate after dropping failed items; an all-failed batch becomes ``None``."""
    items = [b for b in batch if b is not None]
    if not items:
        return None
    out = default_collate(items)
    out["target"] = out["target"].long()
    return out
