"""Label shortcuts: file properties (format, size, JPEG quality, frame rate, sample rate, ...)
that alone predict real vs fake.

A model learns the cheapest cue that separates the classes. When every real is a JPEG and every
fake a PNG, or reals are 25 fps and fakes 30 fps, that cue is the file, not the forgery, and the
model fails on the first set encoded otherwise. This module measures, per property, how well the
property *alone* predicts the label:

* numeric properties (width, file size, JPEG quality, fps, ...): the ROC AUC of the value as a
  score, ``max(AUC, 1 - AUC)`` (either direction is a shortcut);
* categorical ones (format, codec, EXIF present, ...): the AUC of the per-category fake rate as a
  score (the best any rule on the category can do on these files) and the accuracy of predicting
  each category's majority class.

Also per split (with >= 30 files of each class), and a two-sided Mann-Whitney p-value so that a
handful of files does not raise a warning by chance.

Each modality says which properties a file has (``Modality.shortcut_properties``; images and
videos use :func:`image_properties` / :func:`video_properties`, header-only except the JPEG
double-compression score) and what to do about a shortcut (``Modality.shortcut_advice``).
``prepare`` and ``doctor`` run :func:`check_rows` and warn at ``shortcut_warn`` (AUC; 0 disables).

Example::

    found = find_shortcuts({"format": ["JPEG", "PNG"] * 5}, [0, 1] * 5)
    found[0].auc, found[0].summary     # 1.0, 'real: JPEG 100 %; fake: PNG 100 %'
"""
from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from dfdetect.data.manifest import Manifest, Sample
from dfdetect.io import atomic_write_text, not_regular

DEFAULT_WARN = 0.8     # AUC of one property at which prepare / doctor warn
MAX_FILES = 4000       # files probed per modality (a seeded random subset of larger sets)
MAX_CATEGORIES = 50    # a "categorical" property with more values is an identifier: skipped
MIN_SPLIT_CLASS = 30   # a split's own AUC is measured when it holds this many rows of each class
MAX_P = 0.01           # and a warning needs a Mann-Whitney p-value below this (tiny sets: chance)


@dataclass
class Shortcut:
    """How well one property alone predicts the label (fake = 1)."""

    name: str
    kind: str                  # "numeric" or "categorical"
    auc: float                 # max(AUC, 1 - AUC), or the per-category fake rate's AUC
    accuracy: float | None     # categorical: majority class per category
    summary: str               # per-class values, e.g. "real: JPEG 100 %; fake: PNG 100 %"
    n: int                     # rows that have the property
    per_split: dict[str, float] = field(default_factory=dict)
    p_value: float = 0.0       # two-sided Mann-Whitney U test of the score between the classes

    def worst(self) -> float:
        """The AUC that decides a warning: overall, or in one split where it is higher (a
        shortcut inside the validation or test split inflates that split's score)."""
        return max([self.auc, *self.per_split.values()])

    def flags(self, threshold: float) -> bool:
        """Whether this property is a shortcut at AUC ``threshold`` (0: never): overall, unless
        it is the chance result of a handful of files (p >= :data:`MAX_P`), or in a split of
        >= :data:`MIN_SPLIT_CLASS` files a class (AUC 0.8 there is never chance)."""
        if threshold <= 0:
            return False
        overall = self.auc >= threshold and self.p_value < MAX_P
        return overall or any(v >= threshold for v in self.per_split.values())

    def message(self, advice: str = "") -> str:
        """One warning line naming the property, its AUC, the per-class values and the fix."""
        splits = "".join(f", {k} {v:.2f}" for k, v in self.per_split.items() if v > self.auc)
        auc = f"AUC {self.auc:.2f}{splits}"
        if self.kind == "categorical":
            head = (f"{self.name} alone predicts the label for {self.accuracy:.0%} of files "
                    f"({auc}; {self.summary})")
        else:
            head = f"{self.name} alone separates the classes ({auc}; {self.summary})"
        return head + (f": {advice}" if advice else "")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _category(v: Any) -> str:
    if v is None or v == "":
        return "(none)"
    return ("yes" if v else "no") if isinstance(v, bool) else str(v)


