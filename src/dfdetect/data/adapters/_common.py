"""Helpers shared by the dataset adapters: connected groups, fakes named after their source,
official splits kept leak-free, and partial datasets (listed files not on disk)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Callable, Iterable

from dfdetect.data.manifest import Manifest, ManifestError, Sample


class UnionFind:
    """Ids linked by a fake (target + source) end up in one group: they share a face."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, *xs: str) -> None:
        roots = sorted({self.find(x) for x in xs})
        for r in roots[1:]:
            self.parent[r] = roots[0]

    def group(self, x: str) -> str:
        """The smallest id of ``x``'s component, so group names are stable and readable."""
        root = self.find(x)
        return min(k for k in self.parent if self.find(k) == root)

    def groups(self) -> dict[str, str]:
        """id -> group name, for every id seen."""
        members: dict[str, list[str]] = defaultdict(list)
        for k in self.parent:
            members[self.find(k)].append(k)
        return {k: min(ms) for ms in members.values() for k in ms}


def source_names(stem: str) -> list[str]:
    """The real files a fake's name points to: its whole stem and, for ``<a>_<b>`` names, each
    ``_``-separated part (FaceForensics++: ``000_003`` shows target ``000`` with the face of
    ``003``). Used by the folder adapter (to group a fake with its sources) and by ``doctor``
    (to report a fake whose source sits in another split)."""
    parts = [p for p in stem.split("_") if p]
    return [stem] + (parts if len(parts) > 1 else [])


def refine_straddling(samples: list[Sample],
                      finer: Iterable[Callable[[Sample], str]]) -> list[Sample]:
    """Where an official split puts a group's rows in different splits (or leaves some of them
    unsplit), regroup that group's rows by the next finer key, down to the video itself.

    Why: the official split of a benchmark is kept as published, and the manifest must still
    never have a group in two splits (training refuses such a manifest).
    """
    keys = list(finer) + [lambda s: s.id]
    out = list(samples)
    for key in keys:
        splits: dict[str, set[str]] = defaultdict(set)
        for s in out:
            splits[s.group].add(s.split)
        bad = {g for g, sp in splits.items() if len(sp) > 1}
        if not bad:
            break
        out = [replace(s, group=f"{s.group}/{key(s)}") if s.group in bad else s for s in out]
    return out


def drop_missing(manifest: Manifest) -> Manifest:
    """The rows whose files are on disk; the others join ``manifest.missing``.

    Why: users download parts of large datasets (DFDC is 470 GB), so a dataset's index often
    lists files that are absent. Every adapter keeps what is there; ``prepare`` lists each
    missing file in ``failures.csv`` and counts them in its summary. Only a dataset with
    nothing on disk is an error.
    """
    present, absent = [], []
    for s in manifest.samples:
        (present if manifest.resolve(s).is_file() else absent).append(s)
    missing = [*manifest.missing, *(str(manifest.resolve(s)) for s in absent)]
    if not present and missing:
        raise ManifestError(f"{manifest.name} ({manifest.root}): none of the {len(missing)} "
                            f"listed files is on disk (first: {missing[0]})")
    return replace(manifest, samples=present, missing=missing)
