"""``dfdetect compare runs/a runs/b``: the headline metrics of several reports side by side.

Reads only the reports' ``metrics.json`` (stable keys), so runs evaluated on other machines or
by older versions compare as long as the file is there. A run folder may hold several reports
(``eval/<data>-<hash>/test``, ``.../val``): each becomes its own column.

Example::

    text = compare(CompareConfig(runs="runs/a,runs/b"))
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from dfdetect.config.schema import CompareConfig
from dfdetect.io import atomic_write_text

ROWS = ("n", "auc", "eer", "average_precision", "tpr_at_fpr_1", "tpr_at_fpr_5", "accuracy",
        "balanced_accuracy", "f1_macro", "threshold")


class CompareError(FileNotFoundError):
    """A path given to compare that holds no metrics.json."""


def find_reports(path: str | os.PathLike) -> list[Path]:
    """metrics.json files: the file itself, the one in a folder, or every one below a run."""
    p = Path(path)
    if p.is_file():
        return [p]
    if (p / "metrics.json").is_file():
        return [p / "metrics.json"]
    found = sorted(p.rglob("metrics.json")) if p.is_dir() else []
    if not found:
        raise CompareError(f"{p}: no metrics.json found (run `dfdetect evaluate` first, or "
                           "point at the report folder)")
    return found


def _levels(report: dict) -> dict[str, dict]:
    """level -> metrics (reports without levels have only 'overall' at their one level)."""
    if "levels" in report:
        return {lv: b["metrics"] for lv, b in report["levels"].items()}
    return {report.get("level", "frame"): report["overall"]}


def _cell(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def comparison_table(reports: dict[str, dict], level: str = "") -> str:
    """Markdown table: one row per (level, metric), one column per report."""
    names = list(reports)
    per = {n: _levels(r) for n, r in reports.items()}
    wanted = [level] if level else [lv for lv in ("video", "frame")
                                    if any(lv in p for p in per.values())]
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for lv in wanted:
        for key in ROWS:
            cells = [_cell(per[n].get(lv, {}).get(key)) for n in names]
            lines.append(f"| {lv} {key} | " + " | ".join(cells) + " |")
    for key, label in (("threshold_source", "threshold from"), ("split", "split")):
        lines.append(f"| {label} | " + " | ".join(str(reports[n].get(key, "")) for n in names)
                     + " |")
    agg = [reports[n].get("aggregation", {}).get("strategy", "") for n in names]
    lines.append("| aggregation | " + " | ".join(agg) + " |")
    return "\n".join(lines)


def _label(report_path: Path, given: Path) -> str:
    if report_path.parent == given or report_path == given:
        return given.name or str(given)
    return f"{given.name}/{report_path.parent.relative_to(given).as_posix()}"


def compare(cfg: CompareConfig, echo=print) -> str:
    """Print (and with ``out=`` write) the side-by-side table of the given reports."""
    given = [Path(p.strip()) for p in cfg.runs.split(",") if p.strip()]
    if len(given) < 1:
        raise CompareError("nothing to compare: dfdetect compare runs/a runs/b")
    reports: dict[str, dict] = {}
    for g in given:
        for path in find_reports(g):
            label = _label(path, g)
            while label in reports:  # the same folder name under two parents
                label = f"{label}'"
            reports[label] = json.loads(path.read_text())
    text = comparison_table(reports, cfg.level)
    echo(text)
    if cfg.out:
        atomic_write_text(cfg.out, text + "\n")
    return text
