"""The anti-spoofing part of an evaluation report, for checkpoints whose modality is audio.

Why separate: speech anti-spoofing is judged by EER, minDCF and (with an ASV system) min t-DCF,
per attack system, on a DET curve, while the image report stays as it is. ``evaluate`` calls
:func:`audio_section` once; for other modalities it adds nothing.

Adds ``report["audio"] = {"eer", "min_dcf", "min_tdcf" (or null), "per_attack": {...}}`` to
metrics.json, a section to report.md and ``det_curve.png`` to the report folder.
"""
from __future__ import annotations

from pathlib import Path

from dfdetect.evaluation.plots import save_figure
from dfdetect.evaluation.report import fmt_value
from dfdetect.metrics.asv import (det_points, min_dcf, min_tdcf, per_attack_eer,
                                  read_asv_scores)
from dfdetect.metrics.binary import eer


def audio_metrics(rows: list[dict], asv_scores: str = "") -> dict:
    """EER, minDCF, per-attack EER and (when an ASV score file is given) min t-DCF."""
    y = [r["target"] for r in rows]
    s = [r["score"] for r in rows]
    rate, thr = eer(y, s)
    out = {"eer": rate, "eer_threshold": thr, "min_dcf": min_dcf(y, s)["min_dcf"],
           "min_dcf_params": {"p_spoof": 0.05, "c_miss": 1.0, "c_fa": 10.0},
           "min_tdcf": None}
    if asv_scores:
        asv = read_asv_scores(asv_scores)
        t = min_tdcf(y, s, asv["target"], asv["nontarget"], asv["spoof"])
        out["min_tdcf"], out["tdcf_asv"] = t["min_tdcf"], t.get("asv")
    out["per_attack"] = per_attack_eer(y, s, [r.get("method", "") for r in rows])
    return out


def render_audio_markdown(section: dict) -> str:
    """The report.md section for audio."""
    lines = ["", "## Anti-spoofing (audio)", "", "| metric | value |", "|---|---|",
             f"| EER | {fmt_value(section['eer'])} |", f"| minDCF (π=0.05, C_fa=10) | "
             f"{fmt_value(section['min_dcf'])} |",
             f"| min t-DCF (ASVspoof 2019 cost model) | "
             f"{fmt_value(section['min_tdcf']) if section['min_tdcf'] is not None else 'n/a (pass asv_scores=)'} |",
             "", "| attack system | spoofs | EER |", "|---|---|---|"]
    lines += [f"| {a} | {r['n_spoof']} | {fmt_value(r['eer'])} |"
              for a, r in section["per_attack"].items()]
    lines += ["", "DET curve: `det_curve.png`.", ""]
    return "\n".join(lines)


def plot_det(det: dict, eer_value: float | None, path: Path) -> None:
    """DET curve on normal-deviate axes (the speech community's plot)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy.stats import norm

    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95])
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    if det["p_fa"]:
        clip = lambda v: norm.ppf(np.clip(np.asarray(v), 1e-4, 1 - 1e-4))  # noqa: E731
        label = "DET" if eer_value is None else f"EER = {eer_value:.3f}"
        ax.plot(clip(det["p_fa"]), clip(det["p_miss"]), label=label)
        ax.plot(clip([1e-4, 1 - 1e-4]), clip([1e-4, 1 - 1e-4]), "--", color="grey", lw=1)
        ax.legend(loc="upper right")
    ax.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.set(xlabel="false alarm rate (bona fide called spoof)",
           ylabel="miss rate (spoof called bona fide)", title="DET",
           xlim=norm.ppf([5e-4, 0.99]), ylim=norm.ppf([5e-4, 0.99]))
    save_figure(fig, path)


def audio_section(report: dict, rows: list[dict], meta: dict, cfg, out: Path) -> str:
    """Add the audio section and DET plot when the checkpoint is audio; returns markdown."""
    if meta.get("preprocessing", {}).get("modality") != "audio":
        return ""
    section = audio_metrics(rows, getattr(cfg, "asv_scores", ""))
    report["audio"] = section
    plot_det(det_points([r["target"] for r in rows], [r["score"] for r in rows]),
             section["eer"], out / "det_curve.png")
    return render_audio_markdown(section)
