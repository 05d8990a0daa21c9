"""Tests for anti-spoofing metrics against hand-computed cases (dfdetect.metrics.asv)."""
from __future__ import annotations

import numpy as np
import pytest

from dfdetect.metrics.asv import (ASV19_COST, asv_operating_point, det_points, min_dcf, min_tdcf,
                                  per_attack_eer, read_asv_scores)

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


def test_asv_operating_point_at_eer():
    asv = asv_operating_point(np.array([3.0, 4.0]), np.array([0.0, 1.0]), np.array([2.0, 5.0]))
    assert asv == {"threshold": 3.0, "p_miss_asv": 0.0, "p_fa_asv": 0.0, "p_miss_spoof_asv": 0.5}


def test_min_tdcf_hand_computed():
    # ASV perfect at t=3: Pmiss_asv = Pfa_asv = 0, half the spoofs (2.0) rejected by the ASV.
    # C1 = 0.9405 * (1 - 0) - 0.0095 * 10 * 0 = 0.9405 ; C2 = 10 * 0.05 * (1 - 0.5) = 0.25
    # t-DCF_norm(t) = (C1 Pmiss + C2 Pfa) / 0.25: accept all 1.0 | t=-0.4: 0.125/0.25 = 0.5
    # t=-0.3: (0.47025 + 0.125)/0.25 = 2.381 | t=-0.1: 1.881 | reject all 3.762
    out = min_tdcf(LABELS, SCORES, [3, 4], [0, 1], [2, 5])
    assert out["c1"] == pytest.approx(0.9405) and out["c2"] == pytest.approx(0.25)
    assert out["min_tdcf"] == pytest.approx(0.5)


def test_min_tdcf_with_asv_errors():
    # ASV: target {1, 3}, non-target {0, 2}; candidate t: 0 (Pmiss 0, Pfa 1), 1 (0, .5),
    # 2 (.5, .5) <- EER point, 3 (.5, 0). Spoofs {0.5, 4}: Pmiss_spoof_asv = 0.5 at t=2.
    # C1 = 0.9405 * (1 - 0.5) - 0.0095 * 10 * 0.5 = 0.42275 ; C2 = 10 * 0.05 * 0.5 = 0.25
    # CM points / 0.25: accept all 1.0 | t=-0.4: 0.125 -> 0.5 | t=-0.3: (.211375+.125) -> 1.3455
    # t=-0.1: .211375 -> 0.8455 | reject all: 1.691  => min 0.5
    out = min_tdcf(LABELS, SCORES, [1, 3], [0, 2], [0.5, 4])
    assert out["asv"] == {"threshold": 2.0, "p_miss_asv": 0.5, "p_fa_asv": 0.5,
                          "p_miss_spoof_asv": 0.5}
    assert out["c1"] == pytest.approx(0.42275) and out["c2"] == pytest.approx(0.25)
    assert out["min_tdcf"] == pytest.approx(0.5)
    # a better CM: every spoof above every bona fide -> 0
    assert min_tdcf(LABELS, [0.1, 0.2, 0.8, 0.9], [1, 3], [0, 2], [0.5, 4])["min_tdcf"] == 0.0
    assert ASV19_COST["p_tar"] == pytest.approx(0.9405)


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
