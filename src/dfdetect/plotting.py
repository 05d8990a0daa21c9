"""Headless matplotlib and atomic PNG writes: the two things every plot in dfdetect needs.

Why a module of its own: evaluation reports and the modalities' report sections (the audio DET
curve) both draw figures; keeping the shared helpers at the bottom of the import graph lets a
modality draw without importing the evaluation stage.
"""
from __future__ import annotations

from pathlib import Path

from dfdetect.io import atomic_write


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> None:
    """Write ``fig`` as a PNG atomically, then close it."""
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))
    pyplot().close(fig)
