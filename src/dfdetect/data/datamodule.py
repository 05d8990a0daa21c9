"""LightningDataModule over a manifest's train and validation splits (any modality)."""
from __future__ import annotations

import lightning as L
from torch.utils.data import DataLoader

from dfdetect.data.image import MediaDataset, collate_skip_none
from dfdetect.data.manifest import Manifest, ManifestError
from dfdetect.data.modality import get_handler
from dfdetect.failures import FailureLog


def make_loader(dataset, batch_size: int, num_workers: int, shuffle: bool = False,
                drop_last: bool = False, pin_memory: bool = False) -> DataLoader:
    """A DataLoader with the failure-tolerant collate and sensible worker settings."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      num_workers=num_workers, collate_fn=collate_skip_none,
                      persistent_workers=num_workers > 0, pin_memory=pin_memory)


class _Loader:
    """Picklable ``path -> decoded media`` for data-loader worker processes."""

    def __init__(self, handler, preprocessing: dict) -> None:
        self.handler, self.preprocessing = handler, preprocessing

    def __call__(self, path):
        return self.handler.load(path, self.preprocessing)


class DetectorDataModule(L.LightningDataModule):
    """Train / val loaders for one manifest, with the checkpoint's preprocessing."""

    def __init__(self, manifest: Manifest, preprocessing: dict, *, batch_size: int,
                 num_workers: int, train_split: str = "train", val_split: str = "val",
                 augment: bool = True, failures: FailureLog | None = None,
                 pin_memory: bool = False) -> None:
        super().__init__()
        self.manifest = manifest
        self.preprocessing = preprocessing
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.failures = failures or FailureLog()
        self.pin_memory = pin_memory
        handler = get_handler(preprocessing["modality"])
        load = _Loader(handler, preprocessing)
        self.train_set = MediaDataset(manifest.where(split=train_split), load,
                                      handler.train_transform(preprocessing, augment),
                                      self.failures, "train")
        self.val_set = MediaDataset(manifest.where(split=val_split), load,
                                    handler.eval_transform(preprocessing), self.failures, "val")
        for split, ds in ((train_split, self.train_set), (val_split, self.val_set)):
            if len(ds) == 0:
                raise ManifestError(f"{manifest.name}: split '{split}' is empty; counts per "
                                    f"split: {manifest.counts()}")

    def train_dataloader(self) -> DataLoader:
        drop = len(self.train_set) > self.batch_size
        return make_loader(self.train_set, self.batch_size, self.num_workers, shuffle=True,
                           drop_last=drop, pin_memory=self.pin_memory)

    def val_dataloader(self) -> DataLoader:
        return make_loader(self.val_set, self.batch_size, self.num_workers,
                           pin_memory=self.pin_memory)