def _auc(labels: list[int], scores: list[float]) -> float:
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(labels, scores))
    return max(auc, 1.0 - auc)


def _p_value(labels: list[int], scores: list[float]) -> float:
    from scipy.stats import mannwhitneyu

    a = [s for s, y in zip(scores, labels) if y == 0]
    b = [s for s, y in zip(scores, labels) if y == 1]
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def _fake_rate_scores(cats: list[str], labels: list[int]) -> tuple[list[float], float]:
    """Per-row fake rate of its category, and the majority-per-category accuracy."""
    per: dict[str, list[int]] = {}
    for c, y in zip(cats, labels):
        per.setdefault(c, []).append(y)
    rate = {c: sum(ys) / len(ys) for c, ys in per.items()}
    correct = sum(max(sum(ys), len(ys) - sum(ys)) for ys in per.values())
    return [rate[c] for c in cats], correct / max(1, len(labels))


def _scores(values: list, labels: list[int], numeric: bool) -> tuple[list[float], float | None]:
    """The score of each row (its value, or its category's fake rate) and, for categories, the
    majority-per-category accuracy."""
    if numeric:
        return [float(x) for x in values], None
    return _fake_rate_scores(values, labels)


def _class_summary(values: list, labels: list[int], numeric: bool) -> str:
    parts = []
    for y, word in ((0, "real"), (1, "fake")):
        vs = [v for v, t in zip(values, labels) if t == y]
        if numeric:
            s = sorted(vs)
            parts.append(f"{word}: median {s[len(s) // 2]:.4g} (range {s[0]:.4g}-{s[-1]:.4g})")
            continue
        counts: dict[str, int] = {}
        for v in vs:
            counts[v] = counts.get(v, 0) + 1
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
        parts.append(f"{word}: " + ", ".join(f"{c} {100 * k / len(vs):.0f} %" for c, k in top))
    return "; ".join(parts)


def measure(name: str, values: list, labels: list[int], splits: list[str] | None = None
            ) -> Shortcut | None:
    """One property's :class:`Shortcut` (None: constant, missing in a class, or an identifier).

    Numeric when every present value is a number (rows without it are left out); otherwise
    categorical, with a missing value as its own category ``(none)``."""
    present = [v for v in values if v is not None and v != ""]
    numeric = bool(present) and all(_is_number(v) for v in present)
    keep = [i for i, v in enumerate(values) if not numeric or _is_number(v)]
    vals = [values[i] if numeric else _category(values[i]) for i in keep]
    ys = [labels[i] for i in keep]
    if len(set(ys)) < 2 or len(set(vals)) < 2:
        return None
    if not numeric and len(set(vals)) > MAX_CATEGORIES:
        return None

    scores, acc = _scores(vals, ys, numeric)
    per_split = {}
    for sp in sorted(set(splits or [])):
        idx = [j for j, i in enumerate(keep) if splits[i] == sp]
        sub_y = [ys[j] for j in idx]
        if sp and min(sum(sub_y), len(sub_y) - sum(sub_y)) >= MIN_SPLIT_CLASS:
            per_split[sp] = _auc(sub_y, _scores([vals[j] for j in idx], sub_y, numeric)[0])
    return Shortcut(name, "numeric" if numeric else "categorical", _auc(ys, scores), acc,
                    _class_summary(vals, ys, numeric), len(vals), per_split,
                    _p_value(ys, scores))


def find_shortcuts(props: dict[str, list], labels: list[int], splits: list[str] | None = None
                   ) -> list[Shortcut]:
    """:func:`measure` for every property (``props``: name -> one value per row), strongest
    first (overall or in a split)."""
    found = [measure(k, v, labels, splits) for k, v in props.items()]
    return sorted((s for s in found if s is not None), key=lambda s: (-s.worst(), -s.auc))


class Prober(Protocol):
    """What :func:`check_rows` needs from a modality."""

    name: str
    shortcut_advice: str

    def shortcut_properties(self, sample: Sample, path: Path) -> dict: ...


