"""``prepare`` for image datasets: adapter -> group-aware split -> validated manifest CSV."""
from __future__ import annotations

from pathlib import Path

from dfdetect.config.schema import PrepareConfig
from dfdetect.data.adapters import ADAPTERS, build_manifest
from dfdetect.data.manifest import (Manifest, ManifestError, group_split, parse_ratios,
                                    validate, write_manifest)


def prepare(cfg: PrepareConfig, echo=print) -> Manifest:
    """Build the manifest with adapter ``cfg.data`` and write it to ``cfg.out``."""
    if not cfg.root:
        raise ManifestError("prepare needs root=<dataset folder or labels CSV>")
    manifest = build_manifest(cfg.data, cfg.root, real_label=cfg.real_label,
                              fake_label=cfg.fake_label, protocol=cfg.protocol, track=cfg.track)
    if any(not s.split for s in manifest.samples):
        manifest.samples = group_split(manifest.samples, parse_ratios(cfg.split_ratio), cfg.seed)
    out = Path(cfg.out or Path(cfg.root if Path(cfg.root).is_dir() else Path(cfg.root).parent)
               / "manifest.csv")
    # issue 6: audio rows are decoded into a clip cache beside the manifest (no-op without audio)
    from dfdetect.data.audio_prepare import prepare_audio_manifest
    manifest = prepare_audio_manifest(manifest, cfg, out, echo)
    validate(manifest, check_files=cfg.check_files)
    write_manifest(manifest, out)
    groups = {s.group for s in manifest.samples if s.group}
    echo(f"Wrote {out}: {len(manifest)} samples, {len(groups)} groups; per split "
         f"{ {k: v for k, v in sorted(manifest.counts().items())} }")
    return manifest


def adapter_names() -> list[str]:
    """Names accepted by ``data=``."""
    from dfdetect.data.adapters import _load_builtin

    _load_builtin()
    return ADAPTERS.names()
