"""``prepare``: adapter -> group-aware split -> each modality's prepare step -> manifest.

The steps: the adapter ``cfg.data`` lists the dataset (splits from its official lists, else a
group-aware split made here, before any sharding so every shard agrees); the label-shortcut
check probes the original files (:mod:`dfdetect.data.shortcuts`: warnings, ``shortcuts.csv``
beside the manifest); then every modality
present prepares its own rows (:meth:`~dfdetect.modalities.base.Modality.prepare`: videos
become face crops, audio becomes cached mono clips, images stay as they are); the result is
validated and written.

Example::

    manifest = prepare(PrepareConfig(data="folder", root="/data/faces", out="prepared/"))
"""
from __future__ import annotations

from pathlib import Path

from dfdetect.config.schema import PrepareConfig
from dfdetect.data.adapters import ADAPTERS, build_manifest
from dfdetect.data.adapters._common import drop_missing
from dfdetect.data.manifest import (Manifest, ManifestError, group_split, parse_ratios,
                                    read_manifest, validate, write_manifest)
from dfdetect.data.shortcuts import check_manifest, write_table
from dfdetect.failures import FailureLog
from dfdetect.modalities import get_modality


def output_path(cfg: PrepareConfig) -> Path:
    """The manifest to write: ``out`` (a .csv, or a folder -> folder/manifest.csv), else
    ``manifest.csv`` beside the dataset."""
    if cfg.out:
        out = Path(cfg.out)
        return out if out.suffix == ".csv" else out / "manifest.csv"
    root = Path(cfg.root)
    return (root if root.is_dir() else root.parent) / "manifest.csv"


def check_request(cfg: PrepareConfig) -> Path:
    """Before any work: option ranges and choices, and an output manifest that is neither the
    input nor a checkpoint (without overwrite=true); an existing manifest there is checked by
    :func:`check_existing` once the splits are known."""
    from dfdetect.config.choices import check_choices
    from dfdetect.config.outputs import check_output

    check_choices(cfg)
    return check_output("out", output_path(cfg), inputs=[cfg.root], overwrite=cfg.overwrite,
                        manifests=False)


def check_existing(out: Path, manifest: Manifest, overwrite: bool) -> None:
    """A manifest already at ``out`` is replaced only by a re-run of the same preparation (a
    resumed or retried video run): same rows in the same splits. Anything else (other data,
    other splits: a model trained on the old ones would leak into validation) needs
    ``overwrite=true``."""
    from dfdetect.config.outputs import is_manifest

    if overwrite or not out.is_file() or not is_manifest(out):
        return
    old = {s.extra.get("video_id") or s.id: s.split for s in read_manifest(out).samples}
    new = {s.id: s.split for s in manifest.samples}
    moved = [k for k in old.keys() & new.keys() if old[k] != new[k]]
    if old and (moved or not old.keys() & new.keys()):
        why = (f"{len(moved)} of its rows would change split (e.g. {sorted(moved)[0]})" if moved
               else "it lists other data")
        raise ManifestError(f"out={out}: an existing manifest is there and {why}; refusing to "
                            "replace it (choose another out= or add overwrite=true)")


def prepare(cfg: PrepareConfig, echo=print) -> Manifest:
    """Build the manifest with adapter ``cfg.data``, prepare every modality's rows, write it."""
    if not cfg.root:
        raise ManifestError("prepare needs root=<dataset folder or labels CSV>")
    check_request(cfg)
    manifest = build_manifest(cfg.data, cfg.root, real_label=cfg.real_label,
                              fake_label=cfg.fake_label, compression=cfg.compression,
                              official_split=cfg.official_split, protocol=cfg.protocol,
                              track=cfg.track)
    if cfg.check_files:  # a partial download: keep what is there, report the rest
        manifest = drop_missing(manifest)
    if any(not s.split for s in manifest.samples):
        manifest.samples = group_split(manifest.samples, parse_ratios(cfg.split_ratio), cfg.seed)
    out = output_path(cfg)
    check_existing(out, manifest, cfg.overwrite)
    missing = manifest.missing
    warn_shortcuts(manifest, cfg.shortcut_warn, out.parent / "shortcuts.csv", echo)
    for name in sorted({s.modality for s in manifest.samples}):
        manifest, out = get_modality(name).prepare(manifest, cfg, out, echo)
    validate(manifest, check_files=cfg.check_files)
    write_manifest(manifest, out)
    groups = {s.group for s in manifest.samples if s.group}
    echo(f"Wrote {out}: {len(manifest)} samples, {len(groups)} groups; per split "
         f"{ {k: v for k, v in sorted(manifest.counts().items())} }")
    report_missing(missing, out.parent / "failures.csv", echo)
    return manifest


def warn_shortcuts(manifest: Manifest, threshold: float, table: Path, echo=print) -> None:
    """Probe the original files for properties that alone predict the label; write the table to
    ``table`` and warn (with what to do) at AUC >= ``threshold`` (0: no check)."""
    checks = check_manifest(manifest, get_modality, threshold)
    if not checks:
        return
    write_table(checks, table)
    flagged = 0
    for check in checks:
        for message in check.warnings():
            echo(f"WARNING: {message}")
            flagged += 1
        if check.warnings():
            echo(f"  what to do ({check.modality}): {check.advice}")
    if flagged:
        echo(f"Label-shortcut check: {flagged} propert{'y' if flagged == 1 else 'ies'} predict "
             f"the label at AUC >= {threshold:g} (shortcut_warn); table: {table}")


def report_missing(missing: list[str], path: Path, echo=print) -> None:
    """One ``failures.csv`` line per file the dataset lists that is not on disk (stage
    ``missing``; lines already there from an earlier run are not repeated) and a summary line."""
    if not missing:
        return
    log = FailureLog(path)
    known = {(r["path"], r["stage"]) for r in log.read()} if path.is_file() else set()
    for f in missing:
        if (f, "missing") not in known:
            log.record(f, "missing", "listed by the dataset but not on disk")
    echo(f"{len(missing)} listed file(s) are not on disk and were left out: see {path}")


def adapter_names() -> list[str]:
    """Names accepted by ``data=``."""
    from dfdetect.data.adapters import _load_builtin

    _load_builtin()
    return ADAPTERS.names()
