"""A labels CSV beside the media: ``path,label[,group,source,split,method|system,...]``.

Like ``faces_flux/labels.csv``: paths relative to the CSV's folder; labels named by
``real_label`` / ``fake_label`` (e.g. ``bonafide`` / ``spoof``) are mapped to real / fake; a
``system`` or ``generator`` column is read as the method. Every other column (``generator``,
``difficulty``, ...) is kept in the manifest as an extra column, so ``evaluate by=<column>`` can
break results down by it.
"""
from __future__ import annotations

import csv
from pathlib import Path

from dfdetect.data.adapters import ADAPTERS, modality_of
from dfdetect.data.manifest import COLUMNS, Manifest, ManifestError, Sample
from dfdetect.io import TEXT_ERRORS

_METHOD_COLUMNS = ("method", "system", "generator", "attack")


@ADAPTERS.register("labels_csv")
def labels_csv(root: str, real_label: str = "real", fake_label: str = "fake",
               **_: object) -> Manifest:
    """Manifest from a labels CSV (``root`` is the CSV, or a folder holding ``labels.csv``)."""
    path = Path(root)
    if path.is_dir():
        path = path / "labels.csv"
    if not path.is_file():
        raise ManifestError(f"labels CSV not found: {path}")
    names = {real_label: "real", fake_label: "fake", "real": "real", "fake": "fake"}
    samples = []
    # utf-8-sig: a BOM from a spreadsheet export is not part of the first column's name;
    # surrogateescape: a path that is not valid UTF-8 comes back as the same bytes on disk
    with path.open(newline="", encoding="utf-8-sig", errors=TEXT_ERRORS) as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"path", "label"} <= set(reader.fieldnames):
            raise ManifestError(f"{path}: needs 'path' and 'label' columns, found "
                                f"{reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            label = names.get((row.get("label") or "").strip())
            if label is None:
                raise ManifestError(f"{path} line {line}: unknown label '{row['label']}' "
                                    f"(expected {real_label} or {fake_label})")
            rel = (row.get("path") or "").strip()
            if not rel:
                raise ManifestError(f"{path} line {line}: empty path")
            method = next((row[c] for c in _METHOD_COLUMNS if row.get(c)), "")
            samples.append(Sample(
                id=Path(rel).as_posix(), path=rel, label=label,
                split=(row.get("split") or "").strip(), group=(row.get("group") or "").strip(),
                source=(row.get("source") or path.parent.name).strip(),
                method=method or ("none" if label == "real" else ""),
                modality=modality_of(Path(rel).suffix) or "image",
                extra={k: (v or "").strip() for k, v in row.items()
                       if k and k not in COLUMNS and k != "label"}))
    return Manifest(samples, path.parent.resolve(), name=path.parent.name)
