"""``dfdetect doctor``: what is wrong with a manifest before it costs a training run.

Reports class balance per split, groups found in more than one split (leakage), fakes named
after a real file of another split (``fake/Deepfakes/000_003.mp4`` in test, ``real/000.mp4`` in
train: the source face leaks; the naming rule is :func:`~dfdetect.data.adapters._common.
source_names`, on the video's file for prepared crops), files with identical content in different
splits (found by hashing: a re-encoded copy or a duplicated crop inflates scores), and missing
files. It reports instead of raising, so it can show every problem at once; ``ok`` is False when
there is leakage or a missing file. With ``modality_of`` (the CLI passes
:func:`dfdetect.modalities.get_modality`) it also runs the label-shortcut check
(:mod:`dfdetect.data.shortcuts`): the table of file properties that predict the label, and
warnings above ``shortcut_warn`` (they do not make ``ok`` False: a benchmark may carry them on
purpose, but results on it must say so).

Example::

    report = doctor("data/ffpp_c23/manifest.csv", modality_of=get_modality)
    print(report.text, report.shortcuts)
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dfdetect.data.adapters._common import source_names
from dfdetect.data.manifest import Manifest, Sample, group_leaks, read_manifest
from dfdetect.data.shortcuts import DEFAULT_WARN, ShortcutCheck, check_manifest, table_lines


@dataclass
class DoctorReport:
    """Findings of :func:`doctor`."""

    counts: dict[str, dict[str, int]]
    leaks: list[str]
    duplicates: list[str]
    missing: list[str]
    text: str
    name_leaks: list[str] = field(default_factory=list)
    shortcut_checks: list[ShortcutCheck] = field(default_factory=list)

    @property
    def shortcuts(self) -> list[str]:
        """The warnings of the label-shortcut check (property, AUC, per-class values, fix)."""
        return [w for c in self.shortcut_checks for w in c.warnings()]

    @property
    def ok(self) -> bool:
        return not (self.leaks or self.name_leaks or self.duplicates or self.missing)


def _media_file(s: Sample) -> str:
    """The file a row comes from: the video of a prepared crop, else the row's own file."""
    return s.extra.get("video_path") or s.path


def source_name_leaks(samples: list[Sample]) -> list[str]:
    """Fakes whose name points to a real file in another split, as
    ``fake/x/000_003.mp4 (test) named after real/000.mp4 (train)``."""
    reals: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for s in samples:
        if s.label == "real" and s.split:
            reals[Path(_media_file(s)).stem].add((_media_file(s), s.split))
    found: set[tuple[str, str, str, str]] = set()
    for s in samples:
        if s.label != "fake" or not s.split:
            continue
        fake = _media_file(s)
        for name in source_names(Path(fake).stem):
            found |= {(fake, s.split, real, sp) for real, sp in reals.get(name, ())
                      if sp != s.split}
    return [f"{f} ({fs}) named after {r} ({rs})" for f, fs, r, rs in sorted(found)]


def _digest(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cross_split_duplicates(manifest: Manifest) -> list[str]:
    """Identical file contents used in more than one split, as ``a (train) = b (test)``."""
    by_hash: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s in manifest.samples:
        p = manifest.resolve(s)
        if p.is_file():
            by_hash[_digest(p)].append((s.path, s.split or "(none)"))
    out = []
    for entries in by_hash.values():
        if len({sp for _, sp in entries}) > 1:
            out.append(" = ".join(f"{path} ({sp})" for path, sp in entries[:4]))
    return out


def _section(title: str, items: list[str], limit: int = 10) -> list[str]:
    if not items:
        return [f"{title}: none"]
    more = [f"  ... and {len(items) - limit} more"] if len(items) > limit else []
    return [f"{title}: {len(items)}"] + [f"  {x}" for x in items[:limit]] + more


def shortcut_lines(checks: list[ShortcutCheck], threshold: float) -> list[str]:
    """The doctor's label-shortcut section: warnings first, then every property's AUC."""
    if threshold <= 0:
        return ["label shortcuts: not checked (shortcut_warn=0)"]
    warnings = [w for c in checks for w in c.warnings()]
    lines = _section(f"label shortcuts (one file property predicts the label, AUC >= "
                     f"{threshold:g})", warnings)
    lines += [f"  what to do ({c.modality}): {c.advice}" for c in checks if c.flagged]
    lines.append("file properties, AUC of each alone as a label predictor (per split):")
    for c in checks:
        lines += [f"  {x}" for x in table_lines(c)]
    return lines


def doctor(path: str, root: str = "", hash_files: bool = True,
           shortcut_warn: float = DEFAULT_WARN, modality_of: Callable | None = None
           ) -> DoctorReport:
    """Check the manifest at ``path``; see the module docstring for what is checked."""
    m = read_manifest(path, root or None)
    counts = m.counts()
    missing = [str(m.resolve(s)) for s in m.samples if not m.resolve(s).exists()]
    leaks = group_leaks(m.samples)
    name_leaks = source_name_leaks(m.samples)
    dups = cross_split_duplicates(m) if hash_files else []
    lines = [f"{path}: {len(m)} rows"]
    lines.append("class balance per split:")
    for split, c in sorted(counts.items()):
        total = sum(c.values())
        share = 100.0 * c.get("fake", 0) / total if total else 0.0
        lines.append(f"  {split:<6} real {c.get('real', 0):>7}  fake {c.get('fake', 0):>7}  "
                     f"({share:.1f} % fake)")
    lines += _section("groups in more than one split", leaks)
    lines += _section("fakes named after a real file in another split", name_leaks)
    lines += (_section("identical files in different splits", dups) if hash_files
              else ["identical files in different splits: not checked (hash_files=false)"])
    lines += _section("missing files", missing)
    checks = check_manifest(m, modality_of, shortcut_warn) if modality_of else []
    lines += (shortcut_lines(checks, shortcut_warn) if modality_of
              else ["label shortcuts: not checked (no modality_of)"])
    report = DoctorReport(counts, leaks, dups, missing, "", name_leaks, checks)
    lines.append("verdict: " + ("no problems found" if report.ok else "problems found (above)")
                 + (f"; {len(report.shortcuts)} label shortcut warning(s)"
                    if report.shortcuts else ""))
    report.text = "\n".join(lines)
    return report
