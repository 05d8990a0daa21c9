"""Frame -> video aggregation: one score per video from its frame scores.

Why a registry: the aggregation changes the numbers a lot (``max`` rewards a single confident
frame, ``mean`` dilutes it), so it is a named, recorded choice in every report rather than a
hard-coded line. Each strategy maps a 1-D array of P(fake) frame scores to one P(fake).

Example::

    aggregate([0.1, 0.9, 0.8], "topk_mean", k=2)      # 0.85
    videos = aggregate_groups(keys, scores, "mean")   # {video_id: score}
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Hashable, Sequence

import numpy as np

from dfdetect.registry import Registry

AGGREGATIONS: Registry[float] = Registry("aggregation")


@AGGREGATIONS.register("mean")
def agg_mean(scores: np.ndarray, k: int = 3) -> float:
    """Average frame score: the default, robust to a few bad crops."""
    return float(np.mean(scores))


@AGGREGATIONS.register("max")
def agg_max(scores: np.ndarray, k: int = 3) -> float:
    """Most fake-looking frame: catches partial manipulations, raises false alarms."""
    return float(np.max(scores))


@AGGREGATIONS.register("topk_mean")
def agg_topk_mean(scores: np.ndarray, k: int = 3) -> float:
    """Mean of the ``k`` highest frame scores (all of them when there are fewer)."""
    if k < 1:
        raise ValueError(f"topk must be at least 1, got {k}")
    return float(np.mean(np.sort(scores)[-k:]))


@AGGREGATIONS.register("confident")
def agg_confident(scores: np.ndarray, k: int = 3, high: float = 0.8, low: float = 0.2,
                  share: float = 0.25) -> float:
    """Trust confident frames: mean of frames >= ``high`` if they are at least ``share`` of the
    video (a manipulation shows in a part of it), else mean of frames <= ``low`` if most frames
    are confidently real, else the plain mean. A rule of thumb from video-forgery competitions.
    """
    n = len(scores)
    fake = scores[scores >= high]
    if len(fake) >= max(1, share * n):
        return float(np.mean(fake))
    real = scores[scores <= low]
    if len(real) > 0.5 * n:
        return float(np.mean(real))
    return float(np.mean(scores))


def aggregation(name: str) -> Callable[..., float]:
    """The registered function for ``name`` (a typo fails with the nearest names)."""
    return AGGREGATIONS.resolve(name)[0]


def aggregate(scores: Sequence[float], strategy: str = "mean", k: int = 3) -> float:
    """One score from several frame scores with the named strategy."""
    arr = np.asarray(scores, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError("cannot aggregate an empty list of frame scores")
    return aggregation(strategy)(arr, k=k)


def aggregate_groups(keys: Sequence[Hashable], scores: Sequence[float], strategy: str = "mean",
                     k: int = 3) -> dict[Hashable, float]:
    """``{key: aggregated score}`` for frames sharing a key (a video id), in first-seen order."""
    groups: dict[Hashable, list[float]] = defaultdict(list)
    for key, s in zip(keys, scores):
        groups[key].append(float(s))
    fn = aggregation(strategy)
    return {key: fn(np.asarray(v), k=k) for key, v in groups.items()}
