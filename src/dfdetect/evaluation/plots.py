"""PNG plots of a report: ROC (per level and per method), score histograms, confusion matrix,
and a contact sheet of the most confident mistakes. matplotlib runs headless (Agg)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from dfdetect.io import atomic_write
from dfdetect.metrics import binary_metrics, roc_points


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> None:
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))
    _plt().close(fig)


def _curve(ax, rows: list[dict], label: str) -> None:
    y, s = [r["target"] for r in rows], [r["score"] for r in rows]
    pts = roc_points(y, s)
    if pts["fpr"]:
        ax.plot(pts["fpr"], pts["tpr"], label=f"{label} (AUC {binary_metrics(y, s)['auc']:.3f})")


def _roc_axes(title: str):
    fig, ax = _plt().subplots(figsize=(4.8, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="chance")
    ax.set(xlabel="false positive rate (real called fake)",
           ylabel="true positive rate (fake caught)", title=title, xlim=(0, 1), ylim=(0, 1.01))
    return fig, ax


def plot_roc(levels: dict[str, list[dict]], path: Path) -> None:
    """One ROC curve per level (frame, video) on one axis."""
    fig, ax = _roc_axes("ROC")
    for name, rows in levels.items():
        _curve(ax, rows, f"{name} level")
    ax.legend(loc="lower right", fontsize=8)
    save_figure(fig, path)


def plot_roc_by_method(rows: list[dict], path: Path, title: str = "") -> None:
    """ROC of each fake method against every real, plus the overall curve."""
    fig, ax = _roc_axes(f"ROC by method ({title})" if title else "ROC by method")
    _curve(ax, rows, "all")
    reals = [r for r in rows if r["target"] == 0]
    methods: dict[str, list] = defaultdict(list)
    for r in rows:
        if r["target"] == 1 and r["method"]:
            methods[r["method"]].append(r)
    for name, fakes in sorted(methods.items()):
        _curve(ax, reals + fakes, name)
    ax.legend(loc="lower right", fontsize=7)
    save_figure(fig, path)


def plot_histogram(rows: list[dict], threshold: float, path: Path) -> None:
    """Score histograms of real and fake with the decision threshold marked."""
    fig, ax = _plt().subplots(figsize=(5.5, 3.6))
    bins = [i / 40 for i in range(41)]
    for target, name, colour in ((0, "real", "tab:blue"), (1, "fake", "tab:red")):
        ax.hist([r["score"] for r in rows if r["target"] == target], bins=bins, alpha=0.55,
                label=name, color=colour)
    ax.axvline(threshold, color="black", lw=1, ls="--", label=f"threshold {threshold:.3f}")
    ax.set(xlabel="score = P(fake)", ylabel="count", title="Scores per class", xlim=(0, 1))
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_confusion(cm: list[list[int]], path: Path) -> None:
    """2x2 confusion matrix with counts in the cells."""
    fig, ax = _plt().subplots(figsize=(3.8, 3.4))
    ax.imshow(cm, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(cm[i][j]), ha="center", va="center", fontsize=12)
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["real", "fake"],
           yticklabels=["real", "fake"], xlabel="predicted", ylabel="true",
           title="Confusion matrix")
    save_figure(fig, path)


def contact_sheet(mistakes: list[dict], path: Path, thumb: int = 112, cols: int = 6) -> Path:
    """A grid of thumbnails captioned with label and P(fake); unreadable files get a grey tile."""
    import io

    from PIL import Image, ImageDraw, ImageOps

    n = max(1, len(mistakes))
    rows = (n + cols - 1) // cols
    sheet = Image.new("RGB", (cols * thumb, rows * (thumb + 26)), "white")
    draw = ImageDraw.Draw(sheet)
    if not mistakes:
        draw.text((6, 6), "no mistakes", fill="black")
    for i, m in enumerate(mistakes):
        x, y = (i % cols) * thumb, (i // cols) * (thumb + 26)
        try:
            with Image.open(m["file"]) as im:
                tile = ImageOps.contain(im.convert("RGB"), (thumb - 4, thumb - 4))
        except (OSError, ValueError):
            tile = Image.new("RGB", (thumb - 4, thumb - 4), "lightgrey")
        sheet.paste(tile, (x + 2, y + 2))
        draw.text((x + 3, y + thumb), f"{m['label']} p={m['score']:.2f}", fill="black")
        draw.text((x + 3, y + thumb + 12), str(m["id"])[:18], fill="dimgrey")
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return atomic_write(path, lambda f: f.write(buf.getvalue()))
