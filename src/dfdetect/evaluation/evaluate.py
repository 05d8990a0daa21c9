"""``evaluate``: score a manifest split with a checkpoint (or an ensemble) and write a report.

The steps, in order: score the evaluated split; score the threshold split (validation) and choose
the threshold there, per level; compute frame- and video-level metrics with grouped bootstrap
intervals and per-method / per-source breakdowns; optionally re-score under perturbations; write
metrics.json, report.md, predictions.csv and the plots.

Example::

    result = evaluate(EvaluateConfig(ckpt="runs/demo/run/best.ckpt", data="manifest.csv"))
    result.report["levels"]["frame"]["metrics"]["auc"]
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from dfdetect.config.schema import EvaluateConfig
from dfdetect.data.manifest import COLUMNS, LABEL_INDEX, Manifest, ManifestError, Sample
from dfdetect.evaluation import levels as L
from dfdetect.evaluation.report import scored_what, write_report
from dfdetect.inference.scorers import build_scorer, parse_ckpt_spec
from dfdetect.metrics import binary_metrics
from dfdetect.modalities import ReportWords, get_modality

log = logging.getLogger(__name__)
SCHEMA_VERSION = 2


@dataclass
class EvalResult:
    out_dir: Path
    report: dict

    @property
    def metrics(self) -> dict:
        return self.report["overall"]


def data_key(data: str) -> str:
    """``<data name>-<8 hex of the resolved path>``: two manifests never share a report folder."""
    import hashlib
    import re

    p = Path(data).expanduser().resolve()
    stem = p.parent.name if p.suffix and p.stem == "manifest" else (p.stem or p.name)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "data"
    return f"{name}-{hashlib.sha1(str(p).encode()).hexdigest()[:8]}"


def _out_dir(cfg: EvaluateConfig, split: str) -> Path:
    """``out=``, else ``<checkpoint folder>/eval/<data key>/<split>`` (``all`` for an input
    without splits); an existing report there is refused unless ``overwrite=true`` (checked
    before any scoring)."""
    from dfdetect.config.loader import ConfigError

    if cfg.out:
        out, key = Path(cfg.out), "out="
    else:
        first = parse_ckpt_spec(cfg.ckpt)[0][0]
        sub = f"{data_key(cfg.data)}/{split or 'all'}"
        out, key = Path(first).resolve().parent / "eval" / sub, f"data and split ({sub})"
    if not cfg.overwrite and any((out / f).exists() for f in ("metrics.json", "report.md")):
        raise ConfigError(f"{out} already holds a report (folder chosen by {key}); pass "
                          "overwrite=true to replace it, or out=<another folder>")
    return out


def column_value(sample: Sample, column: str) -> str:
    """A manifest column of one row: a standard column, else an extra one ("" when absent)."""
    return str(getattr(sample, column)) if column in COLUMNS else sample.extra.get(column, "")


def by_columns(cfg: EvaluateConfig, manifest: Manifest) -> tuple[str, ...]:
    """The ``by=`` columns, each checked against the manifest (an unknown one names the rest)."""
    from dfdetect.config.loader import ConfigError

    wanted = tuple(c.strip() for c in cfg.by.split(",") if c.strip())
    available = sorted({k for s in manifest.samples for k in s.extra}
                       | {"method", "source", "group"})
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ConfigError(f"by={','.join(missing)}: {cfg.data} has no such column; available "
                          f"columns: {', '.join(available)}")
    return wanted


def score_manifest(manifest: Manifest, scorer, by: tuple[str, ...] = (), progress: str = ""
                   ) -> list[dict]:
    """One row per sample: ids, label, score or error, method, source, group, video, and the
    ``by`` columns' values (``row["by"]``). ``progress``: the name shown with files done, rate
    and ETA (:class:`~dfdetect.inference.progress.FileProgress`); empty shows nothing."""
    from dfdetect.inference.progress import FileProgress

    paths = [str(manifest.resolve(s)) for s in manifest.samples]
    with FileProgress(len(paths), progress, enabled=bool(progress)) as bar:
        return _rows(manifest, scorer.score(paths, bar.update), by)


def _rows(manifest: Manifest, predictions, by: tuple[str, ...]) -> list[dict]:
    rows = []
    for s, p in zip(manifest.samples, predictions):
        rows.append({"id": s.id, "path": s.path, "file": p.path, "label": s.label,
                     "target": LABEL_INDEX[s.label], "score": p.score, "status": p.status,
                     "error": p.error, "method": s.method, "source": s.source,
                     "group": s.group, "video": L.video_key(s),
                     "frame": s.extra.get("frame", ""),
                     "by": {c: column_value(s, c) for c in by}})
    return rows


def _shown(cfg: EvaluateConfig, name: str) -> str:
    return name if cfg.progress else ""


def _scored(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["status"] == "ok"]


def _level_rows(rows: list[dict], videos: bool, cfg: EvaluateConfig) -> dict[str, list[dict]]:
    ok = _scored(rows)
    out = {"frame": ok}
    if videos and ok:
        out["video"] = L.video_rows(ok, cfg.aggregation, cfg.topk)
    return out


def _thresholds(cfg: EvaluateConfig, manifest: Manifest, scorer, videos: bool) -> dict[str, dict]:
    """Per level: the threshold given, chosen on ``threshold_split``, or the checkpoint's."""
    split = cfg.threshold_split
    val_levels: dict[str, list[dict]] = {}
    if cfg.threshold < 0 and split:
        if split == cfg.split:
            log.warning("threshold_split equals the evaluated split '%s': the threshold is "
                        "tuned on the data it is scored on (optimistic)", split)
        val = manifest.where(split=split)
        if len(val):
            val_levels = _level_rows(score_manifest(val, scorer, progress=_shown(
                cfg, f"evaluate {split} (threshold)")), videos, cfg)
    names = ("frame", "video") if videos else ("frame",)
    return {lv: L.pick_threshold(val_levels.get(lv), cfg.threshold_rule, cfg.threshold,
                                 scorer.threshold, split, threshold_origin(scorer))
            for lv in names}


