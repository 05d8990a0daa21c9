"""``evaluate``: score a manifest split with a checkpoint and write a report folder."""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from dfdetect.config.schema import EvaluateConfig
from dfdetect.data.manifest import LABEL_INDEX, Manifest, ManifestError
from dfdetect.evaluation.report import plot_confusion, plot_roc, render_markdown, write_json
from dfdetect.inference.predictor import Predictor
from dfdetect.inference.writers import write_table
from dfdetect.io import atomic_write_text
from dfdetect.metrics import binary_metrics, roc_points

log = logging.getLogger(__name__)


@dataclass
class EvalResult:
    out_dir: Path
    report: dict

    @property
    def metrics(self) -> dict:
        return self.report["overall"]


def _subset_metrics(rows: list[dict], threshold: float) -> dict:
    m = binary_metrics([r["target"] for r in rows], [r["score"] for r in rows], threshold)
    return {k: m[k] for k in ("n", "accuracy", "auc", "eer")}


def breakdowns(rows: list[dict], threshold: float) -> tuple[dict, dict]:
    """Per fake method (its fakes against every real) and per source dataset."""
    reals = [r for r in rows if r["target"] == 0]
    methods: dict[str, list] = defaultdict(list)
    sources: dict[str, list] = defaultdict(list)
    for r in rows:
        if r["target"] == 1 and r["method"]:
            methods[r["method"]].append(r)
        if r["source"]:
            sources[r["source"]].append(r)
    by_method = {m: _subset_metrics(reals + fakes, threshold) for m, fakes in sorted(methods.items())}
    by_source = {s: _subset_metrics(rs, threshold) for s, rs in sorted(sources.items())}
    return by_method, by_source


def _out_dir(cfg: EvaluateConfig) -> Path:
    if cfg.out:
        return Path(cfg.out)
    return Path(cfg.ckpt).resolve().parent / "eval" / (cfg.split or "all")


def _score_manifest(manifest: Manifest, predictor: Predictor) -> list[dict]:
    paths = [str(manifest.resolve(s)) for s in manifest.samples]
    rows = []
    for s, p in zip(manifest.samples, predictor.score(paths)):
        rows.append({"id": s.id, "path": s.path, "label": s.label, "target": LABEL_INDEX[s.label],
                     "score": p.score, "status": p.status, "error": p.error,
                     "method": s.method, "source": s.source, "group": s.group})
    return rows


def evaluate(cfg: EvaluateConfig, echo=print) -> EvalResult:
    """Metrics, report.md, metrics.json, predictions.csv and plots for one split."""
    from dfdetect.data.load import open_dataset

    manifest = open_dataset(cfg.data, root=cfg.root, check_files=False)
    subset = manifest.where(split=cfg.split or "all")
    if not len(subset):
        raise ManifestError(f"{cfg.data}: split '{cfg.split}' has no rows; "
                            f"counts: {manifest.counts()}")
    predictor = Predictor.from_checkpoint(cfg.ckpt, cfg.device, cfg.batch_size, cfg.num_workers)
    threshold = predictor.threshold if cfg.threshold < 0 else cfg.threshold
    rows = _score_manifest(subset, predictor)
    ok = [r for r in rows if r["status"] == "ok"]
    if not ok:
        raise ManifestError(f"{cfg.data}: none of the {len(rows)} files could be scored "
                            f"(first error: {rows[0]['error']})")
    overall = binary_metrics([r["target"] for r in ok], [r["score"] for r in ok], threshold)
    by_method, by_source = breakdowns(ok, threshold)
    report = {"checkpoint": str(cfg.ckpt), "data": str(cfg.data), "split": cfg.split,
              "level": "sample", "threshold_source": "given" if cfg.threshold >= 0 else "checkpoint",
              "failed": len(rows) - len(ok), "overall": overall, "by_method": by_method,
              "by_source": by_source,
              "failures": [{"path": r["path"], "reason": r["error"]} for r in rows
                           if r["status"] != "ok"]}
    out = _out_dir(cfg)
    # issue 6: audio checkpoints add report["audio"] (EER, minDCF, t-DCF, per attack) + DET plot
    from dfdetect.evaluation.audio_report import audio_section
    audio_md = audio_section(report, ok, predictor.meta, cfg, out)
    for r in rows:
        r["pred"] = "" if r["score"] is None else ("fake" if r["score"] >= threshold else "real")
    write_table(rows, out / "predictions.csv",
                ["id", "path", "label", "score", "pred", "status", "error", "group", "method"])
    write_json(report, out / "metrics.json")
    atomic_write_text(out / "report.md", render_markdown(report) + audio_md)
    plot_roc(roc_points([r["target"] for r in ok], [r["score"] for r in ok]), overall["auc"],
             out / "roc.png")
    plot_confusion(overall["confusion_matrix"], out / "confusion_matrix.png")
    auc = "n/a" if overall["auc"] is None else f"{overall['auc']:.4f}"
    eer = "n/a" if overall["eer"] is None else f"{overall['eer']:.4f}"
    echo(f"Evaluated {len(ok)}/{len(rows)} samples of split '{cfg.split}': AUC {auc} · "
         f"EER {eer} · accuracy {overall['accuracy']:.4f} · macro F1 "
         f"{overall['f1_macro']:.4f} -> {out / 'report.md'}")
    return EvalResult(out, report)
