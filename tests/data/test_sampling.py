"""Tests for training draws (dfdetect.data.sampling)."""
from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
import torch

from dfdetect.data.sampling import DrawDataset, EpochSampler, seeded_globals

LABELS = [0] * 90 + [1] * 10
SOURCES = [0] * 80 + [1] * 20


def test_same_seed_and_epoch_same_draws_other_epoch_differs() -> None:
    a, b = EpochSampler(LABELS, SOURCES, seed=1), EpochSampler(LABELS, SOURCES, seed=1)
    a.set_epoch(2), b.set_epoch(2)
    assert list(a) == list(b)
    b.set_epoch(3)
    assert list(a) != list(b)
    assert sorted(r for r, _ in a) == list(range(100))  # shuffle: a permutation


def test_class_balanced_draws_both_classes_equally() -> None:
    s = EpochSampler(LABELS * 20, SOURCES * 20, mode="class_balanced", seed=0)
    counts = Counter(LABELS[r % 100] for r, _ in s)
    assert counts[1] / len(s) == pytest.approx(0.5, abs=0.05)


def test_balanced_draws_each_source_equally() -> None:
    s = EpochSampler(LABELS * 20, SOURCES * 20, mode="balanced", seed=0)
    counts = Counter(SOURCES[r % 100] for r, _ in s)
    assert counts[1] / len(s) == pytest.approx(0.5, abs=0.05)


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="class_balanced"):
        EpochSampler(LABELS, SOURCES, mode="classes")


def test_ranks_get_disjoint_equal_shards() -> None:
    shards = []
    for rank in range(3):
        s = EpochSampler(LABELS, SOURCES, seed=0)
        s.set_replicas(3, rank)
        shards.append([r for r, _ in s])
    assert {len(x) for x in shards} == {34}
    assert set().union(*shards) == set(range(100))


def test_resume_at_skips_what_was_consumed_once() -> None:
    s = EpochSampler(LABELS, SOURCES, seed=5)
    s.set_epoch(1)
    full = list(s)
    s.resume_at(1, 24)
    assert list(s) == full[24:]
    assert list(s) == full  # only the first iteration after resuming skips
    s.resume_at(0, 24)
    assert list(s) == full  # a position of another epoch does not apply


def test_seeded_globals_is_reproducible_and_restores_state() -> None:
    random.seed(0)
    np.random.seed(0)
    before = (random.random(), np.random.rand())
    random.seed(0)
    np.random.seed(0)
    with seeded_globals(7):
        inner = (random.random(), np.random.rand())
    with seeded_globals(7):
        assert (random.random(), np.random.rand()) == inner
    assert (random.random(), np.random.rand()) == before


class _Part:
    """A minimal MediaDataset stand-in: two rows, images are constant arrays."""

    def __init__(self, labels):
        from dfdetect.data.media import MediaDataset
        from dfdetect.data.manifest import Manifest, Sample

        samples = [Sample(id=str(i), path=f"{i}.png", label=lab, split="train", group=str(i),
                          source="", method="", modality="image") for i, lab in enumerate(labels)]
        m = Manifest(samples=samples, name="m")
        self.ds = MediaDataset(m, lambda p: np.full((8, 8, 3), 100, np.uint8), _noisy)


def _noisy(image, seed=None):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(image.astype(np.float32) + rng.normal(size=image.shape))


_noisy.seeded = True  # behaves like a Pipeline or TrainClip: accepts seed=


def test_draw_dataset_is_reproducible_per_draw_and_makes_pseudo_fakes() -> None:
    parts = [_Part(["real", "fake"]).ds, _Part(["real"]).ds]
    ds = DrawDataset(parts, pseudo=lambda img, extra, rng: img // 2, pseudo_p=1.0)
    assert len(ds) == 3 and ds.labels() == [0, 1, 0] and ds.sources() == [0, 0, 1]
    a, b, c = ds[(2, 11)], ds[(2, 11)], ds[(2, 12)]
    assert torch.equal(a["input"], b["input"]) and not torch.equal(a["input"], c["input"])
    assert a["target"] == 1 and a["index"] == 2  # pseudo_p=1: every draw is a pseudo-fake
    plain = DrawDataset(parts)
    assert plain[(0, 1)]["target"] == 0 and plain[(1, 1)]["target"] == 1


def test_pseudo_fakes_are_made_from_reals_only_when_labelled_fakes_are_kept() -> None:
    parts = [_Part(["real", "fake"]).ds]
    ds = DrawDataset(parts, pseudo=lambda img, extra, rng: img // 2, pseudo_p=1.0)
    real, fake = ds[(0, 5)], ds[(1, 5)]
    assert real["target"] == 1 and float(real["input"].mean()) < 60  # halved: a pseudo-fake
    assert fake["target"] == 1 and float(fake["input"].mean()) > 90  # the labelled fake as is
