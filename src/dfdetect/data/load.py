"""Turn what a user points at (manifest CSV, labels CSV, real/fake folder) into a manifest.

Example::

    m = open_dataset("data/faces/manifest.csv")   # or a folder with real/ and fake/
"""
from __future__ import annotations

import csv
import logging
from pathlib import Path

from dfdetect.data.adapters import build_manifest
from dfdetect.io import TEXT_ERRORS
from dfdetect.data.manifest import (Manifest, ManifestError, group_split, parse_ratios,
                                    read_manifest, validate)

log = logging.getLogger(__name__)


def _csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8", errors=TEXT_ERRORS) as f:
        return next(csv.reader(f), [])


def open_dataset(data: str, *, root: str = "", real_label: str = "real",
                 fake_label: str = "fake", split_ratio: str = "0.7,0.15,0.15", seed: int = 42,
                 check_files: bool = True, keep_unsplit: bool = False) -> Manifest:
    """Read or build a manifest, split rows that have no split (by group), and validate it.

    ``keep_unsplit``: an input in which no row has a split (a plain folder, a labels CSV without
    a split column) stays unsplit, so ``evaluate`` scores every file of held-out media."""
    if not data:
        raise ManifestError("no data given: pass data=<manifest.csv or folder>")
    p = Path(data).expanduser()
    labels = {"real_label": real_label, "fake_label": fake_label}
    if p.is_dir():
        if (p / "manifest.csv").is_file():
            manifest = read_manifest(p / "manifest.csv", root or None)
        elif (p / real_label).is_dir() or (p / fake_label).is_dir():
            manifest = build_manifest("folder", str(p), **labels)
        elif (p / "labels.csv").is_file():
            manifest = build_manifest("labels_csv", str(p), **labels)
        else:
            raise ManifestError(f"{p}: no manifest.csv, labels.csv or {real_label}/ and "
                                f"{fake_label}/ folders inside")
    elif p.is_file():
        header = _csv_header(p)
        manifest = (read_manifest(p, root or None) if "id" in header
                    else build_manifest("labels_csv", str(p), **labels))
    else:
        raise ManifestError(f"data not found: {p}")
    unsplit = not any(s.split for s in manifest.samples)
    if any(not s.split for s in manifest.samples) and not (keep_unsplit and unsplit):
        manifest.samples = group_split(manifest.samples, parse_ratios(split_ratio), seed)
        log.info("split %s by group with ratios %s (seed %d): %s", manifest.name, split_ratio,
                 seed, manifest.counts())
    validate(manifest, check_files=check_files)
    return manifest
