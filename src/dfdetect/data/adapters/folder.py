"""A plain folder: ``root/<real_label>/**`` and ``root/<fake_label>/**``.

The label comes from the top-level class folder only (never from other path fragments). The
group is the first sub-folder under the class folder when files are nested (``real/person_3/a.jpg``
-> ``person_3``), otherwise the file itself; the method is that sub-folder for fakes.
"""
from __future__ import annotations

from pathlib import Path

from dfdetect.data.adapters import ADAPTERS, modality_of
from dfdetect.data.manifest import Manifest, ManifestError, Sample


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
    return Manifest(samples, base.resolve(), name=base.name)
