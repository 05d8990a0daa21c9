"""Tests for binary detection metrics (dfdetect.metrics.binary)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from dfdetect.metrics.binary import binary_metrics, eer, roc_points


def test_perfect_separation() -> None:
    m = binary_metrics([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert m["auc"] == pytest.approx(1.0)
    assert m["eer"] == pytest.approx(0.0)
    assert m["average_precision"] == pytest.approx(1.0)
    assert m["accuracy"] == pytest.approx(1.0)
    assert m["balanced_accuracy"] == pytest.approx(1.0)
    assert m["f1_macro"] == pytest.approx(1.0)
    assert m["confusion_matrix"] == [[2, 0], [0, 2]]
    # the EER threshold lies between the classes
    assert 0.2 < m["eer_threshold"] <= 0.8


def test_reversed_scores() -> None:
    m = binary_metrics([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])
    assert m["auc"] == pytest.approx(0.0)
    assert m["eer"] == pytest.approx(1.0)
    assert m["accuracy"] == pytest.approx(0.0)
    assert m["confusion_matrix"] == [[0, 2], [2, 0]]


def test_docstring_example() -> None:
    m = binary_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.5)
    # pairs (fake, real): (0.4, 0.1) ok, (0.4, 0.6) wrong, (0.9, 0.1) ok, (0.9, 0.6) ok -> 3/4
    assert m["auc"] == pytest.approx(0.75)
    # ROC points (fpr, fnr): (0,1) (0,.5) (.5,.5) (.5,0) (1,0): FPR = FNR = 0.5 at score 0.6
    assert m["eer"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["balanced_accuracy"] == pytest.approx(0.5)
    assert m["confusion_matrix"] == [[1, 1], [1, 1]]
    assert m["f1_macro"] == pytest.approx(0.5)
    assert m["n"] == 4 and m["n_real"] == 2 and m["n_fake"] == 2
    assert m["threshold"] == 0.5
    assert m["per_class"]["real"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["per_class"]["fake"]["support"] == 2


def test_eer_interpolated_on_a_tie() -> None:
    # real scores 0.2, 0.5; fake scores 0.5, 0.9 (one real/fake tie at 0.5).
    # ROC (drop_intermediate=False), thresholds inf, 0.9, 0.5, 0.2:
    #   fpr = 0, 0, 0.5, 1      fnr = 1 - tpr = 1, 0.5, 0, 0
    #   fnr - fpr = 1, 0.5, -0.5, -1  -> changes sign between the 0.9 and 0.5 points.
    # On that (diagonal) segment t = 0.5 / (0.5 + 0.5) = 0.5:
    #   fpr = 0 + 0.5 * (0.5 - 0) = 0.25,  fnr = 0.5 + 0.5 * (0 - 0.5) = 0.25  -> EER 0.25,
    # which no single threshold achieves (at 0.9: fpr 0 / fnr .5; at 0.5: fpr .5 / fnr 0).
    rate, thr = eer([0, 0, 1, 1], [0.2, 0.5, 0.5, 0.9])
    assert rate == pytest.approx(0.25)
    assert thr == pytest.approx(0.5)  # |diff| ties at 0.5 -> the later point is reported


def test_eer_interpolated_between_points() -> None:
    # real 0.1, 0.5, 0.7; fake 0.6, 0.9. Thresholds inf, .9, .7, .6, .5, .1:
    #   fpr = 0, 0, 1/3, 1/3, 2/3, 1      fnr = 1, .5, .5, 0, 0, 0
    #   fnr - fpr = 1, .5, 1/6, -1/3, -2/3, -1 -> sign change between .7 (i-1) and .6 (i)
    #   t = (1/6) / (1/6 + 1/3) = 1/3 ; fpr = 1/3 + t * 0 = 1/3 ; fnr = .5 + t * (0 - .5) = 1/3
    # closest ROC point to the crossing is the 0.7 one (|1/6| < |-1/3|).
    rate, thr = eer([0, 0, 0, 1, 1], [0.1, 0.5, 0.7, 0.6, 0.9])
    assert rate == pytest.approx(1 / 3)
    assert thr == pytest.approx(0.7)


def test_eer_matches_roc_on_random_data() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    rate, thr = eer(y, s)
    fpr, tpr, _ = skm.roc_curve(y, s)
    fnr = 1 - tpr
    # the EER lies between the FPR and FNR of the ROC points around the crossing
    k = int(np.argmin(np.abs(fnr - fpr)))
    assert min(fpr[k], fnr[k]) - 0.01 <= rate <= max(fpr[k], fnr[k]) + 0.01
    assert 0.0 <= thr <= 1.0
    # at the reported threshold FPR and FNR are both close to the EER
    pred = s >= thr
    assert abs(pred[y == 0].mean() - rate) < 0.02
    assert abs((~pred[y == 1]).mean() - rate) < 0.02


@pytest.mark.parametrize("seed", range(5))
def test_matches_sklearn_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]  # both classes present
    s = rng.random(n) * 0.6 + 0.3 * y
    if seed % 2:
        s = np.round(s, 1)  # many ties
    thr = float(rng.choice([0.3, 0.5, 0.7]))
    m = binary_metrics(y.tolist(), s.tolist(), threshold=thr)
    pred = (s >= thr).astype(int)
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert m["average_precision"] == pytest.approx(skm.average_precision_score(y, s))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["f1_macro"] == pytest.approx(
        skm.f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred, labels=[0, 1]).tolist()
    # the EER is where the ROC crosses FPR = FNR: between sklearn's two ROC points around it
    fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
    fnr = 1.0 - tpr
    i = int(np.argmax(fnr <= fpr))
    lo, hi = (i - 1, i) if i > 0 else (0, 0)
    assert fpr[lo] - 1e-9 <= m["eer"] <= fpr[hi] + 1e-9
    assert fnr[hi] - 1e-9 <= m["eer"] <= fnr[lo] + 1e-9
    json.dumps(m)  # plain Python values only


@pytest.mark.parametrize("labels", [[0, 0, 0], [1, 1]])
def test_one_class_gives_none_not_a_number(labels: list[int]) -> None:
    scores = [0.2, 0.7, 0.4][: len(labels)]
    m = binary_metrics(labels, scores)
    for key in ("auc", "eer", "eer_threshold", "average_precision", "balanced_accuracy"):
        assert m[key] is None, key
    assert isinstance(m["accuracy"], float) and not math.isnan(m["accuracy"])
    assert eer(labels, scores) == (None, None)
    assert roc_points(labels, scores) == {"fpr": [], "tpr": [], "thresholds": []}
    json.dumps(m)


def test_roc_points_lists() -> None:
    pts = roc_points([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    assert pts["fpr"] == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert pts["tpr"] == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert len(pts["thresholds"]) == 5


def test_nan_scores_raise() -> None:
    with pytest.raises(ValueError, match="NaN"):
        binary_metrics([0, 1], [0.2, float("nan")])
    with pytest.raises(ValueError, match="NaN"):
        eer([0, 1], [np.nan, 0.3])


def test_length_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        binary_metrics([0, 1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="differ in length"):
        roc_points([0, 1], [0.2, 0.3, 0.4])


def test_labels_must_be_binary() -> None:
    with pytest.raises(ValueError, match="0 \\(real\\) or 1 \\(fake\\)"):
        binary_metrics([0, 2], [0.2, 0.3])


def test_score_equal_to_threshold_counts_as_fake() -> None:
    m = binary_metrics([0, 1], [0.5, 0.5], threshold=0.5)
    assert m["confusion_matrix"] == [[0, 1], [0, 1]]
    m = binary_metrics([0, 1], [0.3, 0.7], threshold=0.7)
    assert m["confusion_matrix"] == [[1, 0], [0, 1]]
    m = binary_metrics([0, 1], [0.3, 0.7], threshold=0.7000001)
    assert m["confusion_matrix"] == [[1, 0], [1, 0]]


def test_threshold_moves_predictions_not_ranking_metrics() -> None:
    y, s = [0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.6, 0.9]
    low, high = binary_metrics(y, s, threshold=0.0), binary_metrics(y, s, threshold=1.01)
    assert low["confusion_matrix"] == [[0, 3], [0, 3]]
    assert high["confusion_matrix"] == [[3, 0], [3, 0]]
    for key in ("auc", "eer", "average_precision"):
        assert low[key] == high[key]


def test_tpr_at_fpr_by_hand() -> None:
    from dfdetect.metrics.binary import tpr_at_fpr

    # 10 reals, 4 fakes. Reals 0.0..0.9 step 0.1 (one real at 0.9), fakes 0.95, 0.85, 0.5, 0.05
    reals = [i / 10 for i in range(10)]
    y, s = [0] * 10 + [1] * 4, reals + [0.95, 0.85, 0.5, 0.05]
    # FPR 0: only thresholds above 0.9 -> the 0.95 fake: TPR 1/4
    assert tpr_at_fpr(y, s, 0.0) == pytest.approx(0.25)
    assert tpr_at_fpr(y, s, 0.01) == pytest.approx(0.25)
    # FPR <= 0.1 allows threshold 0.85 (real 0.9 above it): TPR 2/4
    assert tpr_at_fpr(y, s, 0.1) == pytest.approx(0.5)
    m = binary_metrics(y, s)
    assert m["tpr_at_fpr_1"] == pytest.approx(0.25) and m["tpr_at_fpr_5"] == pytest.approx(0.25)
    assert tpr_at_fpr([1, 1], [0.2, 0.3], 0.05) is None
