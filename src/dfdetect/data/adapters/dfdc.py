"""DFDC (Deepfake Detection Challenge): every ``metadata.json`` under the root.

Each ``metadata.json`` maps the video files beside it to ``label`` (REAL / FAKE), ``original``
(the real video a fake was made from) and ``split``. Group = the original video, so a real
video and all its fakes stay in one split; ``split`` is used when the files name more than one
split (the training parts say ``train`` for every video, which carries no split, so those are
split by group). Videos listed but not on disk (a partial download) are left out and
reported (``Manifest.missing``, failures.csv of prepare).
"""
from __future__ import annotations

import json
from pathlib import Path

from dfdetect.data.adapters import ADAPTERS
from dfdetect.data.adapters._common import drop_missing, refine_straddling
from dfdetect.data.manifest import Manifest, ManifestError, Sample

_LABELS = {"REAL": "real", "FAKE": "fake"}
_SPLITS = {"train": "train", "val": "val", "validation": "val", "test": "test"}


def _entries(meta: Path) -> dict:
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError) as e:
        raise ManifestError(f"{meta}: unreadable JSON ({e})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{meta}: expected an object mapping file names to entries")
    return data


def _sample(base: Path, meta: Path, name: str, entry: dict) -> Sample:
    label = _LABELS.get(str(entry.get("label", "")).upper())
    if label is None:
        raise ManifestError(f"{meta}: {name}: label '{entry.get('label')}', expected REAL or FAKE")
    split = str(entry.get("split", "")).lower()
    if split and split not in _SPLITS:
        raise ManifestError(f"{meta}: {name}: split '{split}', expected train, val or test")
    original = entry.get("original") or name
    rel = (meta.parent / name).relative_to(base).as_posix()
    return Sample(id=f"dfdc/{Path(name).stem}", path=rel, label=label,
                  split=_SPLITS.get(split, ""), group=f"dfdc:{Path(original).stem}",
                  source="dfdc", method="none" if label == "real" else "dfdc",
                  modality="video", extra={"part": meta.parent.relative_to(base).as_posix()})


@ADAPTERS.register("dfdc")
def dfdc(root: str, official_split: bool = True, **_: object) -> Manifest:
    """Manifest of every video listed by a ``metadata.json`` under ``root``."""
    base = Path(root)
    metas = sorted(base.rglob("metadata.json"))
    if not metas:
        raise ManifestError(f"dfdc {base}: no metadata.json found (one per dfdc_train_part_N/)")
    samples = [_sample(base, meta, name, entry)
               for meta in metas for name, entry in sorted(_entries(meta).items())]
    if not official_split or len({s.split for s in samples}) < 2:
        samples = [Sample(**{**s.__dict__, "split": ""}) for s in samples]
    samples = refine_straddling(samples, [])
    return drop_missing(Manifest(samples, base.resolve(), name=base.name))
