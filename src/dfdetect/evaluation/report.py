"""Report files: metrics.json (stable keys), report.md (for people), predictions.csv, PNG plots."""
from __future__ import annotations

import json
from pathlib import Path

from dfdetect.io import atomic_write, atomic_write_text


def _fmt(v) -> str:
    return "n/a" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))


def write_json(metrics: dict, path: Path) -> Path:
    """metrics.json, pretty-printed, keys in insertion order."""
    return atomic_write_text(path, json.dumps(metrics, indent=2) + "\n")


def render_markdown(report: dict) -> str:
    """report.md: headline metrics, per-class table, confusion matrix and breakdowns."""
    m = report["overall"]
    lines = [f"# Evaluation: {report['checkpoint']}", "",
             f"- data: `{report['data']}` split `{report['split']}` · {m['n']} scored "
             f"({m['n_real']} real / {m['n_fake']} fake), {report['failed']} failed",
             f"- level: {report['level']} · threshold {m['threshold']:.4f} "
             f"({report['threshold_source']}) · score = P(fake), fake when score ≥ threshold", "",
             "| metric | value |", "|---|---|"]
    for key in ("auc", "eer", "eer_threshold", "average_precision", "accuracy",
                "balanced_accuracy", "f1_macro"):
        lines.append(f"| {key} | {_fmt(m[key])} |")
    lines += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, c in m["per_class"].items():
        lines.append(f"| {name} | {c['precision']:.4f} | {c['recall']:.4f} | {c['f1']:.4f} | "
                     f"{c['support']} |")
    (tn, fp), (fn, tp) = m["confusion_matrix"]
    lines += ["", "Confusion matrix (rows: true, columns: predicted)", "",
              "| | real | fake |", "|---|---|---|", f"| real | {tn} | {fp} |",
              f"| fake | {fn} | {tp} |"]
    for title, key in (("method", "by_method"), ("source", "by_source")):
        if report.get(key):
            lines += ["", f"## By {title}", "", f"| {title} | n | accuracy | AUC | EER |",
                      "|---|---|---|---|---|"]
            for name, r in report[key].items():
                lines.append(f"| {name} | {r['n']} | {_fmt(r['accuracy'])} | {_fmt(r['auc'])} "
                             f"| {_fmt(r['eer'])} |")
    lines += ["", "Plots: `roc.png`, `confusion_matrix.png`. Per-sample scores: "
              "`predictions.csv`.", ""]
    return "\n".join(lines)


def _save_fig(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))
    plt.close(fig)


def plot_roc(roc: dict, auc: float | None, path: Path) -> None:
    """ROC curve with the chance diagonal."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    if roc["fpr"]:
        ax.plot(roc["fpr"], roc["tpr"], label=f"AUC = {auc:.3f}")
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="chance")
    ax.set(xlabel="false positive rate (real called fake)",
           ylabel="true positive rate (fake caught)", title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    _save_fig(fig, path)


def plot_confusion(cm: list[list[int]], path: Path) -> None:
    """2x2 confusion matrix with counts in the cells."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.8, 3.4))
    ax.imshow(cm, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(cm[i][j]), ha="center", va="center", fontsize=12)
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["real", "fake"],
           yticklabels=["real", "fake"], xlabel="predicted", ylabel="true",
           title="Confusion matrix")
    _save_fig(fig, path)