@dataclass
class ShortcutCheck:
    """The table of one modality's rows, and the warnings at ``threshold``."""

    modality: str
    shortcuts: list[Shortcut]
    probed: int
    total: int
    threshold: float
    advice: str = ""
    unreadable: int = 0
    properties: int = 0  # how many properties the modality probes (0: it probes none)

    @property
    def flagged(self) -> list[Shortcut]:
        return [s for s in self.shortcuts if s.flags(self.threshold)]

    def warnings(self) -> list[str]:
        """One line per flagged property (what to do is :attr:`advice`, once per modality)."""
        return [s.message() for s in self.flagged]


def check_rows(manifest: Manifest, rows: list[Sample], prober: Prober, threshold: float,
               limit: int = MAX_FILES) -> ShortcutCheck:
    """Probe the files of ``rows`` (a seeded subset of ``limit`` when more) and measure."""
    picked = rows if len(rows) <= limit else random.Random(0).sample(rows, limit)
    props: dict[str, list] = {}
    labels, splits, bad = [], [], 0
    for s in picked:
        path = manifest.resolve(s)
        if not_regular(path):  # a FIFO or device would block or never end: never opened
            bad += 1
            continue
        try:
            p = prober.shortcut_properties(s, path)
        except Exception:  # noqa: BLE001 - any unreadable file is counted, never fatal: doctor /
            bad += 1       # prepare report it with its reason elsewhere
            continue
        for k in p.keys() - props.keys():
            props[k] = [None] * len(labels)
        for k in props:
            props[k].append(p.get(k))
        labels.append(s.target)
        splits.append(s.split)
    return ShortcutCheck(prober.name, find_shortcuts(props, labels, splits), len(labels),
                         len(rows), threshold, prober.shortcut_advice, bad, len(props))


def check_manifest(manifest: Manifest, modality_of: Callable[[str], Prober], threshold: float,
                   limit: int = MAX_FILES) -> list[ShortcutCheck]:
    """:func:`check_rows` for each modality of the manifest that probes its files and has both
    classes (``modality_of``: a modality name -> its object). Nothing when ``threshold`` <= 0."""
    if threshold <= 0:
        return []
    checks = []
    for name in sorted({s.modality for s in manifest.samples}):
        rows = [s for s in manifest.samples if s.modality == name]
        if len({s.target for s in rows}) < 2:
            continue
        check = check_rows(manifest, rows, modality_of(name), threshold, limit)
        if check.properties:
            checks.append(check)
    return checks


def table_lines(check: ShortcutCheck) -> list[str]:
    """The table as text: one line per property, flagged ones marked."""
    head = (f"{check.modality}: {check.probed} of {check.total} files probed"
            + (f" ({check.unreadable} unreadable)" if check.unreadable else ""))
    lines = [head]
    for s in check.shortcuts:
        mark = " <- shortcut" if s.flags(check.threshold) else ""
        splits = " ".join(f"{k} {v:.2f}" for k, v in s.per_split.items())
        lines.append(f"  {s.name:<18} AUC {s.auc:.2f}{f' ({splits})' if splits else ''}  "
                     f"{s.summary}{mark}")
    return lines


def write_table(checks: list[ShortcutCheck], path: Path) -> Path:
    """``shortcuts.csv``: modality, property, kind, auc, accuracy, per-split AUCs, summary,
    flagged."""
    splits = sorted({k for c in checks for s in c.shortcuts for k in s.per_split})
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["modality", "property", "kind", "auc", "accuracy", "n", "p_value"]
               + [f"auc_{k}" for k in splits] + ["summary", "flagged"])
    for c in checks:
        for s in c.shortcuts:
            acc = "" if s.accuracy is None else f"{s.accuracy:.4f}"
            w.writerow([c.modality, s.name, s.kind, f"{s.auc:.4f}", acc, s.n, f"{s.p_value:.2g}"]
                       + [f"{s.per_split[k]:.4f}" if k in s.per_split else "" for k in splits]
                       + [s.summary, int(s.flags(c.threshold))])
    return atomic_write_text(path, buf.getvalue())
