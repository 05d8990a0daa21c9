"""Tests for anti-spoofing metrics against hand-computed cases (dfdetect.metrics.asv)."""
from __future__ import annotations

import numpy as np
import pytest

from dfdetect.metrics.asv import (ASV19_COST, asv_operating_point, det_points, min_dcf, min_tdcf,
                                  official_det_curve, official_eer, per_attack_eer,
                                  read_asv_scores)

# scores are P(fake); bona fide (0) at 0.1 and 0.4, spoofs (1) at 0.3 and 0.9
LABELS, SCORES = [0, 0, 1, 1], [0.1, 0.4, 0.3, 0.9]


def test_min_dcf_hand_computed():
    # CM = -score: bona fide {-0.1, -0.4}, spoof {-0.3, -0.9}; DCF = (0.95 Pmiss + 0.5 Pfa) / 0.5
    # t=-0.9: 0+0.5*1 -> 1.0 | t=-0.4: 0+0.5*0.5 -> 0.5 | t=-0.3: 0.475+0.25 -> 1.45
    # t=-0.1: 0.475+0 -> 0.95 | t=inf: 0.95 -> 1.9  => min 0.5, fake when score > 0.4
    out = min_dcf(LABELS, SCORES)
    assert out["min_dcf"] == pytest.approx(0.5)
    assert out["threshold"] == pytest.approx(0.4)


def test_min_dcf_perfect_and_one_class():
    assert min_dcf([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])["min_dcf"] == pytest.approx(0.0)
    assert min_dcf([1, 1], [0.1, 0.2])["min_dcf"] is None


def test_asv_operating_point_is_the_official_scripts():
    """ASV target {3, 4}, non-target {0, 1}, spoof {2, 5}. The official DET curve (sorted
    0n 1n 3t 4t): P_miss 0 0 0 .5 1, P_fa 1 .5 0 0 0 at thresholds -0.001 0 1 3 4; EER point
    = index 2, threshold 1.0 (the highest non-target). Its error rates count score >= 1 as
    accepted: P_fa_asv = 1/2 (the non-target at 1), P_miss_asv = 0, P_miss_spoof_asv = 0."""
    asv = asv_operating_point(np.array([3.0, 4.0]), np.array([0.0, 1.0]), np.array([2.0, 5.0]))
    assert asv == {"threshold": 1.0, "p_miss_asv": 0.0, "p_fa_asv": 0.5, "p_miss_spoof_asv": 0.0}


def test_official_det_curve_by_hand():
    p_miss, p_fa, thr = official_det_curve(np.array([3.0, 4.0]), np.array([0.0, 1.0]))
    assert p_miss.tolist() == [0, 0, 0, 0.5, 1] and p_fa.tolist() == [1, 0.5, 0, 0, 0]
    assert thr.tolist() == pytest.approx([-0.001, 0, 1, 3, 4])


def test_min_tdcf_2019_and_2021_hand_computed():
    # ASV point above: P_miss_asv 0, P_fa_asv .5, P_miss_spoof_asv 0.
    # 2019: C1 = 0.9405 (1 - 0) - 0.0095 * 10 * 0.5 = 0.893 ; C2 = 10 * 0.05 * (1 - 0) = 0.5.
    # CM = -score: bona fide {-0.1, -0.4}, spoof {-0.3, -0.9}; (C1 Pmiss + C2 Pfa) / 0.5:
    # t=-0.9: 1.0 | t=-0.4: (0 + .25)/.5 = 0.5 | t=-0.3: (.4465 + .25)/.5 | t=-0.1: .893 | 1.786
    # 2021: C0 = 0.9405 * 0 + 0.0095 * 10 * 0.5 = 0.0475, C1 = 0.9405 - C0 = 0.893, C2 = 0.5;
    # at t=-0.4: (0.0475 + 0.5 * 0.5) / (0.0475 + 0.5) = 0.2975 / 0.5475 = 0.54338
    out = min_tdcf(LABELS, SCORES, [3, 4], [0, 1], [2, 5])
    assert out["c1"] == pytest.approx(0.893) and out["c2"] == pytest.approx(0.5)
    assert out["min_tdcf"] == pytest.approx(0.5) and out["threshold"] == pytest.approx(0.4)
    assert out["c012_2021"] == pytest.approx([0.0475, 0.893, 0.5])
    assert out["min_tdcf_2021"] == pytest.approx(0.2975 / 0.5475)


