"""Report files: metrics.json (stable keys), report.md (for people), predictions.csv, PNG plots.

Why both: metrics.json is what ``dfdetect compare`` and scripts read (its keys do not move);
report.md is what a person reads, with every number's level, threshold and its source stated.
"""
from __future__ import annotations

import json
from pathlib import Path

from dfdetect.evaluation import plots
from dfdetect.inference.writers import write_table
from dfdetect.io import atomic_write_text
from dfdetect.modalities.base import ReportWords

IMAGE_WORDS = ReportWords()  # images and frames; other modalities bring their own

HEADLINE = ("auc", "eer", "eer_threshold", "average_precision", "tpr_at_fpr_1", "tpr_at_fpr_5",
            "accuracy", "balanced_accuracy", "f1_macro")
PREDICTION_COLUMNS = ["id", "path", "label", "score", "pred", "status", "error", "group",
                      "method", "source", "video", "frame"]


def fmt_value(v) -> str:
    return "n/a" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))


def write_json(metrics: dict, path: Path) -> Path:
    """metrics.json, pretty-printed, keys in insertion order."""
    return atomic_write_text(path, json.dumps(metrics, indent=2) + "\n")


def _ci(block: dict, key: str) -> str:
    c = block["ci"].get(key)
    if not c:
        return ""
    if c["low"] is None:
        return "not estimated"
    return f"[{c['low']:.4f}, {c['high']:.4f}]"


def ci_note(block: dict, words: ReportWords = IMAGE_WORDS) -> str:
    """How the 95 % intervals were made, or why there are none (never a zero-width one)."""
    if not block["ci"]:
        return "no 95 % intervals (bootstrap=0)"
    reasons = {c.get("reason") for c in block["ci"].values() if c["n"] == 0}
    if reasons - {None}:
        return (f"95 % interval not estimated: {sorted(reasons - {None})[0]}; the bootstrap "
                f"resamples whole {words.units}")
    return f"95 % CI by bootstrap over {block['units']} {words.units}"


def threshold_text(thr: dict, data: str) -> str:
    """Where the threshold came from: given, chosen on which split by which rule, or stored."""
    if thr["split"]:
        return (f"{thr['value']:.4f}, chosen on split '{thr['split']}' of `{data}` by rule "
                f"{thr['rule']} ({thr['source']})")
    if thr["source"] == "given":
        return f"{thr['value']:.4f}, given as threshold="
    return f"{thr['value']:.4f} from {thr['source']}"


def _level_section(name: str, block: dict, report: dict, words: ReportWords) -> list[str]:
    m, thr = block["metrics"], block["threshold"]
    title = words.level(name)
    unit = words.rows if name == "frame" else f"{title}s"
    lines = [f"## {title.capitalize()} level", "",
             f"{m['n']} {unit} ({m['n_real']} real / {m['n_fake']} fake); threshold "
             f"{threshold_text(thr, report['data'])}; {ci_note(block, words)}", "",
             "| metric | value | 95 % CI |", "|---|---|---|"]
    lines += [f"| {k} | {fmt_value(m[k])} | {_ci(block, k)} |" for k in HEADLINE]
    lines += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for cls, c in m["per_class"].items():
        lines.append(f"| {cls} | {c['precision']:.4f} | {c['recall']:.4f} | {c['f1']:.4f} | "
                     f"{c['support']} |")
    (tn, fp), (fn, tp) = m["confusion_matrix"]
    lines += ["", "Confusion matrix (rows: true, columns: predicted)", "",
              "| | real | fake |", "|---|---|---|", f"| real | {tn} | {fp} |",
              f"| fake | {fn} | {tp} |"]
    tables = [("method", block.get("by_method")), ("source", block.get("by_source")),
              *block.get("by", {}).items()]
    for key, table in tables:
        if table:
            lines += ["", f"### By {key} ({title} level)", "",
                      f"| {key} | n | real | fake | accuracy | AUC | EER | AP | TPR@FPR5% |",
                      "|---|---|---|---|---|---|---|---|---|"]
            lines += [f"| {k} | {r['n']} | {r['n_real']} | {r['n_fake']} | "
                      f"{fmt_value(r['accuracy'])} | {fmt_value(r['auc'])} | "
                      f"{fmt_value(r['eer'])} | {fmt_value(r['average_precision'])} | "
                      f"{fmt_value(r['tpr_at_fpr_5'])} |" for k, r in table.items()]
            if any(r.get("reals") == "all" for r in table.values()):
                lines += ["", f"A {key} with fakes only is compared with every real."]
    return lines + [""]


