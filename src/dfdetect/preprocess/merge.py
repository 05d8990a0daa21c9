"""``dfdetect merge``: join the shard manifests (and failure logs) of one sharded prepare.

Every shard wrote ``<root>/shards/manifest-K-of-N.csv``; the merged manifest is checked like any
other (duplicate ids, a group in two splits, missing crops), and a missing shard is an error that
names it, because a silently partial dataset is worse than none.

Example::

    merge_shards("data/ffpp_c23")      # -> data/ffpp_c23/manifest.csv
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from dfdetect.data.manifest import Manifest, read_manifest, validate, write_manifest
from dfdetect.failures import HEADER as FAILURE_HEADER
from dfdetect.io import atomic_write_text
from dfdetect.preprocess import PrepareError

_SHARD = re.compile(r"manifest-(\d+)-of-(\d+)\.csv$")


def _shard_files(root: Path) -> list[Path]:
    files = sorted((root / "shards").glob("manifest-*-of-*.csv"))
    if not files:
        raise PrepareError(f"{root / 'shards'}: no shard manifests (manifest-K-of-N.csv); run "
                           "dfdetect prepare ... shard=K/N first", "merge")
    found = {(int(m[1]), int(m[2])) for f in files if (m := _SHARD.search(f.name))}
    totals = {n for _, n in found}
    if len(totals) != 1:
        raise PrepareError(f"{root / 'shards'}: shard manifests of different N {sorted(totals)};"
                           " remove the stale ones", "merge")
    n = totals.pop()
    missing = sorted(set(range(n)) - {k for k, _ in found})
    if missing:
        raise PrepareError(f"{root / 'shards'}: shard(s) {', '.join(f'{k}/{n}' for k in missing)}"
                           " not finished yet (no manifest)", "merge")
    return files


def merge_shards(root: str, out: str = "", check_files: bool = True, echo=print) -> Manifest:
    """Concatenate the shard manifests under ``root`` into ``out`` (default root/manifest.csv)."""
    base = Path(root)
    files = _shard_files(base)
    samples = []
    for f in files:
        samples.extend(read_manifest(f, root=base.resolve()).samples)
    merged = Manifest(samples, base.resolve(), name=base.name)
    validate(merged, check_files=check_files)
    target = Path(out) if out else base / "manifest.csv"
    write_manifest(merged, target)
    failures = _merge_failures(base, target.parent / "failures.csv")
    videos = {s.extra.get("video_id", s.id) for s in samples}
    echo(f"Merged {len(files)} shards: {len(samples)} crops from {len(videos)} videos, "
         f"{failures} failures\n  manifest : {target}\n  failures : {target.parent / 'failures.csv'}")
    return merged


def _merge_failures(root: Path, target: Path) -> int:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FAILURE_HEADER)
    count = 0
    for f in sorted((root / "shards").glob("failures-*-of-*.csv")):
        with f.open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
            for row in csv.DictReader(fh):
                w.writerow([row.get(c, "") for c in FAILURE_HEADER])
                count += 1
    atomic_write_text(target, buf.getvalue())
    return count
