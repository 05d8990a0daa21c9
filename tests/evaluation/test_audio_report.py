"""Tests for the audio section of evaluation reports (dfdetect.evaluation.audio_report)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from dfdetect.evaluation.audio_report import audio_metrics, audio_section


def _rows():
    data = [(0, 0.1, "none"), (0, 0.4, "none"), (1, 0.3, "A01"), (1, 0.9, "A02")]
    return [{"target": t, "score": s, "method": m} for t, s, m in data]


def test_audio_metrics_without_and_with_asv_scores(tmp_path):
    out = audio_metrics(_rows())
    assert out["eer"] == pytest.approx(0.5) and out["min_dcf"] == pytest.approx(0.5)
    assert out["min_tdcf"] is None
    assert out["per_attack"]["A02"]["eer"] == 0.0
    asv = tmp_path / "asv.txt"
    asv.write_text("bonafide target 3\nbonafide target 4\nbonafide nontarget 0\n"
                   "bonafide nontarget 1\nA01 spoof 2\nA02 spoof 5\n")
    assert audio_metrics(_rows(), str(asv))["min_tdcf"] == pytest.approx(0.5)  # test_asv case


def test_audio_section_only_for_audio_checkpoints(tmp_path):
    report: dict = {}
    cfg = SimpleNamespace(asv_scores="")
    assert audio_section(report, _rows(), {"preprocessing": {"modality": "image"}}, cfg,
                         tmp_path) == ""
    assert report == {} and not (tmp_path / "det_curve.png").exists()
    md = audio_section(report, _rows(), {"preprocessing": {"modality": "audio"}}, cfg, tmp_path)
    assert set(report["audio"]) >= {"eer", "min_dcf", "min_tdcf", "per_attack"}
    assert (tmp_path / "det_curve.png").read_bytes()[:4] == b"\x89PNG"
    # bona fide 0.1, 0.4 vs spoofs 0.3 (A01), 0.9 (A02): at 0.4 one spoof of two is missed and
    # one bona fide of two flagged, EER 0.5; A01 alone also 0.5; A02 is separated, EER 0
    assert report["audio"]["eer"] == pytest.approx(0.5)
    assert report["audio"]["per_attack"] == {"A01": {"n_spoof": 1, "eer": pytest.approx(0.5)},
                                             "A02": {"n_spoof": 1, "eer": pytest.approx(0.0)}}
    lines = md.splitlines()
    assert "## Anti-spoofing (audio)" in lines and "| EER | 0.5000 |" in lines
    assert "| min t-DCF (ASVspoof 2019 cost model) | n/a (pass asv_scores=) |" in lines
    assert lines.index("| A01 | 1 | 0.5000 |") + 1 == lines.index("| A02 | 1 | 0.0000 |")
