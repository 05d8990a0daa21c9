"""Choosing the decision threshold on one split (validation) to apply on another (test).

Why: a threshold picked on the test set inflates accuracy and F1; a fixed 0.5 is wrong for any
model whose scores are not calibrated. Rules register by name so the choice is recorded in the
report as ``{"value", "rule", "split"}``.

Example::

    t = choose_threshold(val_labels, val_scores, "eer")
    binary_metrics(test_labels, test_scores, threshold=t)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from dfdetect.registry import Registry

THRESHOLD_RULES: Registry[float] = Registry("threshold rule")


def _candidates(scores: np.ndarray) -> np.ndarray:
    """Every distinct score, plus one above the maximum ("call nothing fake")."""
    uniq = np.unique(scores)
    return np.append(uniq, np.nextafter(uniq[-1], np.inf))


def _rates(y: np.ndarray, s: np.ndarray, thr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(TPR, TNR) for each candidate threshold, fake when score >= threshold."""
    pred = s[None, :] >= thr[:, None]  # (T, N)
    tpr = (pred & (y == 1)).sum(1) / max(1, (y == 1).sum())
    tnr = (~pred & (y == 0)).sum(1) / max(1, (y == 0).sum())
    return tpr, tnr


@THRESHOLD_RULES.register("eer")
def rule_eer(y: np.ndarray, s: np.ndarray) -> float:
    """The threshold of the equal error rate (false alarms = misses)."""
    from dfdetect.metrics.binary import eer

    return float(eer(y, s)[1])


@THRESHOLD_RULES.register("balanced_accuracy")
def rule_balanced_accuracy(y: np.ndarray, s: np.ndarray) -> float:
    """The threshold maximising (TPR + TNR) / 2 (Youden's J); ties go to the lowest."""
    thr = _candidates(s)
    tpr, tnr = _rates(y, s, thr)
    return float(thr[int(np.argmax(tpr + tnr))])


@THRESHOLD_RULES.register("f1_macro")
def rule_f1_macro(y: np.ndarray, s: np.ndarray) -> float:
    """The threshold maximising the macro F1 of the two classes."""
    thr = _candidates(s)
    pred = s[None, :] >= thr[:, None]
    f1s = []
    for cls_pred, cls in ((pred, 1), (~pred, 0)):
        tp = (cls_pred & (y == cls)).sum(1)
        denom = cls_pred.sum(1) + (y == cls).sum()
        f1s.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
    return float(thr[int(np.argmax((f1s[0] + f1s[1]) / 2))])


def choose_threshold(labels: Sequence[int], scores: Sequence[float], rule: str = "eer") -> float:
    """Threshold on (labels, scores) by the named rule; needs both classes."""
    y = np.asarray(labels, dtype=int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.size == 0 or y.min() == y.max():
        raise ValueError("choosing a threshold needs both real and fake samples "
                         f"(got {int((y == 0).sum())} real, {int((y == 1).sum())} fake)")
    fn = THRESHOLD_RULES.resolve(rule)[0]
    return fn(y, s)
