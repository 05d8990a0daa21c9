"""Threshold rules (dfdetect.metrics.threshold) and the transfer from val to test."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from dfdetect.metrics import binary_metrics
from dfdetect.metrics.threshold import choose_threshold


def test_balanced_accuracy_rule_by_hand() -> None:
    # real 0.1 0.3 0.6, fake 0.4 0.7 0.9. Candidates and (TPR, TNR):
    #   0.4 -> (1, 2/3) = 0.833 ; 0.7 -> (2/3, 1) = 0.833 ; 0.6 -> (2/3, 2/3); lowest max wins
    y, s = [0, 0, 0, 1, 1, 1], [0.1, 0.3, 0.6, 0.4, 0.7, 0.9]
    assert choose_threshold(y, s, "balanced_accuracy") == pytest.approx(0.4)


def test_f1_rule_matches_brute_force_with_sklearn() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    s = np.round(rng.random(80) * 0.7 + 0.3 * y, 2)
    t = choose_threshold(y, s, "f1_macro")
    best = max(skm.f1_score(y, (s >= c).astype(int), average="macro", zero_division=0)
               for c in np.unique(s))
    assert skm.f1_score(y, (s >= t).astype(int), average="macro") == pytest.approx(best)


def test_eer_rule_is_the_eer_threshold() -> None:
    y, s = [0, 0, 0, 1, 1], [0.1, 0.5, 0.7, 0.6, 0.9]
    assert choose_threshold(y, s, "eer") == pytest.approx(binary_metrics(y, s)["eer_threshold"])


def test_threshold_transfer_val_to_test() -> None:
    # val scores are shifted up by 0.3: its threshold, applied on test, is what test gets
    val_y, val_s = [0, 0, 1, 1], [0.45, 0.55, 0.85, 0.95]
    t = choose_threshold(val_y, val_s, "balanced_accuracy")
    assert t == pytest.approx(0.85)
    test = binary_metrics([0, 0, 1, 1], [0.15, 0.25, 0.55, 0.9], threshold=t)
    assert test["threshold"] == pytest.approx(0.85)
    assert test["confusion_matrix"] == [[2, 0], [1, 1]]  # 0.55 is below the val threshold


def test_one_class_refused() -> None:
    with pytest.raises(ValueError, match="both real and fake"):
        choose_threshold([1, 1], [0.2, 0.3])
