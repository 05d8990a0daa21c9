"""Celeb-DF v2: ``Celeb-real/``, ``YouTube-real/``, ``Celeb-synthesis/`` and the official
``List_of_testing_videos.txt``.

Labels come from the three folders (the dataset's own classes); the test list (lines ``<1|0>
<folder>/<file>.mp4``, 1 = real) marks the official test split and must agree with the folder.
Group = celebrity: ``id0_0003.mp4`` and the fake ``id0_id16_0003.mp4`` (target id0, face of id16)
are both ``celebdf:id0``; a YouTube-real video is its own group. The published test list shares
celebrities with the remaining videos, so where a celebrity straddles the official split its
videos are grouped per source clip (``id0_0003``), and failing that per video.
"""
from __future__ import annotations

from pathlib import Path

from dfdetect.data.adapters import ADAPTERS
from dfdetect.data.adapters._common import refine_straddling
from dfdetect.data.manifest import Manifest, ManifestError, Sample

FOLDERS = {"Celeb-real": ("real", "none"), "YouTube-real": ("real", "none"),
           "Celeb-synthesis": ("fake", "celebdf_synthesis")}
TEST_LIST = "List_of_testing_videos.txt"


def _test_list(path: Path) -> dict[str, str]:
    """relative path -> label named by the list (1 = real, 0 = fake)."""
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0] not in ("0", "1"):
            raise ManifestError(f"{path} line {n}: expected '<1|0> <folder>/<file>.mp4', "
                                f"got '{line.strip()}'")
        out[parts[1]] = "real" if parts[0] == "1" else "fake"
    return out


def _clip(folder: str, stem: str) -> tuple[str, str]:
    """(group, source clip) of a video: celebrity and its original clip."""
    parts = stem.split("_")
    if folder == "YouTube-real":
        return f"youtube:{stem}", f"youtube:{stem}"
    celeb = parts[0]
    return f"celeb:{celeb}", f"{celeb}_{parts[-1]}"


@ADAPTERS.register("celebdf")
def celebdf(root: str, official_split: bool = True, **_: object) -> Manifest:
    """Manifest of Celeb-DF (v2) videos with the official test split when present."""
    base = Path(root)
    listed = _test_list(base / TEST_LIST) if official_split and (base / TEST_LIST).is_file() else {}
    samples, clip_of = [], {}
    for folder, (label, method) in FOLDERS.items():
        for f in sorted((base / folder).glob("*.mp4")):
            rel = f.relative_to(base).as_posix()
            if rel in listed and listed[rel] != label:
                raise ManifestError(f"{base / TEST_LIST}: lists {rel} as {listed[rel]}, but "
                                    f"{folder}/ holds {label} videos")
            group, clip_of[rel] = _clip(folder, f.stem)
            samples.append(Sample(id=f"{folder}/{f.stem}", path=rel, label=label,
                                  split="test" if rel in listed else "", group=group,
                                  source="celebdf", method=method, modality="video"))
    if not samples:
        raise ManifestError(f"celebdf {base}: no videos in {', '.join(FOLDERS)}")
    absent = sorted(set(listed) - {s.path for s in samples})  # a partial download: reported
    samples = refine_straddling(samples, [lambda s: clip_of[s.path]])
    return Manifest(samples, base.resolve(), name="celebdf",
                    missing=[str(base.resolve() / a) for a in absent])
