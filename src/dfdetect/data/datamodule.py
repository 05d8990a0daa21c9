"""LightningDataModule over manifests: training draws, one or more validation sets.

Training rows come from the train split of every manifest given (``data=a.csv,b.csv``) and are
drawn by :class:`~dfdetect.data.sampling.EpochSampler` (shuffle, class-balanced, or balanced
across manifests). Validation sets keep their own names: the train manifests' val splits form
``val`` (the set that selects checkpoints), each ``extra_val`` manifest is reported as
``val_<name>``. A test split is never loaded here.
"""
from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader

from dfdetect.data.manifest import Manifest, ManifestError
from dfdetect.data.media import MediaDataset, collate_skip_none
from dfdetect.data.sampling import DrawDataset, EpochSampler
from dfdetect.failures import FailureLog


def make_loader(dataset, batch_size: int, num_workers: int, shuffle: bool = False,
                drop_last: bool = False, pin_memory: bool = False, sampler=None,
                generator: torch.Generator | None = None) -> DataLoader:
    """A DataLoader with the failure-tolerant collate and sensible worker settings."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      num_workers=num_workers, collate_fn=collate_skip_none, sampler=sampler,
                      persistent_workers=num_workers > 0, pin_memory=pin_memory,
                      generator=generator)


class _Loader:
    """Picklable ``path -> decoded media`` for data-loader worker processes."""

    def __init__(self, modality, preprocessing: dict) -> None:
        self.modality, self.preprocessing = modality, preprocessing

    def __call__(self, path):
        return self.modality.load(path, self.preprocessing)


class ConcatEval(torch.utils.data.ConcatDataset):
    """Validation rows of several manifests as one set (``index`` is the row in the whole)."""

    def __getitem__(self, i: int):
        item = super().__getitem__(i)
        if item is not None:
            item["index"] = i
        return item


class DetectorDataModule(L.LightningDataModule):
    """Training draws and named validation loaders, with the checkpoint's preprocessing.

    ``manifest`` is one :class:`Manifest` or a list; ``extra_val`` is a list of
    ``(name, Manifest)`` whose ``val_split`` rows are reported separately. ``modality`` is the
    modality object (:func:`dfdetect.modalities.get_modality`) that decodes and transforms the
    rows: ``DetectorDataModule(manifest, prep, modality=m, batch_size=..., num_workers=...)``.
    """

    def __init__(self, manifest: Manifest | list[Manifest], preprocessing: dict, *,
                 modality, batch_size: int, num_workers: int, train_split: str = "train",
                 val_split: str = "val", augment=True, failures: FailureLog | None = None,
                 pin_memory: bool = False, extra_val: list[tuple[str, Manifest]] = (),
                 sampling: str = "shuffle", seed: int = 0, pseudo=None,
                 pseudo_fake_p: float = 0.5, pseudo_with_fakes: bool = False) -> None:
        super().__init__()
        manifests = manifest if isinstance(manifest, list) else [manifest]
        self.manifest = manifests[0]
        self.manifests = manifests
        self.preprocessing = preprocessing
        self.batch_size, self.num_workers = batch_size, num_workers
        self.failures = failures or FailureLog()
        self.pin_memory, self.seed = pin_memory, seed
        load = _Loader(modality, preprocessing)
        train_tf, eval_tf = modality.train_transform(preprocessing, augment), \
            modality.eval_transform(preprocessing)

        def part(m: Manifest, split: str, tf, stage: str, reals_only: bool = False):
            rows = m.where(split=split)
            if reals_only:
                rows = rows.where(label="real")
            if len(rows) == 0:
                raise ManifestError(f"{m.name}: split '{split}' has no {'real ' if reals_only else ''}"
                                    f"rows; counts per split: {m.counts()}")
            return MediaDataset(rows, load, tf, self.failures, stage)

        reals_only = pseudo is not None and not pseudo_with_fakes
        parts = [part(m, train_split, train_tf, "train", reals_only) for m in manifests]
        self.train_set = DrawDataset(parts, pseudo, pseudo_fake_p)
        self.train_sampler = EpochSampler(self.train_set.labels(), self.train_set.sources(),
                                          sampling, seed)
        main_val = [part(m, val_split, eval_tf, "val") for m in manifests]
        self.val_sets = {"val": main_val[0] if len(main_val) == 1 else ConcatEval(main_val)}
        for name, m in extra_val:
            self.val_sets[f"val_{name}"] = part(m, val_split, eval_tf, f"val_{name}")
        self.val_set = self.val_sets["val"]

    @property
    def val_names(self) -> list[str]:
        return list(self.val_sets)

    def class_counts(self) -> list[int]:
        """Training rows per class (real, fake), for ``class_weights=auto``."""
        labels = self.train_set.labels()
        return [labels.count(0), labels.count(1)]

    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        return (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)

    def train_dataloader(self) -> DataLoader:
        self.train_sampler.set_replicas(*self._world())
        drop = len(self.train_sampler) > self.batch_size
        # an own generator: creating the epoch's iterator must not draw from the global RNG
        gen = torch.Generator().manual_seed(self.seed)
        return make_loader(self.train_set, self.batch_size, self.num_workers, drop_last=drop,
                           pin_memory=self.pin_memory, sampler=self.train_sampler, generator=gen)

    def val_dataloader(self) -> list[DataLoader]:
        world, rank = self._world()
        out = []
        for ds in self.val_sets.values():
            sampler = (torch.utils.data.DistributedSampler(ds, world, rank, shuffle=False)
                       if world > 1 else None)
            out.append(make_loader(ds, self.batch_size, self.num_workers,
                                   pin_memory=self.pin_memory, sampler=sampler,
                                   generator=torch.Generator().manual_seed(self.seed)))
        return out