def threshold_origin(scorer) -> str:
    """Where the scorer's stored threshold was chosen ('' when a member holds only a default)."""
    metas = [m.meta for m in getattr(scorer, "members", [scorer])]
    origins = [str(m.get("threshold_source") or "") for m in metas]
    if not all(o and o != "checkpoint" for o in origins):  # "checkpoint": an export's default
        return ""
    if len(metas) == 1:
        return origins[0]
    return "; ".join(f"{m.get('path')}: {o}" for m, o in zip(metas, origins))


def sweep_spec(spec: str, samples) -> str:
    """``robustness=default``: the perturbations of the rows' modalities (images: jpeg, blur,
    resize; audio: codecs, noise, band limiting); any other spec as given."""
    if spec.strip().lower() != "default":
        return spec
    names: dict[str, None] = {}
    for kind in sorted({s.modality for s in samples}):
        names.update(dict.fromkeys(get_modality(kind).perturbations))
    return ",".join(names)


def _robustness(cfg: EvaluateConfig, subset: Manifest, scorer, videos: bool) -> list[dict]:
    """AUC per perturbation level (frame and, with videos, video level)."""
    from dfdetect.evaluation.robustness import parse_sweep, sweep_preprocessing

    results = []
    for name, level, fn in parse_sweep(sweep_spec(cfg.robustness, subset.samples),
                                       sweep_preprocessing(scorer.meta)):
        scorer.perturb = fn
        try:
            by_level = _level_rows(score_manifest(subset, scorer, progress=_shown(
                cfg, f"robustness {name} {level}")), videos, cfg)
        finally:
            scorer.perturb = None
        entry = {"perturbation": name, "level": level, "n": len(by_level["frame"])}
        for lv, rows in by_level.items():
            entry[f"auc_{lv}"] = binary_metrics([r["target"] for r in rows],
                                                [r["score"] for r in rows])["auc"]
        results.append(entry)
    return results


def _mistakes(rows: list[dict], threshold: float, n: int) -> list[dict]:
    """The ``n`` most confident wrong calls (highest P(fake) reals, lowest P(fake) fakes)."""
    wrong = [r for r in rows if (r["score"] >= threshold) != (r["target"] == 1)]
    wrong.sort(key=lambda r: -abs(r["score"] - threshold))
    return [{"id": r["id"], "path": r["path"], "file": r["file"], "label": r["label"],
             "score": r["score"], "method": r["method"], "video": r["video"]}
            for r in wrong[:n]]


def _open_subset(cfg: EvaluateConfig) -> tuple[Manifest, Manifest, str]:
    """(whole manifest, rows to score, the split scored). An input without any split (a plain
    folder of held-out media) is scored whole: split ``all``."""
    from dfdetect.data.load import open_dataset

    manifest = open_dataset(cfg.data, root=cfg.root, check_files=False, keep_unsplit=True)
    split = cfg.split if any(s.split for s in manifest.samples) else "all"
    subset = manifest.where(split=split or "all")
    if not len(subset):
        raise ManifestError(f"{cfg.data}: split '{cfg.split}' has no rows; "
                            f"counts: {manifest.counts()}")
    return manifest, subset, split


def _header(cfg: EvaluateConfig, rows: list[dict], videos: bool, split: str) -> dict:
    return {"schema_version": SCHEMA_VERSION, "checkpoint": str(cfg.ckpt),
            "models": [{"path": p, "weight": w} for p, w in parse_ckpt_spec(cfg.ckpt)],
            "backend": cfg.backend, "data": str(cfg.data), "split": split,
            "unsplit_input": split == "all" and cfg.split != "all",
            "aggregation": {"strategy": cfg.aggregation, "k": cfg.topk},
            "level": "video" if videos else "frame",
            "rows": len(rows), "failed": len(rows) - len(_scored(rows))}


