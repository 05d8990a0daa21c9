"""Tests for the configurable augmentation pipelines (dfdetect.data.transforms)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dfdetect.config.schema import AugmentConfig
from dfdetect.data.transforms import Pipeline, augmentations, eval_transform, train_transform

PREP = {"image_size": 32, "mean": [0.5] * 3, "std": [0.5] * 3}
ALL_ON = {"rotate_p": 0.5, "jpeg_p": 0.5, "blur_p": 0.5, "downscale_p": 0.5}


def _names(options: dict) -> list[str]:
    import dataclasses

    o = {**dataclasses.asdict(AugmentConfig()), **options}
    return [type(t).__name__ for t in augmentations(o, 32)]


def test_each_option_adds_its_transform_and_probability_zero_leaves_it_out() -> None:
    assert _names({}) == ["RandomResizedCrop", "HorizontalFlip", "ColorJitter"]
    assert _names(ALL_ON) == ["RandomResizedCrop", "HorizontalFlip", "Rotate", "ColorJitter",
                              "GaussianBlur", "Downscale", "ImageCompression"]
    assert _names({"hflip_p": 0, "jitter_p": 0, "crop_scale": "1,1"}) == ["Resize"]


def test_ranges_and_probabilities_reach_albumentations() -> None:
    pipe = train_transform(PREP, AugmentConfig(jpeg_p=0.3, jpeg_quality="40,70", rotate_p=0.2,
                                               rotate_limit=15))
    by_name = {type(t).__name__: t for t in pipe.compose.transforms}
    assert by_name["ImageCompression"].quality_range == (40, 70)
    assert by_name["ImageCompression"].p == 0.3
    assert by_name["Rotate"].limit == (-15, 15) and by_name["Rotate"].p == 0.2


def test_seeded_calls_repeat_and_differ_by_seed() -> None:
    img = np.random.default_rng(0).integers(0, 255, (48, 48, 3), dtype=np.uint8)
    pipe = train_transform(PREP, {**ALL_ON, "hflip_p": 0.5})
    a, b, c = pipe(img, seed=1), pipe(img, seed=1), pipe(img, seed=2)
    assert isinstance(pipe, Pipeline) and a.shape == (3, 32, 32)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_augment_false_is_the_eval_pipeline() -> None:
    img = np.random.default_rng(0).integers(0, 255, (48, 48, 3), dtype=np.uint8)
    assert torch.equal(train_transform(PREP, False)(img), eval_transform(PREP)(img))


def test_bad_range_is_reported_with_its_key() -> None:
    with pytest.raises(ValueError, match="jpeg_quality"):
        train_transform(PREP, {"jpeg_p": 0.5, "jpeg_quality": "60"})