def test_min_tdcf_with_asv_errors():
    # ASV: target {1, 3}, non-target {0, 2}; official curve (0n 1t 2n 3t): P_miss 0 0 .5 .5 1,
    # P_fa 1 .5 .5 0 0 -> EER point index 2, threshold 1 (2nd lowest score). Rates at t=1:
    # P_miss_asv = mean({1,3} < 1) = 0, P_fa_asv = mean({0,2} >= 1) = .5, spoofs {0.5, 4}: .5.
    # 2019: C1 = 0.9405 - 0.0475 = 0.893 ; C2 = 10 * 0.05 * 0.5 = 0.25; CM points / 0.25:
    # accept all 1.0 | t=-0.4: .125 -> 0.5 | t=-0.3: (.4465 + .125) | t=-0.1: 1.786 | 3.572
    # 2021: C0 = .0475, C1 = .893, C2 = .25: at t=-0.4 (.0475 + .125) / (.0475 + .25) = .57983
    out = min_tdcf(LABELS, SCORES, [1, 3], [0, 2], [0.5, 4])
    assert out["asv"] == {"threshold": 1.0, "p_miss_asv": 0.0, "p_fa_asv": 0.5,
                          "p_miss_spoof_asv": 0.5}
    assert out["c1"] == pytest.approx(0.893) and out["c2"] == pytest.approx(0.25)
    assert out["min_tdcf"] == pytest.approx(0.5)
    assert out["min_tdcf_2021"] == pytest.approx(0.1725 / 0.2975)
    # a better CM: every spoof above every bona fide -> 0 in the 2019 form; the 2021 form keeps
    # the ASV's own cost C0: C0 / (C0 + C2) = .0475 / .2975
    better = min_tdcf(LABELS, [0.1, 0.2, 0.8, 0.9], [1, 3], [0, 2], [0.5, 4])
    assert better["min_tdcf"] == 0.0
    assert better["min_tdcf_2021"] == pytest.approx(0.0475 / 0.2975)
    assert ASV19_COST["p_tar"] == pytest.approx(0.9405)


def test_our_eer_and_the_official_scripts_differ_on_ties_and_tiny_sets():
    """docs/audio.md, 'EER and the official scripts'. One bona fide clip tied with one spoof
    (P(fake) 0.5), another spoof at 0.9.
    Ours (ROC at realised thresholds, FPR = FNR interpolated): points (FPR, FNR) = (0, 1),
    (0, .5) at 0.9, (1, 0) at 0.5 -> the crossing of (0, .5)-(1, 0) is at 1/3.
    Official (CM = -score; sorted -0.9s, -0.5b, -0.5s, the tie stepped through bona fide
    first): P_miss 0 0 1 1, P_fa 1 .5 .5 0 -> nearest point index 1 -> (0 + .5) / 2 = 0.25."""
    from dfdetect.metrics.binary import eer

    y, s = [0, 1, 1], [0.5, 0.5, 0.9]
    assert eer(y, s)[0] == pytest.approx(1 / 3)
    assert official_eer(y, s) == pytest.approx(0.25)
    # with many trials and no ties the two agree
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(400), np.ones(400)].astype(int)
    s = np.r_[rng.normal(0, 1, 400), rng.normal(1.5, 1, 400)]
    assert abs(eer(y, s)[0] - official_eer(y, s)) < 0.003


def test_min_tdcf_needs_asv_scores():
    with pytest.raises(ValueError, match="target"):
        min_tdcf(LABELS, SCORES, [], [0.0], [1.0])


def test_det_points_and_per_attack_eer():
    det = det_points(LABELS, SCORES)
    assert det["p_fa"][0] == 0.0 and det["p_miss"][-1] == 0.0
    out = per_attack_eer([0, 0, 1, 1, 1], [0.1, 0.4, 0.3, 0.9, 0.95], ["", "", "A01", "A02", "A02"])
    assert out["A02"] == {"n_spoof": 2, "eer": 0.0}
    assert out["A01"]["n_spoof"] == 1 and out["A01"]["eer"] == pytest.approx(0.5)


def test_read_asv_scores(tmp_path):
    p = tmp_path / "asv.txt"
    p.write_text("bonafide target 2.5\nbonafide nontarget -1.0\nA07 spoof 0.3\n\n")
    got = read_asv_scores(p)
    assert got["target"].tolist() == [2.5] and got["spoof"].tolist() == [0.3]
    p.write_text("bonafide maybe 2.5\n")
    with pytest.raises(ValueError, match="line 1"):
        read_asv_scores(p)
