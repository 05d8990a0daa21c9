"""The manifest: one table that every stage reads, for every modality.

Columns: ``id, path, label, split, group, source, method, modality`` (+ any extra columns, kept
as-is, e.g. ``video_id`` or ``frame`` for face crops). ``path`` is relative to the manifest's root
(by default the folder holding the CSV), so a prepared dataset can be moved or mounted anywhere.
``group`` is the unit that must never straddle splits: a video, a person, a speaker.

Example::

    m = read_manifest("data/faces/manifest.csv")
    validate(m)                      # raises ManifestError listing every problem
    train = m.where(split="train")
"""
from __future__ import annotations

import csv
import io
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Iterable, Sequence

from dfdetect.io import TEXT_ERRORS, atomic_write_text

COLUMNS = ("id", "path", "label", "split", "group", "source", "method", "modality")
#: canonical class names, in index order: 0 = authentic, 1 = manipulated / spoofed
LABELS = ("real", "fake")
LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}
SPLITS = ("train", "val", "test")
MODALITIES = ("image", "video", "audio", "frame")
#: the five face landmarks of a crop row (left eye, right eye, nose, mouth left, mouth right) as
#: ``lm1_x, lm1_y, ..., lm5_x, lm5_y``, in the crop file's pixels: video prepare writes them,
#: self-blended pseudo-fakes (data/sbi.py) read them
LANDMARK_COLUMNS = tuple(f"lm{j}_{axis}" for j in range(1, 6) for axis in ("x", "y"))
#: dense landmarks (prepare with ``landmarks=mediapipe``), kept as polygons ``"x y x y ..."`` in
#: the same pixels: the convex hull of the face mesh, forehead included (SBI's blend mask), and of
#: four parts (eye + brow at the image's left, as ``lm1``, and right; nose; mouth) for part blends
HULL_COLUMN = "face_hull"
PART_COLUMNS = ("part_eye1", "part_eye2", "part_nose", "part_mouth")


def format_polygon(points) -> str:
    """``"x y x y ..."`` of (K, 2) points, one decimal: short enough to keep a manifest readable."""
    import numpy as np

    return " ".join(f"{v:.1f}".rstrip("0").rstrip(".") for v in np.asarray(points, float).ravel())


def parse_polygon(text):
    """(K, 2) float32 points of a :func:`format_polygon` string; None when blank, odd, non-finite
    or under three points."""
    import numpy as np

    try:
        values = np.asarray(str(text or "").split(), dtype=np.float32)
    except ValueError:
        return None
    if values.size < 6 or values.size % 2 or not np.isfinite(values).all():
        return None
    return values.reshape(-1, 2)


class ManifestError(ValueError):
    """A manifest that cannot be used; the message lists each problem with its row."""


@dataclass
class Sample:
    """One row of the manifest."""

    id: str
    path: str
    label: str
    split: str = ""
    group: str = ""
    source: str = ""
    method: str = ""
    modality: str = "image"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> int:
        """Class index (0 real, 1 fake)."""
        return LABEL_INDEX[self.label]


@dataclass
class Manifest:
    """Samples plus the folder their paths are relative to."""

    samples: list[Sample]
    root: Path = Path(".")
    name: str = "manifest"
    #: files the dataset lists that are not on disk (a partial download); prepare reports them
    missing: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.samples)

    def resolve(self, sample: Sample) -> Path:
        """Absolute location of a sample's file."""
        p = Path(sample.path)
        return p if p.is_absolute() else self.root / p

    def where(self, **equal: str) -> "Manifest":
        """Rows whose columns equal the given values (``split="all"`` keeps every row)."""
        keep = [s for s in self.samples
                if all(v == "all" or getattr(s, k) == v for k, v in equal.items())]
        return replace(self, samples=keep)

    def counts(self) -> dict[str, dict[str, int]]:
        """split -> label -> count."""
        out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LABELS, 0))
        for s in self.samples:
            out[s.split or "(none)"][s.label] = out[s.split or "(none)"].get(s.label, 0) + 1
        return dict(out)


def read_manifest(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Manifest:
    """Read a manifest CSV; ``root`` defaults to the CSV's folder."""
    p = Path(path)
    if not p.is_file():
        raise ManifestError(f"manifest not found: {p}")
    with p.open(newline="", encoding="utf-8", errors=TEXT_ERRORS) as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in ("id", "path", "label") if c not in header]
        if missing:
            raise ManifestError(f"{p}: missing column(s) {', '.join(missing)}; "
                                f"expected {','.join(COLUMNS)}")
        samples = [_row_to_sample(row) for row in reader]
    return Manifest(samples, Path(root) if root else p.parent.resolve(), name=p.stem)


def _row_to_sample(row: dict[str, str | None]) -> Sample:
    base = {f.name: (row.get(f.name) or "").strip() for f in fields(Sample) if f.name != "extra"}
    base["modality"] = base["modality"] or "image"
    extra = {k: (v or "") for k, v in row.items() if k not in COLUMNS and k is not None}
    return Sample(**base, extra=extra)


def manifest_csv(samples: Sequence[Sample]) -> str:
    """CSV text of samples (standard columns first, then extra columns sorted)."""
    extra_cols = sorted({k for s in samples for k in s.extra})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*COLUMNS, *extra_cols])
    for s in samples:
        w.writerow([getattr(s, c) for c in COLUMNS] + [s.extra.get(c, "") for c in extra_cols])
    return buf.getvalue()


