"""The audio modality's report section and how the report speaks of audio.

Covers issue 9's audio report items: the words (no "frames" / "videos" in an audio report.md),
spectrogram thumbnails instead of grey squares in ``mistakes.png``, per-attack EERs with an
interval (or the reason there is none), and a readable ``roc_by_method.png``.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from dfdetect.modalities import get_modality
from dfdetect.modalities.audio_report import (attack_intervals, audio_metrics, audio_section,
                                              render_audio_markdown)


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
    both = audio_metrics(_rows(), str(asv))
    assert both["min_tdcf"] == pytest.approx(0.5)  # test_asv's hand-computed case
    assert both["min_tdcf_2021"] == pytest.approx(0.2975 / 0.5475)


def _speaker_rows(seed: int = 0) -> list[dict]:
    """20 speakers: 3 bona fide each; attack A01 40 spoofs (hard), A02 one spoof."""
    rng = np.random.default_rng(seed)
    rows = []
    for spk in range(20):
        for k in range(3):
            rows.append({"id": f"b{spk}_{k}", "group": f"spk{spk}", "target": 0,
                         "score": float(rng.uniform(0.0, 0.6)), "method": "none"})
        for k in range(2):
            rows.append({"id": f"a{spk}_{k}", "group": f"spk{spk}", "target": 1,
                         "score": float(rng.uniform(0.3, 1.0)), "method": "A01"})
    rows.append({"id": "lonely", "group": "spk0", "target": 1, "score": 0.9, "method": "A02"})
    return rows


def test_per_attack_eer_has_an_interval_or_says_why_not():
    rows = _speaker_rows()
    cis = attack_intervals(rows, n=100, seed=0)
    a01 = audio_metrics(rows)["per_attack"]["A01"]
    assert cis["A01"]["low"] < a01["eer"] < cis["A01"]["high"]  # a hard attack: a real band
    assert cis["A01"]["high"] - cis["A01"]["low"] > 0.02
    assert cis["A02"]["low"] is None and cis["A02"]["why"] == "only 1 spoof"
    md = render_audio_markdown(audio_metrics(rows))
    row_a01 = next(line for line in md.splitlines() if line.startswith("| A01 |"))
    assert re.search(r"\| \[0\.\d{4}, 0\.\d{4}\] \|$", row_a01)
    assert "| A02 | 1 | 0.0000 | n/a (only 1 spoof) |" in md


def test_report_section_belongs_to_the_audio_modality(tmp_path):
    report: dict = {}
    cfg = SimpleNamespace(asv_scores="", bootstrap=50, seed=0)
    assert get_modality("image").report_section(report, _rows(), {}, cfg, tmp_path) == ""
    assert report == {} and not (tmp_path / "det_curve.png").exists()
    md = get_modality("audio").report_section(report, _rows(), {}, cfg, tmp_path)
    assert set(report["audio"]) >= {"eer", "min_dcf", "min_tdcf", "per_attack"}
    assert (tmp_path / "det_curve.png").read_bytes()[:4] == b"\x89PNG"
    # bona fide 0.1, 0.4 vs spoofs 0.3 (A01), 0.9 (A02): at 0.4 one spoof of two is missed and
    # one bona fide of two flagged, EER 0.5; A01 alone also 0.5; A02 is separated, EER 0
    assert report["audio"]["eer"] == pytest.approx(0.5)
    per = report["audio"]["per_attack"]
    assert {k: (v["n_spoof"], v["eer"]) for k, v in per.items()} == {
        "A01": (1, pytest.approx(0.5)), "A02": (1, pytest.approx(0.0))}
    lines = md.splitlines()
    assert "## Anti-spoofing (audio)" in lines and "| EER | 0.5000 |" in lines
    assert "| min t-DCF (ASVspoof 2019 cost model) | n/a (pass asv_scores=) |" in lines
    a01 = next(i for i, x in enumerate(lines) if x.startswith("| A01 | 1 | 0.5000 |"))
    assert lines[a01 + 1].startswith("| A02 | 1 | 0.0000 |")


def test_roc_by_method_keeps_the_hardest_and_pools_the_rest(tmp_path, monkeypatch):
    from dfdetect.evaluation import plots

    rows = [{"target": 0, "score": float(v), "method": "none"} for v in np.linspace(0, 0.5, 40)]
    for k in range(90):  # method m00 is the hardest (scores like the reals), m89 the easiest
        rows += [{"target": 1, "score": 0.5 * k / 89 + d, "method": f"m{k:02d}"}
                 for d in (0.05, 0.25, 0.45)]
    curves = plots.method_curves(rows, top=5)
    assert [name for name, _ in curves] == ["m00", "m01", "m02", "m03", "m04",
                                            "other (85 methods)"]
    assert sum(r["target"] for r in curves[-1][1]) == 85 * 3
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig))
    plots.plot_roc_by_method(rows, tmp_path / "roc.png", top=5)
    ax = figures[0].axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert len(labels) == 2 + 6  # chance, all, 5 methods + the pooled rest (not 90 curves)
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # beside the axes


class _FakeAudioScorer:
    """Scores by file name: spoofs 0.8, bona fide 0.2, except utt000 (both wrong)."""

    meta = {"preprocessing": {"modality": "audio", "sample_rate": 16000, "seconds": 0.5}}
    threshold, perturb, backend = 0.5, None, "torch"

    def score(self, paths, progress=None):
        from dfdetect.inference.predictor import Prediction

        for p in paths:
            spoof = "spoof" in str(p)
            good = 0.8 if spoof else 0.2
            yield Prediction(str(p), 1 - good if "utt000" in str(p) else good)


def test_audio_report_speaks_of_clips_and_shows_spectrograms(tmp_path, monkeypatch):
    from PIL import Image

    from dfdetect.config.schema import EvaluateConfig
    from dfdetect.demo.audio import build_demo_speech
    from dfdetect.evaluation import evaluate as evaluate_mod

    speech = build_demo_speech(tmp_path / "speech", utterances=6, seconds=0.5)
    monkeypatch.setattr(evaluate_mod, "build_scorer", lambda *a, **k: _FakeAudioScorer())
    out = tmp_path / "eval"
    result = evaluate_mod.evaluate(EvaluateConfig(ckpt="a.ckpt", data=str(speech), split="all",
                                                  out=str(out), bootstrap=50, mistakes=4),
                                   echo=lambda _: None)
    md = (out / "report.md").read_text()
    assert not re.search(r"frame|video", md, re.I), md
    assert "## Clip level" in md and "12 clips" in md and "speakers" in md
    assert "identities" not in md and "## Anti-spoofing (audio)" in md
    assert result.report["levels"]["frame"]["metrics"]["n"] == 12  # metrics.json keys stay
    sheet = np.asarray(Image.open(out / "mistakes.png").convert("L"), dtype=float)
    tile = sheet[4:100, 4:100]  # the first mistake's thumbnail
    assert tile.std() > 10, "the mistake is drawn as a flat tile, not as its spectrogram"
