"""``dfdetect doctor``: what is wrong with a manifest before it costs a training run.

Reports class balance per split, groups found in more than one split (leakage), files with
identical content in different splits (found by hashing: a re-encoded copy or a duplicated crop
inflates scores), and missing files. It reports instead of raising, so it can show every problem
at once; ``ok`` is False when there is leakage or a missing file.

Example::

    report = doctor("data/ffpp_c23/manifest.csv")
    print(report.text)
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from dfdetect.data.manifest import Manifest, group_leaks, read_manifest


@dataclass
class DoctorReport:
    """Findings of :func:`doctor`."""

    counts: dict[str, dict[str, int]]
    leaks: list[str]
    duplicates: list[str]
    missing: list[str]
    text: str

    @property
    def ok(self) -> bool:
        return not (self.leaks or self.duplicates or self.missing)


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


def doctor(path: str, root: str = "", hash_files: bool = True) -> DoctorReport:
    """Check the manifest at ``path``; see the module docstring for what is checked."""
    m = read_manifest(path, root or None)
    counts = m.counts()
    missing = [str(m.resolve(s)) for s in m.samples if not m.resolve(s).exists()]
    leaks = group_leaks(m.samples)
    dups = cross_split_duplicates(m) if hash_files else []
    lines = [f"{path}: {len(m)} rows"]
    lines.append("class balance per split:")
    for split, c in sorted(counts.items()):
        total = sum(c.values())
        share = 100.0 * c.get("fake", 0) / total if total else 0.0
        lines.append(f"  {split:<6} real {c.get('real', 0):>7}  fake {c.get('fake', 0):>7}  "
                     f"({share:.1f} % fake)")
    lines += _section("groups in more than one split", leaks)
    lines += (_section("identical files in different splits", dups) if hash_files
              else ["identical files in different splits: not checked (hash_files=false)"])
    lines += _section("missing files", missing)
    report = DoctorReport(counts, leaks, dups, missing, "")
    lines.append("verdict: " + ("no problems found" if report.ok else "problems found (above)"))
    report.text = "\n".join(lines)
    return report
