"""FaceForensics++: the layout its download script creates, and its official split files.

Reads ``original_sequences/youtube/<comp>/videos/*.mp4`` (real; also ``original_sequences/actors``
for DeepFakeDetection) and ``manipulated_sequences/<method>/<comp>/videos/*.mp4`` (fake; method =
that folder). A fake ``000_003.mp4`` shows target video 000 with the face of 003, so 000, 003 and
their fakes form one group (a pair); DeepFakeDetection's ``01_02__scene__code.mp4`` links actors
01 and 02 (real ``01__scene.mp4``). ``splits/{train,val,test}.json`` (lists of id pairs) give the
official split when present; anything they do not list is split by group.
"""
from __future__ import annotations

import json
from pathlib import Path

from dfdetect.data.adapters import ADAPTERS
from dfdetect.data.adapters._common import UnionFind, refine_straddling
from dfdetect.data.manifest import Manifest, ManifestError, Sample

METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter",
           "DeepFakeDetection")
COMPRESSIONS = ("raw", "c23", "c40")


def _ids(method: str, stem: str) -> list[str]:
    """The source ids a video shows: youtube ids, or ``actor:NN`` for DeepFakeDetection."""
    if method in ("actors", "DeepFakeDetection"):
        return [f"actor:{a}" for a in stem.split("__")[0].split("_")]
    return stem.split("_")


def _official(root: Path) -> dict[str, str]:
    """Pair key (sorted ids joined by _) -> split, from splits/*.json."""
    out = {}
    for split in ("train", "val", "test"):
        f = root / "splits" / f"{split}.json"
        if not f.is_file():
            continue
        try:
            pairs = json.loads(f.read_text())
            for pair in pairs:
                out["_".join(sorted(str(x) for x in pair))] = split
        except (ValueError, TypeError) as e:
            raise ManifestError(f"{f}: not a JSON list of id pairs ({e})") from None
    return out


def _videos(root: Path, compression: str) -> list[tuple[str, str, Path]]:
    """(label, method, file) for every video of the chosen compression."""
    found = []
    for kind in ("youtube", "actors"):
        for f in sorted((root / "original_sequences" / kind / compression / "videos").glob("*.mp4")):
            found.append(("real", kind, f))
    for method in METHODS:
        for f in sorted((root / "manipulated_sequences" / method / compression / "videos")
                        .glob("*.mp4")):
            found.append(("fake", method, f))
    return found


@ADAPTERS.register("ffpp")
def ffpp(root: str, compression: str = "c23", official_split: bool = True,
         **_: object) -> Manifest:
    """Manifest of FaceForensics++ videos at ``compression`` (raw, c23, c40)."""
    base = Path(root)
    if compression not in COMPRESSIONS:
        raise ManifestError(f"ffpp: compression='{compression}', expected one of "
                            f"{', '.join(COMPRESSIONS)}")
    found = _videos(base, compression)
    if not found:
        raise ManifestError(f"ffpp {base}: no videos at original_sequences/youtube/{compression}/"
                            f"videos or manipulated_sequences/<method>/{compression}/videos")
    links = UnionFind()
    for _, method, f in found:
        links.union(*_ids(method, f.stem))
    groups = links.groups()
    official = _official(base) if official_split else {}
    samples, pair_of = [], {}
    for label, method, f in found:
        ids = _ids(method, f.stem)
        pair = "_".join(sorted(ids)) if len(ids) == 2 else ""
        pair_of[f.relative_to(base).as_posix()] = pair or ids[0]
        split = official.get(pair, "") if pair else ""
        if not split and label == "real":  # a real video: the split of the pair holding it
            split = next((sp for key, sp in official.items() if ids[0] in key.split("_")), "")
        prefix = "original" if label == "real" else method
        samples.append(Sample(
            id=f"{prefix}/{f.stem}" if method != "actors" else f"actors/{f.stem}",
            path=f.relative_to(base).as_posix(), label=label, split=split,
            group=f"ffpp:{groups[ids[0]]}", source=f"ffpp_{compression}",
            method="none" if label == "real" else method, modality="video",
            extra={"compression": compression}))
    samples = refine_straddling(samples, [lambda s: pair_of[s.path]])
    return Manifest(samples, base.resolve(), name=f"ffpp_{compression}")
