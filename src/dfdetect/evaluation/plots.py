"""PNG plots of a report: ROC (per level and per method), score histograms, confusion matrix,
and a contact sheet of the most confident mistakes. matplotlib runs headless (Agg)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Callable

from dfdetect.io import atomic_write
from dfdetect.metrics import binary_metrics, roc_points
from dfdetect.plotting import pyplot as _plt
from dfdetect.plotting import save_figure  # noqa: F401  (re-exported: plots.save_figure)

TOP_METHODS = 8  # ROC by method: the hardest methods drawn, the rest pooled into one curve


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


def method_curves(rows: list[dict], top: int = TOP_METHODS) -> list[tuple[str, list[dict]]]:
    """(label, rows) per curve of the ROC-by-method plot: every method's fakes against every
    real; beyond ``top`` methods, the ``top`` hardest (lowest AUC) are kept and the rest pooled
    into one ``other (K methods)`` curve, so 90 attack systems stay readable."""
    reals = [r for r in rows if r["target"] == 0]
    methods: dict[str, list] = defaultdict(list)
    for r in rows:
        if r["target"] == 1 and r["method"]:
            methods[r["method"]].append(r)
    names = sorted(methods)
    if len(names) > top:
        auc = {n: binary_metrics([r["target"] for r in reals + methods[n]],
                                 [r["score"] for r in reals + methods[n]])["auc"] for n in names}
        names = sorted(names, key=lambda n: (auc[n] is None, auc[n] or 0.0, n))
        rest = names[top:]
        pooled = [r for n in rest for r in methods[n]]
        return ([(n, reals + methods[n]) for n in sorted(names[:top])]
                + [(f"other ({len(rest)} methods)", reals + pooled)])
    return [(n, reals + methods[n]) for n in names]


def plot_roc_by_method(rows: list[dict], path: Path, title: str = "",
                       top: int = TOP_METHODS) -> None:
    """ROC of each fake method against every real (see :func:`method_curves`), plus the overall
    curve; the legend sits beside the axes, not over the curves."""
    n = len({r["method"] for r in rows if r["target"] == 1 and r["method"]})
    note = "; ".join(x for x in (title, f"{top} hardest of {n}" if n > top else "") if x)
    fig, ax = _roc_axes(f"ROC by method ({note})" if note else "ROC by method")
    _curve(ax, rows, "all")
    for name, subset in method_curves(rows, top):
        _curve(ax, subset, name)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
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


def _image_thumbnail(path, size: int):
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return ImageOps.contain(im.convert("RGB"), (size, size))


def contact_sheet(mistakes: list[dict], path: Path, thumb: int = 112, cols: int = 6,
                  thumbnail: Callable | None = None) -> Path:
    """A grid of thumbnails captioned with label and P(fake); unreadable files get a grey tile.

    ``thumbnail(path, size) -> PIL image`` draws one file (the modality's: an image, or an
    audio clip's spectrogram); default: the file opened as an image.
    """
    import io

    from PIL import Image, ImageDraw

    draw_one = thumbnail or _image_thumbnail

    n = max(1, len(mistakes))
    rows = (n + cols - 1) // cols
    sheet = Image.new("RGB", (cols * thumb, rows * (thumb + 26)), "white")
    draw = ImageDraw.Draw(sheet)
    if not mistakes:
        draw.text((6, 6), "no mistakes", fill="black")
    for i, m in enumerate(mistakes):
        x, y = (i % cols) * thumb, (i // cols) * (thumb + 26)
        try:
            tile = draw_one(m["file"], thumb - 4)
        except (OSError, ValueError):  # includes DecodeError
            tile = Image.new("RGB", (thumb - 4, thumb - 4), "lightgrey")
        sheet.paste(tile, (x + 2, y + 2))
        draw.text((x + 3, y + thumb), f"{m['label']} p={m['score']:.2f}", fill="black")
        draw.text((x + 3, y + thumb + 12), str(m["id"])[:18], fill="dimgrey")
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return atomic_write(path, lambda f: f.write(buf.getvalue()))
