"""Anti-spoofing metrics: minDCF, min t-DCF (ASVspoof 2019 and revised 2021), DET points,
per-attack EER, and the official scripts' EER for comparison.

Conventions at the API are the project's (label 1 = fake/spoof, score = P(fake)). Inside, the
countermeasure (CM) score is ``-score`` so that, as in the ASVspoof papers, a higher CM score means
bona fide and a trial is *accepted* as bona fide when ``cm >= t``:

- P_miss_cm(t): bona fide rejected (cm < t); P_fa_cm(t): spoof accepted (cm >= t).
- minDCF (ASVspoof 5): min over t of ``C_miss (1 - pi) P_miss + C_fa pi P_fa``, normalised by
  the cost of the best trivial system ``min(C_miss (1 - pi), C_fa pi)``.
- The ASV operating point of both t-DCFs is the one the official ASVspoof 2019 / 2021 scripts
  use: the threshold their ``compute_eer`` returns for the ASV target / non-target scores (the
  score of the DET point nearest to EER, see :func:`official_det_curve`), then
  ``P_miss_asv = mean(target < t)``, ``P_fa_asv = mean(nontarget >= t)``,
  ``P_miss_spoof_asv = mean(spoof < t)``. Because the curve counts a trial *at* a threshold as
  rejected while the error rates count it as accepted, the threshold is often the highest
  non-target score that the rates then count as a false alarm; we reproduce that on purpose
  (``asv_operating_point``), since min t-DCF values are only comparable at the same ASV point.
- min t-DCF 2019 (Kinnunen et al. 2018, ASVspoof 2019 plan): ``t-DCF(t) = C1 P_miss_cm(t) +
  C2 P_fa_cm(t)`` normalised by ``min(C1, C2)``, ``C1 = P_tar (C_miss_cm - C_miss_asv
  P_miss_asv) - P_non C_fa_asv P_fa_asv``, ``C2 = C_fa_cm P_spoof (1 - P_miss_spoof_asv)``.
- min t-DCF 2021 (revised, Kinnunen et al. 2020, used from ASVspoof 2021): ``t-DCF(t) = C0 +
  C1 P_miss_cm(t) + C2 P_fa_cm(t)`` normalised by ``C0 + min(C1, C2)``, with ``C0 = P_tar C_miss
  P_miss_asv + P_non C_fa P_fa_asv``, ``C1 = P_tar C_miss - C0``, ``C2 = P_spoof C_fa_spoof
  (1 - P_miss_spoof_asv)``.
- The CM side of both is minimised over thresholds the CM scores realise (``cm_error_rates``);
  the official scripts also walk through tied scores one trial at a time, points no threshold
  reaches. Our EER interpolates the ROC at FPR = FNR; theirs takes the mean of the two rates at
  the nearest DET point. Both differences only show with ties or a few trials (docs/audio.md,
  ``official_eer``).

Example::

    min_dcf([0, 0, 1, 1], [0.1, 0.4, 0.3, 0.9])["min_dcf"]
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np

from dfdetect.metrics.binary import _arrays, _both_classes, eer

#: ASVspoof 2019 t-DCF cost model (evaluation plan, section 4)
ASV19_COST = {"p_spoof": 0.05, "p_tar": (1 - 0.05) * 0.99, "p_non": (1 - 0.05) * 0.01,
              "c_miss_asv": 1.0, "c_fa_asv": 10.0, "c_miss_cm": 1.0, "c_fa_cm": 10.0}
#: ASVspoof 2021 revised t-DCF cost model (the 2021 evaluation package's defaults)
ASV21_COST = {"p_spoof": 0.05, "p_tar": (1 - 0.05) * 0.99, "p_non": (1 - 0.05) * 0.01,
              "c_miss": 1.0, "c_fa": 10.0, "c_fa_spoof": 10.0}


def cm_error_rates(bona: np.ndarray, spoof: np.ndarray) -> tuple[np.ndarray, ...]:
    """(thresholds, P_miss, P_fa) at every distinct CM score plus +inf (accept when cm >= t)."""
    thr = np.concatenate([np.unique(np.concatenate([bona, spoof])), [np.inf]])
    b, s = np.sort(bona), np.sort(spoof)
    p_miss = np.searchsorted(b, thr, side="left") / b.size       # bona fide with cm < t
    p_fa = 1.0 - np.searchsorted(s, thr, side="left") / s.size   # spoofs with cm >= t
    return thr, p_miss, p_fa


def _split(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y, s = _arrays(labels, scores)
    cm = -s  # higher = bona fide
    return cm[y == 0], cm[y == 1]


def min_dcf(labels: Sequence[int], scores: Sequence[float], p_spoof: float = 0.05,
            c_miss: float = 1.0, c_fa: float = 10.0) -> dict:
    """Normalised minimum detection cost (ASVspoof 5 parameters by default); None if one class."""
    y, _ = _arrays(labels, scores)
    if not _both_classes(y):
        return {"min_dcf": None, "threshold": None}
    bona, spoof = _split(labels, scores)
    thr, p_miss, p_fa = cm_error_rates(bona, spoof)
    dcf = (c_miss * (1 - p_spoof) * p_miss + c_fa * p_spoof * p_fa) / min(
        c_miss * (1 - p_spoof), c_fa * p_spoof)
    i = int(np.argmin(dcf))
    return {"min_dcf": float(dcf[i]), "threshold": _score_threshold(thr[i])}


def _score_threshold(cm_thr: float) -> float | None:
    """A CM threshold back in P(fake) terms: fake when score > -cm_thr."""
    return None if not np.isfinite(cm_thr) else float(-cm_thr)


def official_det_curve(target: np.ndarray, nontarget: np.ndarray) -> tuple[np.ndarray, ...]:
    """(P_miss, P_fa, thresholds) as the ASVspoof scripts' ``compute_det_curve`` builds them.

    All scores sorted with a stable sort (targets before non-targets at a tie); point i > 0
    counts the i lowest trials as rejected and its threshold is the i-th lowest score; point 0
    rejects nothing (threshold just below the lowest score). At tied scores the curve steps
    through the tie one trial at a time.
    """
    target, nontarget = np.asarray(target, float), np.asarray(nontarget, float)
    scores = np.concatenate([target, nontarget])
    is_tar = np.concatenate([np.ones(target.size), np.zeros(nontarget.size)])
    order = np.argsort(scores, kind="mergesort")
    tar_below = np.cumsum(is_tar[order])                   # targets among the i lowest
    non_above = nontarget.size - (np.arange(1, scores.size + 1) - tar_below)
    p_miss = np.concatenate([[0.0], tar_below / target.size])
    p_fa = np.concatenate([[1.0], non_above / nontarget.size])
    thr = np.concatenate([[scores[order[0]] - 0.001], scores[order]])
    return p_miss, p_fa, thr


def _official_eer(target: np.ndarray, nontarget: np.ndarray) -> tuple[float, float]:
    p_miss, p_fa, thr = official_det_curve(target, nontarget)
    i = int(np.argmin(np.abs(p_miss - p_fa)))
    return float((p_miss[i] + p_fa[i]) / 2), float(thr[i])


def official_eer(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """The CM EER as the official ASVspoof scripts compute it (no interpolation, ties walked
    through); compare with :func:`dfdetect.metrics.binary.eer`. None with one class."""
    y, _ = _arrays(labels, scores)
    if not _both_classes(y):
        return None
    bona, spoof = _split(labels, scores)
    return _official_eer(bona, spoof)[0]


def asv_operating_point(target: np.ndarray, nontarget: np.ndarray,
                        spoof: np.ndarray) -> dict[str, float]:
    """ASV error rates at its EER threshold, both picked as the official 2019 script does."""
    target, nontarget, spoof = (np.asarray(a, float) for a in (target, nontarget, spoof))
    _, t = _official_eer(target, nontarget)
    return {"threshold": t, "p_miss_asv": float(np.mean(target < t)),
            "p_fa_asv": float(np.mean(nontarget >= t)),
            "p_miss_spoof_asv": float(np.mean(spoof < t)) if spoof.size else 0.0}


def min_tdcf(labels: Sequence[int], scores: Sequence[float], asv_target: Sequence[float],
             asv_nontarget: Sequence[float], asv_spoof: Sequence[float],
             cost: dict | None = None, cost_2021: dict | None = None) -> dict:
    """Normalised min t-DCF of a CM (our scores) in tandem with an ASV system's scores: the
    ASVspoof 2019 form (``min_tdcf``) and the revised 2021 one (``min_tdcf_2021``)."""
    c = {**ASV19_COST, **(cost or {})}
    r = {**ASV21_COST, **(cost_2021 or {})}
    tar, non, spf = (np.asarray(a, dtype=float) for a in (asv_target, asv_nontarget, asv_spoof))
    if tar.size == 0 or non.size == 0:
        raise ValueError("min t-DCF needs ASV scores for both target and non-target trials")
    y, _ = _arrays(labels, scores)
    if not _both_classes(y):
        return {"min_tdcf": None, "min_tdcf_2021": None, "threshold": None}
    asv = asv_operating_point(tar, non, spf)
    c1 = c["p_tar"] * (c["c_miss_cm"] - c["c_miss_asv"] * asv["p_miss_asv"]) \
        - c["p_non"] * c["c_fa_asv"] * asv["p_fa_asv"]
    c2 = c["c_fa_cm"] * c["p_spoof"] * (1 - asv["p_miss_spoof_asv"])
    if c1 <= 0 or c2 <= 0:
        raise ValueError(f"t-DCF undefined for this ASV system (C1={c1:.4g}, C2={c2:.4g}): its "
                         "errors make the countermeasure irrelevant; check the ASV score file")
    bona, spoof = _split(labels, scores)
    thr, p_miss, p_fa = cm_error_rates(bona, spoof)
    tdcf = (c1 * p_miss + c2 * p_fa) / min(c1, c2)
    i = int(np.argmin(tdcf))
    r0 = r["p_tar"] * r["c_miss"] * asv["p_miss_asv"] + r["p_non"] * r["c_fa"] * asv["p_fa_asv"]
    r1 = r["p_tar"] * r["c_miss"] - r0
    r2 = r["p_spoof"] * r["c_fa_spoof"] * (1 - asv["p_miss_spoof_asv"])
    tdcf21 = (r0 + r1 * p_miss + r2 * p_fa) / (r0 + min(r1, r2))
    j = int(np.argmin(tdcf21))
    return {"min_tdcf": float(tdcf[i]), "threshold": _score_threshold(thr[i]), "c1": float(c1),
            "c2": float(c2), "asv": asv, "min_tdcf_2021": float(tdcf21[j]),
            "threshold_2021": _score_threshold(thr[j]),
            "c012_2021": [float(r0), float(r1), float(r2)]}


def det_points(labels: Sequence[int], scores: Sequence[float]) -> dict[str, list[float]]:
    """DET curve: false-alarm rate (real called fake) against miss rate (fake called real)."""
    from sklearn.metrics import roc_curve

    y, s = _arrays(labels, scores)
    if not _both_classes(y):
        return {"p_fa": [], "p_miss": []}
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return {"p_fa": fpr.tolist(), "p_miss": (1 - tpr).tolist()}


def per_attack_eer(labels: Sequence[int], scores: Sequence[float],
                   attacks: Sequence[str]) -> dict[str, dict]:
    """EER of each attack's spoofs against every bona fide trial (the ASVspoof breakdown)."""
    y, s = _arrays(labels, scores)
    by: dict[str, list[int]] = defaultdict(list)
    for i, (lab, a) in enumerate(zip(y, attacks)):
        if lab == 1:
            by[a or "unknown"].append(i)
    bona = np.nonzero(y == 0)[0]
    out = {}
    for attack, idx in sorted(by.items()):
        sel = np.concatenate([bona, idx])
        rate, _ = eer(y[sel], s[sel])
        out[attack] = {"n_spoof": len(idx), "eer": rate}
    return out


def read_asv_scores(path: str | Path) -> dict[str, np.ndarray]:
    """ASV score file -> {"target", "nontarget", "spoof"} arrays.

    Each line ends with ``KEY SCORE`` where KEY is target, nontarget or spoof (the ASVspoof 2019
    ``*.asv.*.scores.txt`` files: ``SOURCE KEY SCORE``).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"ASV score file not found: {p}")
    out: dict[str, list[float]] = {"target": [], "nontarget": [], "spoof": []}
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2 or parts[-2] not in out:
            raise ValueError(f"{p} line {n}: expected '... KEY SCORE' with KEY target, nontarget "
                             f"or spoof, got '{line.strip()}'")
        try:
            out[parts[-2]].append(float(parts[-1]))
        except ValueError:
            raise ValueError(f"{p} line {n}: score '{parts[-1]}' is not a number") from None
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}
