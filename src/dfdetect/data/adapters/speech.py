"""Speech deepfake sets outside ASVspoof: In-the-Wild, WaveFake and a plain bonafide/spoof folder.

- ``in_the_wild``: ``release_in_the_wild/meta.csv`` (``file,speaker,label`` with labels
  ``bona-fide`` / ``spoof``); group = speaker, so a celebrity never straddles splits.
- ``wavefake``: ``generated_audio/<vocoder>/<utt>_gen.wav`` beside the originals
  (``LJSpeech-1.1/wavs/<utt>.wav``, ``jsut_ver1.1/<subset>/wav/<utt>.wav``); group = utterance, so
  an utterance and all its vocoded copies share a split; method = the vocoder folder.
- ``audio_folder``: ``root/bonafide/**`` and ``root/spoof/**`` (names via ``real_label`` /
  ``fake_label``), the folder adapter restricted to audio.
"""
from __future__ import annotations

import csv
from pathlib import Path

from dfdetect.data.adapters import ADAPTERS, AUDIO_EXTS
from dfdetect.data.adapters.folder import folder
from dfdetect.data.manifest import Manifest, ManifestError, Sample

_ITW_LABELS = {"bona-fide": "real", "bonafide": "real", "spoof": "fake"}


@ADAPTERS.register("in_the_wild")
def in_the_wild(root: str, **_: object) -> Manifest:
    """In-the-Wild (Müller et al. 2022) from its meta.csv (root: the folder or the CSV)."""
    meta = Path(root)
    if meta.is_dir():
        meta = next(iter(sorted(meta.rglob("meta.csv"))), meta / "meta.csv")
    if not meta.is_file():
        raise ManifestError(f"In-the-Wild: meta.csv not found under {root}")
    samples = []
    with meta.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"file", "speaker", "label"} <= set(reader.fieldnames):
            raise ManifestError(f"{meta}: needs columns file,speaker,label; found "
                                f"{reader.fieldnames}")
        for n, row in enumerate(reader, start=2):
            label = _ITW_LABELS.get(row["label"].strip().lower())
            if label is None:
                raise ManifestError(f"{meta} line {n}: unknown label '{row['label']}' (expected "
                                    "bona-fide or spoof)")
            name = row["file"].strip()
            samples.append(Sample(id=Path(name).stem, path=name, label=label,
                                  group=row["speaker"].strip(), source="in_the_wild",
                                  method="none" if label == "real" else "in_the_wild",
                                  modality="audio"))
    return Manifest(samples, meta.parent.resolve(), name="in_the_wild")


def _originals(base: Path) -> list[tuple[Path, str]]:
    """(file, source) for LJSpeech and JSUT originals under ``base``."""
    found = [(f, "ljspeech") for d in base.glob("LJSpeech*/wavs") for f in sorted(d.glob("*.wav"))]
    found += [(f, "jsut") for d in base.glob("jsut*/*/wav") for f in sorted(d.glob("*.wav"))]
    return found


@ADAPTERS.register("wavefake")
def wavefake(root: str, **_: object) -> Manifest:
    """WaveFake (Frank & Schönherr 2021): vocoder folders beside the LJSpeech / JSUT originals."""
    base = Path(root)
    gen = base / "generated_audio" if (base / "generated_audio").is_dir() else base
    samples: list[Sample] = []
    for f, source in _originals(base):
        samples.append(Sample(id=f"{source}/{f.stem}", path=f.relative_to(base).as_posix(),
                              label="real", group=f.stem, source=source, method="none",
                              modality="audio"))
    for vdir in sorted(d for d in gen.iterdir() if d.is_dir() and d.name != "wavs"):
        if vdir.name.startswith(("LJSpeech", "jsut_ver")):  # the originals, when side by side
            continue
        for f in sorted(p for p in vdir.rglob("*") if p.suffix.lower() in AUDIO_EXTS):
            utt = f.stem[:-4] if f.stem.endswith("_gen") else f.stem
            source = "jsut" if vdir.name.startswith("jsut") else "ljspeech"
            samples.append(Sample(id=f"{vdir.name}/{f.stem}", path=f.relative_to(base).as_posix(),
                                  label="fake", group=utt, source=source, method=vdir.name,
                                  modality="audio"))
    if not any(s.label == "fake" for s in samples):
        raise ManifestError(f"WaveFake: no vocoder folders with audio under {gen}")
    if not any(s.label == "real" for s in samples):
        raise ManifestError(f"WaveFake: no originals under {base} (expected LJSpeech-1.1/wavs/ "
                            "or jsut_ver1.1/<subset>/wav/ beside generated_audio/)")
    return Manifest(samples, base.resolve(), name="wavefake")


@ADAPTERS.register("audio_folder")
def audio_folder(root: str, real_label: str = "bonafide", fake_label: str = "spoof",
                 **_: object) -> Manifest:
    """``root/bonafide`` and ``root/spoof`` (or the given names; real/fake falls back to these)."""
    base = Path(root)
    if not (base / real_label).is_dir() and (base / "bonafide").is_dir():
        real_label, fake_label = "bonafide", "spoof"
    return folder(root, real_label=real_label, fake_label=fake_label, modalities=("audio",))
