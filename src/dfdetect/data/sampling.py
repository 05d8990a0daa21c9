"""Training draws: which rows an epoch visits, in what order, and with which augmentation seed.

Why a sampler of our own: a resumed run must continue mid-epoch with exactly the rows, order and
augmentations an uninterrupted run would have used. :class:`EpochSampler` derives the epoch's
order from ``(seed, epoch)`` alone and gives every draw its own seed, which
:class:`DrawDataset` uses for augmentation and pseudo-fakes; so the state to save is two numbers
(epoch, draws consumed), and worker processes need no shared random state. It also shards the
draws across DDP processes, so Lightning's own distributed sampler is switched off.

Modes (``sampling=``): ``shuffle`` (a permutation), ``class_balanced`` (real and fake drawn with
equal probability), ``balanced`` (each training manifest drawn with equal probability).

Example::

    sampler = EpochSampler(labels, sources, mode="balanced", seed=0)
    sampler.set_epoch(3); keys = list(sampler)        # [(row, draw_seed), ...]
"""
from __future__ import annotations

import contextlib
import math
import random
from typing import Callable, Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

from dfdetect.data.media import DecodeError, MediaDataset
from dfdetect.data.manifest import LABEL_INDEX

SAMPLING_MODES = ("shuffle", "class_balanced", "balanced")


def _inverse_frequency(groups: np.ndarray) -> np.ndarray:
    """Per-row probabilities that give every group the same total share."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    p = 1.0 / counts[inverse]
    return p / p.sum()


class EpochSampler(Sampler):
    """Deterministic per-epoch draws ``(row, seed)``, sharded by DDP rank, resumable mid-epoch."""

    def __init__(self, labels: Sequence[int], sources: Sequence[int], mode: str = "shuffle",
                 seed: int = 0, num_replicas: int = 1, rank: int = 0) -> None:
        if mode not in SAMPLING_MODES:
            from dfdetect.config.loader import ConfigError

            raise ConfigError(f"sampling='{mode}' is not one of {', '.join(SAMPLING_MODES)}")
        self.labels = np.asarray(labels)
        self.sources = np.asarray(sources)
        self.mode, self.seed = mode, int(seed)
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch = 0
        self._skip: tuple[int, int] | None = None  # (epoch, draws of this rank to skip)

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning before each epoch."""
        self.epoch = int(epoch)

    def set_replicas(self, num_replicas: int, rank: int) -> None:
        """Shard for DDP (known only once the trainer is set up)."""
        self.num_replicas, self.rank = max(1, num_replicas), rank

    def resume_at(self, epoch: int, draws_done: int) -> None:
        """The next iteration of ``epoch`` starts after this rank's first ``draws_done`` draws."""
        self._skip = (int(epoch), int(draws_done))

    def order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """All ranks' rows and draw seeds for ``epoch`` (before sharding)."""
        n = len(self.labels)
        rng = np.random.default_rng([self.seed, epoch])
        if self.mode == "shuffle":
            rows = rng.permutation(n)
        else:
            groups = self.labels if self.mode == "class_balanced" else self.sources
            rows = rng.choice(n, size=n, replace=True, p=_inverse_frequency(groups))
        seeds = rng.integers(0, 2**31 - 1, size=n)
        return rows, seeds

    def __len__(self) -> int:
        return math.ceil(len(self.labels) / self.num_replicas)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        rows, seeds = self.order(self.epoch)
        total = len(self) * self.num_replicas
        pad = total - len(rows)
        if pad:  # same length on every rank (DDP needs equal step counts)
            rows, seeds = np.concatenate([rows, rows[:pad]]), np.concatenate([seeds, seeds[:pad]])
        rows, seeds = rows[self.rank::self.num_replicas], seeds[self.rank::self.num_replicas]
        start = 0
        if self._skip is not None and self._skip[0] == self.epoch:
            start = self._skip[1]
            self._skip = None
        for r, s in zip(rows[start:], seeds[start:]):
            yield int(r), int(s)


@contextlib.contextmanager
def seeded_globals(seed: int):
    """Seed Python's and NumPy's global generators for one call, then restore them.

    For transforms that draw from the global state (not ``seeded`` ones): the draw is
    reproducible and the training loop's own random state is left untouched.
    """
    py, npy = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(npy)


class DrawDataset(MediaDataset):
    """Training rows of one or more manifests, fetched by ``(row, seed)`` draws.

    ``pseudo`` (e.g. :class:`dfdetect.data.sbi.SelfBlend`) turns a drawn real face into a fake
    with probability ``pseudo_p`` (labelled fakes stay as they are); the draw's seed decides,
    so reruns make the same fakes.
    """

    def __init__(self, parts: list[MediaDataset], pseudo: Callable | None = None,
                 pseudo_p: float = 0.5) -> None:
        first = parts[0]
        super().__init__(first.manifest, first.load, first.transform, first.failures, "train")
        self.parts = parts
        self.offsets = np.cumsum([0] + [len(p) for p in parts])
        self.pseudo, self.pseudo_p = pseudo, pseudo_p
        self._reals: list[int] | None = None
        if pseudo is not None and hasattr(pseudo, "bind"):
            pseudo.bind(self.donor)  # part blends borrow parts of other real faces

    def donor(self, rng: np.random.Generator):
        """(raw image, extra columns) of a random real training row drawn with ``rng``, or None
        when there is none or it cannot be decoded (the blend then uses the face itself)."""
        if self._reals is None:
            self._reals = [k for k, t in enumerate(self.labels()) if t == LABEL_INDEX["real"]]
        if not self._reals:
            return None
        part, i = self.locate(self._reals[int(rng.integers(len(self._reals)))])
        sample = part.manifest.samples[i]
        try:
            return part.load(part.manifest.resolve(sample)), sample.extra
        except DecodeError:
            return None

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def locate(self, row: int) -> tuple[MediaDataset, int]:
        """(part dataset, row inside it) of a global row."""
        k = int(np.searchsorted(self.offsets, row, side="right")) - 1
        return self.parts[k], row - int(self.offsets[k])

    def labels(self) -> list[int]:
        return [LABEL_INDEX.get(s.label, -1) for p in self.parts for s in p.manifest.samples]

    def sources(self) -> list[int]:
        return [k for k, p in enumerate(self.parts) for _ in range(len(p))]

    def __getitem__(self, key) -> dict | None:
        row, seed = key if isinstance(key, tuple) else (key, None)
        part, i = self.locate(int(row))
        sample = part.manifest.samples[i]
        path = part.manifest.resolve(sample)
        try:
            raw = part.load(path)
        except DecodeError as e:
            self.failures.record(path, "train", str(e).split(": ", 1)[-1])
            return None
        target = LABEL_INDEX.get(sample.label, -1)
        rng = np.random.default_rng(seed)
        if self.pseudo is not None and target == 0 and rng.random() < self.pseudo_p:
            raw, target = self.pseudo(raw, sample.extra, rng), 1
        if seed is None:
            return {"input": part.transform(raw), "target": target, "index": int(row)}
        with seeded_globals(seed):
            x = (part.transform(raw, seed=seed) if getattr(part.transform, "seeded", False)
                 else part.transform(raw))
        return {"input": x, "target": target, "index": int(row)}
