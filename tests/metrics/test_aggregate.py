"""Frame -> video aggregation (dfdetect.metrics.aggregate), hand-computed."""
from __future__ import annotations

import pytest

from dfdetect.metrics.aggregate import AGGREGATIONS, aggregate, aggregate_groups
from dfdetect.registry import RegistryError


def test_strategies_by_hand() -> None:
    s = [0.1, 0.9, 0.8, 0.2]
    assert aggregate(s, "mean") == pytest.approx(0.5)
    assert aggregate(s, "max") == pytest.approx(0.9)
    assert aggregate(s, "topk_mean", k=2) == pytest.approx(0.85)
    assert aggregate(s, "topk_mean", k=10) == pytest.approx(0.5)  # fewer frames than k


def test_confident_strategy_branches() -> None:
    # 2 of 4 frames >= 0.8 (share 0.25 needs 1): mean of the confident fakes
    assert aggregate([0.1, 0.9, 0.8, 0.2], "confident") == pytest.approx(0.85)
    # no confident fake, 3 of 4 <= 0.2: mean of the confident reals
    assert aggregate([0.1, 0.2, 0.0, 0.6], "confident") == pytest.approx(0.1)
    # neither: plain mean
    assert aggregate([0.4, 0.5, 0.6, 0.3], "confident") == pytest.approx(0.45)


def test_groups_keep_first_seen_order() -> None:
    out = aggregate_groups(["b", "a", "b", "a", "c"], [0.2, 0.6, 0.4, 1.0, 0.3], "mean")
    assert list(out) == ["b", "a", "c"]
    assert out == pytest.approx({"b": 0.3, "a": 0.8, "c": 0.3})
    assert aggregate_groups(["v", "v"], [0.1, 0.7], "max") == {"v": pytest.approx(0.7)}


def test_registry_and_errors() -> None:
    assert {"mean", "max", "topk_mean", "confident"} <= set(AGGREGATIONS)
    with pytest.raises(RegistryError, match="did you mean max"):
        aggregate([0.1], "maxx")
    with pytest.raises(ValueError, match="empty"):
        aggregate([], "mean")
    with pytest.raises(ValueError, match="topk"):
        aggregate([0.1], "topk_mean", k=0)
