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
    # five groups of two rows: two all-real, three all-fake. A draw of 5 groups lacks a class
    # with probability 0.4^5 + 0.6^5 = 0.088, so ~365 of 400 draws count for AUC; drawing
    # the 10 rows singly would lack a class far less often (0.4^10 + 0.6^10 = 0.006, ~398)
    y = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    s = [0.1, 0.2, 0.15, 0.25, 0.8, 0.9, 0.7, 0.75, 0.85, 0.95]
    g = ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"]
    ci = bootstrap_ci(y, s, g, n=400, seed=0)
    assert 340 < ci["auc"]["n"] < 385
    assert ci["auc"]["low"] == ci["auc"]["high"] == 1.0
    assert ci["accuracy"]["n"] == 400


def test_fewer_than_five_groups_give_no_interval_and_a_reason() -> None:
    # one video of 40 frames: resampling it 1000 times would give a zero-width "interval"
    rng = np.random.default_rng(0)
    y, s = np.r_[np.zeros(20), np.ones(20)], rng.random(40)
    for groups in (1, 4):
        ci = bootstrap_ci(y, s, np.arange(40) % groups, n=200, seed=0)
        for key, c in ci.items():
            assert c == {"low": None, "high": None, "n": 0,
                         "reason": f"only {groups} group{'s' if groups > 1 else ''} "
                                   "(at least 5 needed)"}, key
    five = bootstrap_ci(y, s, np.arange(40) % 5, n=200, seed=0)
    assert five["accuracy"]["n"] == 200 and five["accuracy"]["low"] is not None


def test_too_few_replicates_give_none_and_bad_lengths_raise() -> None:
    ci = bootstrap_ci([0, 1, 0, 1, 0], [0.2, 0.8, 0.3, 0.7, 0.1], list("abcde"), n=5)
    assert ci["auc"]["low"] is None and ci["auc"]["high"] is None
    assert ci["auc"]["reason"].startswith("only")
    with pytest.raises(ValueError, match="same length"):
        bootstrap_ci([0, 1], [0.2, 0.8], ["a"], n=5)
