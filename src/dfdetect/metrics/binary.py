"""Binary detection metrics on (labels, scores), built on scikit-learn.

Conventions, the same in every report: label 1 = fake (positive class), score = P(fake), and a
sample is called fake when ``score >= threshold``. Metrics that need both classes (AUC, EER, AP)
are ``None`` when one class is absent, never a made-up number.

Example::

    m = binary_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.5)
    m["auc"], m["eer"], m["f1_macro"]
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from sklearn import metrics as skm


def _arrays(labels: Sequence[int], scores: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels ({y.size}) and scores ({s.size}) differ in length")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (real) or 1 (fake)")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    return y, s


def _both_classes(y: np.ndarray) -> bool:
    return y.size > 0 and 0 < y.sum() < y.size


def roc_points(labels: Sequence[int], scores: Sequence[float]) -> dict[str, list[float]]:
    """ROC curve as lists (fpr, tpr, thresholds); empty when one class is missing."""
    y, s = _arrays(labels, scores)
    if not _both_classes(y):
        return {"fpr": [], "tpr": [], "thresholds": []}
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr.tolist()}


def eer(labels: Sequence[int], scores: Sequence[float]) -> tuple[float | None, float | None]:
    """Equal error rate and the threshold where it occurs.

    The EER is where the false-positive rate equals the false-negative rate (1 - TPR) on the ROC
    curve; between two ROC points the crossing is found by linear interpolation, and the threshold
    reported is the one of the ROC point closest to that crossing.
    """
    y, s = _arrays(labels, scores)
    if not _both_classes(y):
        return None, None
    return eer_from_roc(*skm.roc_curve(y, s, drop_intermediate=False))


def eer_from_roc(fpr: np.ndarray, tpr: np.ndarray, thr: np.ndarray) -> tuple[float, float]:
    """EER and its threshold from one ROC curve (shared with the bootstrap, which has the curve)."""
    fnr = 1.0 - tpr
    diff = fnr - fpr  # decreasing from 1 to -1 along the curve
    i = int(np.nonzero(diff <= 0)[0][0])
    if i == 0 or diff[i] == 0:
        rate = (fpr[i] + fnr[i]) / 2
    else:  # interpolate between point i-1 (diff > 0) and i (diff <= 0)
        t = diff[i - 1] / (diff[i - 1] - diff[i])
        rate = fpr[i - 1] + t * (fpr[i] - fpr[i - 1])
    j = i if i == 0 or abs(diff[i]) <= abs(diff[i - 1]) else i - 1
    threshold = float(min(thr[j], 1.0)) if math.isfinite(thr[j]) else 1.0
    return float(rate), threshold


def tpr_at_fpr(labels: Sequence[int], scores: Sequence[float], max_fpr: float) -> float | None:
    """Highest share of fakes caught while at most ``max_fpr`` of the reals are called fake.

    Why: a screening system runs at a fixed, low false-alarm rate, so "TPR at FPR 1 %" says more
    about it than AUC does. Only thresholds that the scores themselves realise count (no
    interpolation), so the figure is achievable by some threshold on this data.
    """
    y, s = _arrays(labels, scores)
    if not _both_classes(y):
        return None
    fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
    ok = fpr <= max_fpr + 1e-12
    return float(tpr[ok].max())


def binary_metrics(labels: Sequence[int], scores: Sequence[float],
                   threshold: float = 0.5) -> dict:
    """Every metric the reports use, as plain JSON-ready Python values."""
    y, s = _arrays(labels, scores)
    if y.size == 0:
        raise ValueError("no scored samples: metrics need at least one label and score")
    pred = (s >= threshold).astype(int)
    p, r, f, support = skm.precision_recall_fscore_support(
        y, pred, labels=[0, 1], zero_division=0)
    both = _both_classes(y)
    rate, eer_thr = eer(y, s)
    out = {
        "n": int(y.size), "n_real": int((y == 0).sum()), "n_fake": int((y == 1).sum()),
        "threshold": float(threshold),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)) if both else None,
        "f1_macro": float(np.mean(f)),
        "auc": float(skm.roc_auc_score(y, s)) if both else None,
        "eer": rate, "eer_threshold": eer_thr,
        "average_precision": float(skm.average_precision_score(y, s)) if both else None,
        "tpr_at_fpr_1": tpr_at_fpr(y, s, 0.01), "tpr_at_fpr_5": tpr_at_fpr(y, s, 0.05),
        "per_class": {
            name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                   "support": int(support[i])}
            for i, name in enumerate(("real", "fake"))
        },
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
    }
    return out
