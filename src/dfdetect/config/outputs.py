"""Output paths checked before any work: nothing written over an input, a checkpoint or a
manifest unless the user says ``overwrite=true``.

Why: ``prepare out=<existing manifest>`` silently re-split a dataset a model was trained on,
``predict out=<the input manifest>`` and ``export out=<the checkpoint>`` replaced the file they
read. :func:`check_output` runs at the start of ``prepare``, ``predict`` and ``export`` (before a
model is loaded or a file scored) and raises :class:`ConfigError` (exit 2) naming the key.

Example::

    check_output("out", cfg.out, inputs=[cfg.ckpt], overwrite=cfg.overwrite)
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Iterable

from dfdetect.config.errors import ConfigError

CHECKPOINT_SUFFIXES = frozenset({".ckpt", ".pt", ".pth", ".safetensors", ".bin"})
_ZIP = b"PK\x03\x04"  # torch.save's container


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def is_checkpoint(path: Path) -> bool:
    """A model file: a checkpoint suffix, or a torch.save (zip) container."""
    if path.suffix.lower() in CHECKPOINT_SUFFIXES:
        return True
    try:
        with open(path, "rb") as f:
            return f.read(4) == _ZIP
    except OSError:
        return False


def is_manifest(path: Path) -> bool:
    """A CSV whose header has the manifest columns path and label (a manifest or labels CSV;
    a submission has a score column instead, while a prepared manifest may have the face
    detector's ``score`` beside its ``modality`` column, which submissions never have)."""
    if path.suffix.lower() != ".csv":
        return False
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            header = {h.strip() for h in next(csv.reader(f), [])}
    except OSError:
        return False
    return {"path", "label"} <= header and ("score" not in header or "modality" in header)


def _what(path: Path, inputs: list[Path], manifests: bool) -> str:
    if any(_same(path, p) for p in inputs):
        return "is an input of this command"
    if is_checkpoint(path):
        return "is a checkpoint"
    if manifests and is_manifest(path):
        return "is an existing manifest"
    return ""


def check_output(key: str, out: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                 overwrite: bool = False, folder: bool = False, manifests: bool = True) -> Path:
    """Refuse (ConfigError) an output that is a folder (``folder=False``) or a file (``folder``),
    sits under a file, or without ``overwrite`` would replace an input, a checkpoint or (with
    ``manifests``) a manifest. Returns the path."""
    path = Path(out).expanduser()
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"{key}={out}: {parent} is a file, not a folder")
    if not path.exists():
        return path
    if path.is_dir() != folder:
        want = "a folder" if folder else "a file name"
        raise ConfigError(f"{key}={out}: is {'a folder' if path.is_dir() else 'a file'}; "
                          f"give {want}")
    if folder or overwrite:
        return path
    why = _what(path, [Path(p).expanduser() for p in inputs if str(p)], manifests)
    if why:
        raise ConfigError(f"{key}={out}: {why}; refusing to write over it (choose another {key}= "
                          "or add overwrite=true)")
    return path


def check_folder_path(key: str, value: str | os.PathLike) -> Path:
    """Refuse a folder option whose path runs through an existing file."""
    path = Path(value).expanduser()
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise ConfigError(f"{key}={value}: {p} is a file, not a folder")
    return path