def write_manifest(manifest: Manifest, path: str | os.PathLike) -> Path:
    """Write atomically; paths under the CSV's folder become relative, others absolute."""
    out = Path(path)
    base = out.parent.resolve()
    rows = []
    for s in manifest.samples:
        absolute = Path(os.path.abspath(manifest.resolve(s)))
        try:  # inside the manifest's folder: relative, so the folder can move as a whole
            rel = absolute.relative_to(base).as_posix()
        except ValueError:  # elsewhere (a dataset mounted read-only): absolute
            rel = absolute.as_posix()
        rows.append(replace(s, path=rel))
    return atomic_write_text(out, manifest_csv(rows))


def validate(manifest: Manifest, *, check_files: bool = True, max_report: int = 10) -> None:
    """Raise :class:`ManifestError` listing every problem (first ``max_report`` of each kind)."""
    problems: list[str] = []

    def report(kind: str, items: list[str]) -> None:
        if items:
            more = f" (and {len(items) - max_report} more)" if len(items) > max_report else ""
            problems.append(f"{kind}: {'; '.join(items[:max_report])}{more}")

    rows = list(enumerate(manifest.samples, start=2))  # line 1 is the header
    dup = [i for i, n in Counter(s.id for s in manifest.samples).items() if n > 1]
    report("duplicate ids", dup)
    report("unknown labels (expected real or fake)",
           [f"line {n}: '{s.label}'" for n, s in rows if s.label not in LABEL_INDEX])
    report("unknown splits (expected train, val, test or empty)",
           [f"line {n}: '{s.split}'" for n, s in rows if s.split not in (*SPLITS, "")])
    report("unknown modality", [f"line {n}: '{s.modality}'" for n, s in rows
                                if s.modality not in MODALITIES])
    report("empty path", [f"line {n}" for n, s in rows if not s.path])
    report("the same file under several ids", shared_paths(manifest))
    if check_files:
        report("missing files", [f"line {n}: {manifest.resolve(s)}" for n, s in rows
                                 if s.path and not manifest.resolve(s).exists()])
    report("groups in more than one split", group_leaks(manifest.samples))
    if problems:
        raise ManifestError(f"{manifest.name} ({manifest.root}): " + " | ".join(problems))


def shared_paths(manifest: Manifest) -> list[str]:
    """Files listed under more than one id (a frame row's id is its video): one file would count
    twice, possibly in two splits or with two labels."""
    owners: dict[str, set[str]] = defaultdict(set)
    for s in manifest.samples:
        if s.path:
            owners[os.path.normpath(manifest.resolve(s))].add(s.extra.get("video_id") or s.id)
    return [f"{p} ({', '.join(sorted(ids)[:3])})" for p, ids in sorted(owners.items())
            if len(ids) > 1]


def group_leaks(samples: Iterable[Sample]) -> list[str]:
    """Groups whose rows sit in more than one split, as ``group (train, test)``."""
    where: dict[str, set[str]] = defaultdict(set)
    for s in samples:
        if s.group and s.split:
            where[s.group].add(s.split)
    return [f"{g} ({', '.join(sorted(sp))})" for g, sp in sorted(where.items()) if len(sp) > 1]


def parse_ratios(text: str) -> tuple[float, float, float]:
    """Split ratios: ``"0.7,0.15,0.15"`` -> (train, val, test); ``"0.8"`` -> (0.8, 0.2, 0)."""
    try:
        parts = [float(x) for x in str(text).split(",")]
    except ValueError:
        raise ManifestError(f"split_ratio '{text}' must be numbers like 0.7,0.15,0.15") from None
    if len(parts) == 1:
        parts = [parts[0], 1.0 - parts[0]]
    parts = (parts + [0.0, 0.0])[:3]
    total = sum(parts)
    if total <= 0 or any(x < 0 for x in parts):
        raise ManifestError(f"split_ratio '{text}' must be non-negative and sum to more than 0")
    return (parts[0] / total, parts[1] / total, parts[2] / total)


def group_split(samples: list[Sample], ratios: Sequence[float], seed: int = 0) -> list[Sample]:
    """Assign train/val/test to rows with no split, whole groups at a time.

    Groups are visited in a seeded random order; each goes to the split furthest below its target
    share of rows, so the ratios hold by sample count while no group straddles two splits. A row
    without a group is its own group. Rows that already have a split keep it, and unsplit rows
    of the same group join them.
    """
    key = lambda s: s.group or f"__id__{s.id}"  # noqa: E731
    fixed = {key(s): s.split for s in samples if s.split}  # a group follows its split rows
    todo = [s for s in samples if not s.split and key(s) not in fixed]
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in todo:
        groups[key(s)].append(s)
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    total = len(todo)
    filled = dict.fromkeys(SPLITS, 0)
    assigned: dict[str, str] = {}
    for g in order:
        deficit = {sp: ratios[i] * total - filled[sp] for i, sp in enumerate(SPLITS) if ratios[i] > 0}
        best = max(deficit, key=lambda sp: (deficit[sp], -SPLITS.index(sp)))
        assigned[g] = best
        filled[best] += len(groups[g])
    assigned.update(fixed)
    return [replace(s, split=assigned[key(s)]) if not s.split else s for s in samples]