def _extras(report: dict, words: ReportWords) -> list[str]:
    lines = []
    if report["robustness"]:
        levels = [k for k in report["robustness"][0] if k.startswith("auc_")]
        heads = [f"AUC ({words.level(k[4:])} level)" for k in levels]
        lines += ["## Robustness (AUC under perturbation)", "",
                  "| perturbation | level | " + " | ".join(heads) + " |",
                  "|---|---|" + "---|" * len(levels)]
        lines += [f"| {r['perturbation']} | {r['level']:g} | "
                  + " | ".join(fmt_value(r[k]) for k in levels) + " |" for r in report["robustness"]]
        lines.append("")
    if report["mistakes"]:
        lines += [f"## Most confident mistakes ({words.level('frame')} level, furthest from the "
                  "threshold; thumbnails in `mistakes.png`)", "",
                  "| id | label | P(fake) | method |", "|---|---|---|---|"]
        lines += [f"| {m['id']} | {m['label']} | {m['score']:.4f} | {m['method']} |"
                  for m in report["mistakes"]]
        lines.append("")
    if report["failures"]:
        lines += [f"## Failed files ({len(report['failures'])}; not scored, not in any metric)",
                  ""] + [f"- `{f['path']}`: {f['reason']}" for f in report["failures"][:20]] + [""]
    return lines


def scored_what(report: dict) -> str:
    """Which rows were scored: ``of split 'test'``, or every file of an input without splits."""
    if report.get("unsplit_input"):
        return f"(scored all {report['rows']} files: the input has no split)"
    return f"of split '{report['split']}'"


def render_markdown(report: dict, words: ReportWords = IMAGE_WORDS) -> str:
    """report.md: the conventions, one section per level, robustness, mistakes, failures."""
    agg = report["aggregation"]
    pooled = (f" · video score = `{agg['strategy']}` of frame scores (k={agg['k']})"
              if "video" in report["levels"] else "")
    lines = [f"# Evaluation: {report['checkpoint']}", "",
             f"- data: `{report['data']}` {scored_what(report).strip('()')} · "
             f"{report['rows'] - report['failed']} rows scored, {report['failed']} failed",
             f"- headline level: **{words.level(report['level'])}**{pooled} · score = P(fake), "
             "fake when score ≥ threshold",
             f"- backend: {report['backend']} · models: "
             + ", ".join(f"`{m['path']}` ×{m['weight']:.2f}" for m in report["models"]), ""]
    if any(b["threshold"]["source"].startswith("DEFAULT") for b in report["levels"].values()):
        lines += ["> **Warning: the decision threshold is a DEFAULT 0.5, not chosen on any "
                  "data.** Accuracy, F1 and the confusion matrix use it; choose one on a "
                  "validation split (threshold_split=val) or pass threshold=.", ""]
    for name in ("video", "frame"):
        if name in report["levels"]:
            lines += _level_section(name, report["levels"][name], report, words)
    lines += _extras(report, words)
    lines += ["Plots: `roc.png`, `roc_by_method.png`, `score_histogram.png`, "
              "`confusion_matrix.png`, `mistakes.png`. Per-row scores: `predictions.csv`"
              + (", per-video: `videos.csv`." if "video" in report["levels"] else "."), ""]
    return "\n".join(lines)


def write_report(report: dict, rows: list[dict], by_level: dict[str, list[dict]],
                 out: Path, extra_markdown: str = "", words: ReportWords = IMAGE_WORDS,
                 thumbnail=None) -> None:
    """Every report file into ``out`` (each written atomically); ``extra_markdown`` (the
    modality's section, e.g. audio) is appended to report.md; ``words`` and ``thumbnail``
    (``(path, size) -> PIL image``) come from the modality."""
    thr = report["levels"]["frame"]["threshold"]["value"]
    for r in rows:
        r["pred"] = "" if r["score"] is None else ("fake" if r["score"] >= thr else "real")
    write_table(rows, out / "predictions.csv", PREDICTION_COLUMNS)
    if "video" in by_level:
        write_table(by_level["video"], out / "videos.csv",
                    ["id", "label", "score", "n_frames", "method", "source"])
    write_json(report, out / "metrics.json")
    atomic_write_text(out / "report.md", render_markdown(report, words) + extra_markdown)
    top = report["level"]
    plots.plot_roc({words.level(lv): rs for lv, rs in by_level.items()}, out / "roc.png")
    plots.plot_roc_by_method(by_level[top], out / "roc_by_method.png",
                             title=f"{words.level(top)} level")
    plots.plot_histogram(by_level[top], report["overall"]["threshold"], out / "score_histogram.png")
    plots.plot_confusion(report["overall"]["confusion_matrix"], out / "confusion_matrix.png")
    plots.contact_sheet(report["mistakes"], out / "mistakes.png", thumbnail=thumbnail)
