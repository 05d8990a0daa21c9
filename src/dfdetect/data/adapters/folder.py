"""A plain folder: ``root/<real_label>/**`` and ``root/<fake_label>/**``.

The label comes from the top-level class folder only (never from other path fragments). The
group is the first sub-folder under the class folder when files are nested (``real/person_3/a.jpg``
-> ``person_3``), otherwise the file itself; the method is that sub-folder for fakes.

A fake named after real files joins their group, so a source and its fakes share a split: a fake
whose file stem, or one of its ``_``-separated parts, is a real file's stem (``fake/Deepfakes/
000_003.mp4`` -> ``real/000.mp4`` and ``real/003.mp4``, which become one group too), or whose
first sub-folder is a real sub-folder (``fake/person_3/x.jpg`` -> ``real/person_3/``). The group
is then named after its first real member (``real/000.mp4``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from dfdetect.data.adapters import ADAPTERS, modality_of
from dfdetect.data.adapters._common import UnionFind, source_names
from dfdetect.data.manifest import Manifest, ManifestError, Sample


def link_to_sources(samples: list[Sample]) -> list[Sample]:
    """Fakes named after real files (see the module doc) take the group of those reals."""
    key = lambda s: s.group or s.id  # noqa: E731 - a real's current unit: sub-folder or file
    by_name: dict[str, set[str]] = defaultdict(set)
    for s in samples:
        if s.label == "real":
            by_name[Path(s.path).stem].add(key(s))
            if s.group:
                by_name[s.group.split("/", 1)[1]].add(key(s))
    links, real_keys = UnionFind(), {key(s) for s in samples if s.label == "real"}
    for s in samples:
        if s.label == "fake":
            names = source_names(Path(s.path).stem)
            names += [s.group.split("/", 1)[1]] if s.group else []
            found = {k for n in names for k in by_name.get(n, ())}
            if found:
                links.union(f"fake:{s.id}", *found)
    name: dict[str, str] = {}
    for k in list(links.parent):
        if k in real_keys:
            root = links.find(k)
            name[root] = min(name.get(root, k), k)
    lookup = lambda k: name[links.find(k)] if k in links.parent else None  # noqa: E731
    return [replace(s, group=(lookup(f"fake:{s.id}") if s.label == "fake" else lookup(key(s)))
                    or s.group) for s in samples]


@ADAPTERS.register("folder")
def folder(root: str, real_label: str = "real", fake_label: str = "fake",
           modalities: tuple[str, ...] = ("image", "video", "audio"), **_: object) -> Manifest:
    """Manifest of every media file under ``root/real_label`` and ``root/fake_label``."""
    base = Path(root)
    classes = {"real": base / real_label, "fake": base / fake_label}
    absent = [str(d) for d in classes.values() if not d.is_dir()]
    if absent:
        raise ManifestError(f"folder dataset {base}: missing class folder(s) {', '.join(absent)}; "
                            f"expected {real_label}/ and {fake_label}/ (names set by real_label= "
                            "and fake_label=)")
    samples = []
    for label, cdir in classes.items():
        for f in sorted(p for p in cdir.rglob("*") if p.is_file()):
            modality = modality_of(f.suffix)
            if modality not in modalities:
                continue
            rel_in_class = f.relative_to(cdir)
            nested = len(rel_in_class.parts) > 1
            group = f"{label}/{rel_in_class.parts[0]}" if nested else ""
            samples.append(Sample(
                id=f"{label}/{rel_in_class.as_posix()}",
                path=f.relative_to(base).as_posix(), label=label, group=group,
                source=base.name, method=(rel_in_class.parts[0] if nested and label == "fake"
                                          else ("none" if label == "real" else "")),
                modality=modality))
    if not samples:
        raise ManifestError(f"folder dataset {base}: no media files under {real_label}/ or "
                            f"{fake_label}/")
    return Manifest(link_to_sources(samples), base.resolve(), name=base.name)
