"""Grouped bootstrap intervals (dfdetect.metrics.bootstrap)."""
from __future__ import annotations

import numpy as np
import pytest

from dfdetect.metrics import binary_metrics
from dfdetect.metrics.bootstrap import _roc_metrics, bootstrap_ci


def _data(seed: int = 0, videos: int = 40, frames: int = 5):
    rng = np.random.default_rng(seed)
    y_v = rng.integers(0, 2, videos)
    y_v[:2] = [0, 1]
    centre = rng.normal(0.35 + 0.3 * y_v, 0.15)  # a per-video offset: frames are correlated
    y = np.repeat(y_v, frames)
    s = np.clip(np.repeat(centre, frames) + rng.normal(0, 0.03, videos * frames), 0, 1)
    return y, s, np.repeat(np.arange(videos), frames)


def test_fast_roc_metrics_match_binary_metrics() -> None:
    y, s, _ = _data(1)
    s = np.round(s, 1)  # ties
    fast, ref = _roc_metrics(y, s), binary_metrics(y, s)
    for key in ("auc", "eer", "average_precision", "tpr_at_fpr_1", "tpr_at_fpr_5"):
        assert fast[key] == pytest.approx(ref[key]), key


def test_interval_contains_the_estimate_and_is_reproducible() -> None:
    y, s, g = _data()
    ci = bootstrap_ci(y, s, g, threshold=0.5, n=200, seed=1)
    m = binary_metrics(y, s, 0.5)
    for key in ("auc", "accuracy", "balanced_accuracy", "f1_macro", "eer"):
        assert ci[key]["low"] <= m[key] <= ci[key]["high"], key
        assert ci[key]["n"] == 200
    assert bootstrap_ci(y, s, g, threshold=0.5, n=200, seed=1) == ci


def test_grouping_widens_the_interval_for_correlated_frames() -> None:
    y, s, g = _data(2)
    grouped = bootstrap_ci(y, s, g, n=300, seed=0, metrics=("auc",))["auc"]
    per_frame = bootstrap_ci(y, s, np.arange(len(y)), n=300, seed=0, metrics=("auc",))["auc"]
    # 40 videos, not 200 independent frames: the honest interval is clearly wider
    assert grouped["high"] - grouped["low"] > 1.5 * (per_frame["high"] - per_frame["low"])


def test_rows_of_a_group_are_drawn_together() -> None:
    # two groups: one all-real, one all-fake; any draw of a single group lacks a class,
    # so only draws with both groups count for AUC (probability 1/2 per draw)
    y, s, g = [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], ["a", "a", "b", "b"]
    ci = bootstrap_ci(y, s, g, n=400, seed=0)
    assert 150 < ci["auc"]["n"] < 250
    assert ci["auc"]["low"] == ci["auc"]["high"] == 1.0
    assert ci["accuracy"]["n"] == 400


def test_too_few_replicates_give_none_and_bad_lengths_raise() -> None:
    ci = bootstrap_ci([0, 1], [0.2, 0.8], ["a", "b"], n=5)
    assert ci["auc"]["low"] is None and ci["auc"]["high"] is None
    with pytest.raises(ValueError, match="same length"):
        bootstrap_ci([0, 1], [0.2, 0.8], ["a"], n=5)