def evaluate(cfg: EvaluateConfig, echo=print) -> EvalResult:
    """Metrics, report.md, metrics.json, predictions.csv and plots for one split."""
    from dfdetect.config.choices import check_choices

    check_choices(cfg)  # configs built in Python too
    if cfg.save_threshold:
        _writable_checkpoint(cfg)
    manifest, subset, split = _open_subset(cfg)
    out = _out_dir(cfg, split)
    by = by_columns(cfg, subset)
    videos = L.has_videos(subset.samples)
    scorer = build_scorer(cfg.ckpt, cfg.backend, cfg.device, cfg.batch_size, cfg.num_workers)
    if cfg.robustness:  # a sweep that does not fit the checkpoint fails before any scoring
        from dfdetect.evaluation.robustness import parse_sweep, sweep_preprocessing

        parse_sweep(sweep_spec(cfg.robustness, subset.samples), sweep_preprocessing(scorer.meta))
    rows = score_manifest(subset, scorer, by, progress=_shown(cfg, f"evaluate {split}"))
    if not _scored(rows):
        raise ManifestError(f"{cfg.data}: none of the {len(rows)} files could be scored "
                            f"(first error: {rows[0]['error']})")
    thresholds = _thresholds(cfg, manifest, scorer, videos)
    by_level = _level_rows(rows, videos, cfg)
    report = _header(cfg, rows, videos, split)
    report["levels"] = {lv: L.level_metrics(lr, thresholds[lv], cfg.bootstrap, cfg.seed, by)
                        for lv, lr in by_level.items()}
    top = report["levels"][report["level"]]
    report.update({"threshold_source": top["threshold"]["source"], "overall": top["metrics"],
                   "ci": top["ci"], "by_method": top["by_method"], "by_source": top["by_source"],
                   "by": top["by"],
                   "robustness": _robustness(cfg, subset, scorer, videos) if cfg.robustness else [],
                   "mistakes": _mistakes(by_level["frame"], thresholds["frame"]["value"],
                                         cfg.mistakes),
                   "failures": [{"path": r["path"], "reason": r["error"]} for r in rows
                                if r["status"] != "ok"]})
    prep = scorer.meta["preprocessing"]
    modality = get_modality(prep.get("modality", "image"))
    # the modality's own part (audio: report["audio"] with EER, minDCF, t-DCF, per attack + DET)
    section = modality.report_section(report, by_level["frame"], scorer.meta, cfg, out)
    write_report(report, rows, by_level, out, extra_markdown=section, words=modality.words,
                 thumbnail=lambda path, size: modality.thumbnail(path, prep, size))
    if cfg.save_threshold:
        echo(save_threshold(cfg, top["threshold"], report["level"]))
    echo(summary_line(report, out, modality.words))
    return EvalResult(out, report)


def _writable_checkpoint(cfg: EvaluateConfig) -> str:
    """The one .ckpt that save_threshold writes into (checked before any scoring)."""
    from dfdetect.config.loader import ConfigError

    members = parse_ckpt_spec(cfg.ckpt)
    if len(members) != 1 or not members[0][0].endswith(".ckpt"):
        raise ConfigError("save_threshold=true needs exactly one .ckpt (an ensemble or an ONNX "
                          "file has no checkpoint to write into)")
    return members[0][0]


def save_threshold(cfg: EvaluateConfig, threshold: dict, level: str) -> str:
    """Store the chosen threshold in the checkpoint (atomically) so ``predict`` applies it."""
    from dfdetect.checkpoint import read_checkpoint, save_checkpoint

    path = _writable_checkpoint(cfg)
    if not threshold["split"]:  # given, the checkpoint's own, or the default: nothing chosen
        return f"save_threshold: nothing to save (threshold {threshold['source']})"
    ckpt = read_checkpoint(path)
    ckpt["threshold"] = float(threshold["value"])
    ckpt["threshold_source"] = f"{threshold['source']} at {level} level on {cfg.data}"
    save_checkpoint(ckpt, path)
    return f"Saved threshold {threshold['value']:.4f} ({ckpt['threshold_source']}) into {path}"


def summary_line(report: dict, out: Path, words: ReportWords = ReportWords()) -> str:
    """One line for the terminal: level, AUC with its interval, EER, accuracy, threshold."""
    def f(v):
        return "n/a" if v is None else f"{v:.4f}"

    m, ci = report["overall"], report["ci"].get("auc", {})
    band = f" [{f(ci.get('low'))}, {f(ci.get('high'))}]" if ci.get("low") is not None else ""
    if ci.get("low") is None and ci.get("reason"):
        band = f" [interval not estimated: {ci['reason']}]"
    loud = ("WARNING: the decision threshold is a DEFAULT 0.5, not chosen on any data · "
            if report["threshold_source"].startswith("DEFAULT") else "")
    return (f"{loud}Evaluated {report['rows'] - report['failed']}/{report['rows']} rows "
            f"{scored_what(report)} ({words.level(report['level'])} level, {m['n']} units): "
            f"AUC {f(m['auc'])}"
            f"{band} · EER {f(m['eer'])} · accuracy {f(m['accuracy'])} · macro F1 "
            f"{f(m['f1_macro'])} at threshold {m['threshold']:.4f} "
            f"({report['threshold_source']}) -> {out / 'report.md'}")

