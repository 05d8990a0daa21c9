"""The audio modality's part of an evaluation report: anti-spoofing metrics and plots.

Why separate from the image report: speech anti-spoofing is judged by EER, minDCF and (with an
ASV system) min t-DCF, per attack system, on a DET curve. Adds ``report["audio"] = {"eer",
"min_dcf", "min_tdcf" and "min_tdcf_2021" (or null), "per_attack": {attack: {"n_spoof", "eer", "eer_ci"}}}`` to
metrics.json, a section to report.md and ``det_curve.png`` to the report folder. Per-attack
EERs carry a 95 % interval (bootstrap over speakers / groups), or say why they cannot: an EER
from a handful of spoofs is mostly noise, and the interval shows it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dfdetect.metrics.asv import det_points, min_dcf, min_tdcf, per_attack_eer, read_asv_scores
from dfdetect.metrics.binary import eer
from dfdetect.metrics.bootstrap import bootstrap_ci
from dfdetect.plotting import pyplot, save_figure

ATTACK_RESAMPLES = 200  # per-attack bootstrap draws (cheap enough for ~100 attack systems)


def _fmt(v) -> str:
    return "n/a" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))


def _group(row: dict) -> str:
    """Resampling unit: the row's group (speaker), else the row (as evaluation's bootstrap)."""
    return row.get("video") or row.get("group") or row.get("id") or str(id(row))


def attack_intervals(rows: list[dict], n: int = ATTACK_RESAMPLES, seed: int = 0) -> dict:
    """Per attack: ``{"low", "high", "n"}`` of its EER over ``n`` group resamples, or
    ``{"low": None, "high": None, "why": ...}`` when no interval can be drawn."""
    bona = [r for r in rows if r["target"] == 0]
    by: dict[str, list[dict]] = {}
    for r in rows:
        if r["target"] == 1:
            by.setdefault(r.get("method") or "unknown", []).append(r)
    out = {}
    for attack, spoofs in sorted(by.items()):
        if len(spoofs) < 2 or len(bona) < 2 or n <= 0:
            why = (f"only {len(spoofs)} spoof" if len(spoofs) < 2 else
                   "fewer than 2 bona fide" if len(bona) < 2 else "bootstrap=0")
            out[attack] = {"low": None, "high": None, "n": 0, "why": why}
            continue
        sel = bona + spoofs
        ci = bootstrap_ci([r["target"] for r in sel], [r["score"] for r in sel],
                          [_group(r) for r in sel], n=n, seed=seed, metrics=("eer",))["eer"]
        if ci["low"] is None:
            ci["why"] = "too few groups with both classes"
        out[attack] = ci
    return out


def audio_metrics(rows: list[dict], asv_scores: str = "", resamples: int = ATTACK_RESAMPLES,
                  seed: int = 0) -> dict:
    """EER, minDCF, per-attack EER (with intervals) and, given ASV scores, min t-DCF."""
    y = [r["target"] for r in rows]
    s = [r["score"] for r in rows]
    rate, thr = eer(y, s)
    out = {"eer": rate, "eer_threshold": thr, "min_dcf": min_dcf(y, s)["min_dcf"],
           "min_dcf_params": {"p_spoof": 0.05, "c_miss": 1.0, "c_fa": 10.0},
           "min_tdcf": None, "min_tdcf_2021": None}
    if asv_scores:
        asv = read_asv_scores(asv_scores)
        t = min_tdcf(y, s, asv["target"], asv["nontarget"], asv["spoof"])
        out["min_tdcf"], out["tdcf_asv"] = t["min_tdcf"], t.get("asv")
        out["min_tdcf_2021"] = t["min_tdcf_2021"]
    per = per_attack_eer(y, s, [r.get("method", "") for r in rows])
    cis = attack_intervals(rows, resamples, seed)
    out["per_attack"] = {a: {**v, "eer_ci": cis.get(a)} for a, v in per.items()}
    out["per_attack_resamples"] = resamples
    return out


def _interval(ci: dict | None) -> str:
    if not ci:
        return "n/a"
    if ci.get("low") is None:
        return f"n/a ({ci.get('why', 'no interval')})"
    return f"[{ci['low']:.4f}, {ci['high']:.4f}]"


def render_audio_markdown(section: dict) -> str:
    """The report.md section for audio."""
    tdcf = ("n/a (pass asv_scores=)" if section["min_tdcf"] is None
            else _fmt(section["min_tdcf"]))
    tdcf21 = ("n/a (pass asv_scores=)" if section.get("min_tdcf_2021") is None
              else _fmt(section["min_tdcf_2021"]))
    lines = ["", "## Anti-spoofing (audio)", "", "| metric | value |", "|---|---|",
             f"| EER | {_fmt(section['eer'])} |",
             f"| minDCF (π=0.05, C_fa=10) | {_fmt(section['min_dcf'])} |",
             f"| min t-DCF (ASVspoof 2019 cost model) | {tdcf} |",
             f"| min t-DCF, revised (ASVspoof 2021) | {tdcf21} |",
             "", "Per attack system: its spoofs against every bona fide clip; 95 % interval "
             f"by bootstrap over speakers ({section.get('per_attack_resamples', 0)} resamples). "
             "An EER from a few "
             "spoofs is mostly noise: read the interval, not the point.", "",
             "| attack system | spoofs | EER | 95 % CI |", "|---|---|---|---|"]
    lines += [f"| {a} | {r['n_spoof']} | {_fmt(r['eer'])} | {_interval(r.get('eer_ci'))} |"
              for a, r in section["per_attack"].items()]
    lines += ["", "DET curve: `det_curve.png`; `mistakes.png` shows spectrograms of the most "
              "confident mistakes.", ""]
    return "\n".join(lines)


def plot_det(det: dict, eer_value: float | None, path: Path) -> None:
    """DET curve on normal-deviate axes (the speech community's plot)."""
    from scipy.stats import norm

    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95])
    fig, ax = pyplot().subplots(figsize=(4.5, 4.5))
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


def spectrogram_thumbnail(wave: np.ndarray, rate: int, size: int, seconds: float = 4.0):
    """A log-magnitude spectrogram (first ``seconds``) as a ``size`` x ``size`` PIL image."""
    from matplotlib import colormaps
    from PIL import Image

    x = wave[: int(seconds * rate)].astype(np.float32)
    n_fft, hop = 512, 128
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    db = 20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)).T + 1e-6)  # (F, frames)
    db = np.clip((db - (db.max() - 80)) / 80, 0, 1)[::-1]               # low frequencies at bottom
    rgb = (colormaps["magma"](db)[..., :3] * 255).astype(np.uint8)
    return Image.fromarray(rgb).resize((size, size))


def audio_section(report: dict, rows: list[dict], cfg, out: Path) -> str:
    """Add ``report["audio"]`` and ``det_curve.png``; returns the markdown section."""
    section = audio_metrics(rows, getattr(cfg, "asv_scores", ""),
                            min(ATTACK_RESAMPLES, int(getattr(cfg, "bootstrap", 1000))),
                            int(getattr(cfg, "seed", 0)))
    report["audio"] = section
    plot_det(det_points([r["target"] for r in rows], [r["score"] for r in rows]),
             section["eer"], out / "det_curve.png")
    return render_audio_markdown(section)
