"""95 % bootstrap confidence intervals, resampling whole groups (videos or identities).

Why grouped: frames of one video (or photos of one person) are not independent; resampling
single frames pretends there is far more evidence than there is and gives intervals that are
too narrow. We draw groups with replacement, keep every row of a drawn group, recompute each
metric, and report the percentile interval. Replicates that lack a class are skipped for the
metrics that need both classes, and the number used is reported.

With fewer than :data:`MIN_GROUPS` groups there is no interval to speak of (one video resampled
a thousand times gives a zero-width "interval" around its own value), so none is computed: every
metric gets ``low = high = None`` and a ``reason`` that the report prints instead.

Example::

    ci = bootstrap_ci(labels, scores, groups, threshold=0.4, n=1000, seed=0)
    ci["auc"]   # {"low": 0.81, "high": 0.93, "n": 1000}
"""
from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np
from sklearn import metrics as skm

from dfdetect.metrics.binary import eer_from_roc


def _roc_metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    """AUC, EER, TPR at FPR 1 % / 5 % and AP from one ROC curve (fast enough for 1000 draws)."""
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    order = np.argsort(-s, kind="stable")
    ys = y[order]
    hits = np.cumsum(ys)
    last = np.r_[s[order][1:] != s[order][:-1], True]  # end of each tie block
    prec = hits[last] / (np.nonzero(last)[0] + 1)
    rec = hits[last] / ys.sum()
    return {"auc": float(np.trapezoid(tpr, fpr)), "eer": eer_from_roc(fpr, tpr, thr)[0],
            "tpr_at_fpr_1": float(tpr[fpr <= 0.01 + 1e-12].max()),
            "tpr_at_fpr_5": float(tpr[fpr <= 0.05 + 1e-12].max()),
            "average_precision": float(np.sum(np.diff(np.r_[0.0, rec]) * prec))}


def _threshold_metrics(y: np.ndarray, s: np.ndarray, t: float, both: bool) -> dict[str, float]:
    pred = s >= t
    out = {"accuracy": float((pred == (y == 1)).mean())}
    f1 = []
    for cls, p in ((1, pred), (0, ~pred)):
        tp = float((p & (y == cls)).sum())
        denom = float(p.sum() + (y == cls).sum())
        f1.append(2 * tp / denom if denom else 0.0)
    out["f1_macro"] = (f1[0] + f1[1]) / 2
    if both:
        out["balanced_accuracy"] = float((pred[y == 1].mean() + (~pred[y == 0]).mean()) / 2)
    return out


#: fewest groups (videos / identities) a bootstrap interval is estimated from
MIN_GROUPS = 5

#: metrics the bootstrap reports (same names and definitions as binary_metrics)
BOOTSTRAP_METRICS = ("auc", "eer", "average_precision", "tpr_at_fpr_1", "tpr_at_fpr_5",
                     "accuracy", "balanced_accuracy", "f1_macro")


def _group_index(groups: Sequence[Hashable]) -> list[np.ndarray]:
    """Row indices of each group, groups in first-seen order."""
    order: dict[Hashable, list[int]] = {}
    for i, g in enumerate(groups):
        order.setdefault(g, []).append(i)
    return [np.asarray(v) for v in order.values()]


def bootstrap_ci(labels: Sequence[int], scores: Sequence[float], groups: Sequence[Hashable],
                 threshold: float = 0.5, n: int = 1000, seed: int = 0, level: float = 0.95,
                 metrics: Sequence[str] = tuple(BOOTSTRAP_METRICS)) -> dict[str, dict]:
    """Percentile intervals ``{metric: {"low", "high", "n"}}`` over ``n`` group resamples.

    With fewer than :data:`MIN_GROUPS` groups no resample is drawn and every metric is
    ``{"low": None, "high": None, "n": 0, "reason": "only 1 group ..."}``; a metric with fewer
    than 10 usable replicates also gets ``low = high = None`` and a reason.
    """
    y = np.asarray(labels, dtype=int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if not (y.size == s.size == len(groups)):
        raise ValueError("labels, scores and groups must have the same length")
    index = _group_index(groups)
    if len(index) < MIN_GROUPS:
        reason = (f"only {len(index)} group{'s' if len(index) != 1 else ''} (at least "
                  f"{MIN_GROUPS} needed)")
        return {m: {"low": None, "high": None, "n": 0, "reason": reason} for m in metrics}
    rng = np.random.default_rng(seed)
    values: dict[str, list[float]] = {m: [] for m in metrics}
    for _ in range(max(0, n)):
        pick = rng.integers(0, len(index), len(index))
        rows = np.concatenate([index[g] for g in pick])
        yb, sb = y[rows], s[rows]
        both = 0 < yb.sum() < yb.size
        got = _threshold_metrics(yb, sb, threshold, both)
        if both:
            got.update(_roc_metrics(yb, sb))
        for m in metrics:
            if m in got:
                values[m].append(got[m])
    alpha = (1.0 - level) / 2
    out = {}
    for m, v in values.items():
        ok = len(v) >= 10
        out[m] = {"low": float(np.quantile(v, alpha)) if ok else None,
                  "high": float(np.quantile(v, 1 - alpha)) if ok else None, "n": len(v)}
        if not ok:
            out[m]["reason"] = f"only {len(v)} usable resamples (both classes needed)"
    return out
