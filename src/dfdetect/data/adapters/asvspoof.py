"""ASVspoof challenge sets from their own protocol files: 2019 LA, 2021 LA / DF, ASVspoof 5.

Why protocol files: the label, attack system and speaker of every trial are only in them (file
names carry none of it). Rows map to the manifest as: group = speaker (no speaker straddles
splits), method = attack system (``none`` for bona fide), label bonafide -> real, spoof -> fake.

Layouts read (the official archives, unpacked under ``root``)::

    2019 LA: ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt
             ASVspoof2019_LA_{train,dev,eval}/flac/<utt>.flac
             lines "SPEAKER UTT - SYSTEM KEY", e.g. "LA_0079 LA_T_1138215 - - bonafide"
    2021 LA/DF: ASVspoof2021_{LA,DF}_eval/flac/<utt>.flac; keys shipped separately
             (protocol=.../keys/LA/CM/trial_metadata.txt), lines
             "SPEAKER UTT CODEC SOURCE ATTACK KEY TRIM SUBSET ..."
    ASVspoof 5: ASVspoof5.{train,dev.track_1,eval.track_1}.tsv beside flac_T/ flac_D/ flac_E*/,
             lines "SPEAKER FILE GENDER CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK KEY -"
"""
from __future__ import annotations

import re
from pathlib import Path

from dfdetect.data.adapters import ADAPTERS
from dfdetect.data.manifest import Manifest, ManifestError, Sample

KEYS = {"bonafide": "real", "bona-fide": "real", "spoof": "fake"}
_ATTACK = re.compile(r"^A\d{2,}$")


def _read_lines(path: Path) -> list[tuple[int, list[str]]]:
    with path.open(encoding="utf-8") as f:
        return [(n, line.split()) for n, line in enumerate(f, start=1) if line.strip()]


def _key_of(parts: list[str], path: Path, n: int) -> str:
    keys = [p for p in parts if p in KEYS]
    if not keys:
        raise ManifestError(f"{path} line {n}: no bonafide/spoof key in '{' '.join(parts)}'")
    return KEYS[keys[-1]]


def _index_audio(folders: list[Path]) -> dict[str, Path]:
    """utterance id -> file, for every audio file under the given folders."""
    found: dict[str, Path] = {}
    for d in folders:
        if d.is_dir():
            for f in d.rglob("*"):
                if f.suffix.lower() in (".flac", ".wav") and f.is_file():
                    found.setdefault(f.stem, f)
    return found


def _sample(utt: str, audio: dict[str, Path], base: Path, label: str, split: str,
            speaker: str, attack: str, source: str, extra: dict | None = None) -> Sample:
    f = audio.get(utt)
    path = f.relative_to(base).as_posix() if f else f"{utt}.flac"
    return Sample(id=utt, path=path, label=label, split=split, group=speaker, source=source,
                  method="none" if label == "real" else (attack or "unknown"), modality="audio",
                  extra=extra or {})


def _missing_audio(samples: list[Sample], audio: dict[str, Path], where: str,
                   base: Path, name: str) -> Manifest:
    """The trials with audio; trials without (a partial download) are reported as missing.
    None at all is an error: the archive is probably not unpacked under root."""
    present = [s for s in samples if s.id in audio]
    if samples and not present:
        raise ManifestError(f"{where}: none of the {len(samples)} trial(s) of the protocol has an "
                            "audio file; is the audio archive unpacked under root?")
    missing = [str(base.resolve() / s.path) for s in samples if s.id not in audio]
    return Manifest(present, base.resolve(), name=name, missing=missing)


@ADAPTERS.register("asvspoof2019")
def asvspoof2019(root: str, **_: object) -> Manifest:
    """ASVspoof 2019 LA: train -> train, dev -> val, eval -> test."""
    base = Path(root)
    proto_dir = next((d for d in (base / "ASVspoof2019_LA_cm_protocols", base) if d.is_dir()),
                     base)
    splits = {"train.trn": "train", "dev.trl": "val", "eval.trl": "test"}
    audio = _index_audio([base / f"ASVspoof2019_LA_{s}" for s in ("train", "dev", "eval")])
    samples: list[Sample] = []
    for part, split in splits.items():
        proto = proto_dir / f"ASVspoof2019.LA.cm.{part}.txt"
        if not proto.is_file():
            continue
        for n, parts in _read_lines(proto):
            if len(parts) < 5:
                raise ManifestError(f"{proto} line {n}: expected 'SPEAKER UTT - SYSTEM KEY'")
            samples.append(_sample(parts[1], audio, base, _key_of(parts, proto, n), split,
                                   parts[0], parts[3] if parts[3] != "-" else "", "asvspoof2019"))
    if not samples:
        raise ManifestError(f"{base}: no ASVspoof2019.LA.cm.*.txt protocol files found (looked in "
                            f"{proto_dir})")
    return _missing_audio(samples, audio, str(base), base, "asvspoof2019_la")


def _find_keys(base: Path, protocol: str, track: str) -> Path:
    if protocol:
        p = Path(protocol)
        if p.is_file():
            return p
        if p.is_dir():
            base = p
        else:
            raise ManifestError(f"protocol={protocol}: no such file or folder")
    hits = sorted(base.rglob("trial_metadata.txt"))
    hits = [h for h in hits if f"/{track}/" in h.as_posix()] or hits
    if not hits:
        raise ManifestError(f"{base}: no trial_metadata.txt found; the 2021 eval keys are shipped "
                            f"separately ({track}-keys-full.tar.gz): pass protocol=<its path>")
    return hits[0]


@ADAPTERS.register("asvspoof2021")
def asvspoof2021(root: str, protocol: str = "", track: str = "LA", **_: object) -> Manifest:
    """ASVspoof 2021 LA or DF evaluation set with its separately shipped keys (all test)."""
    base, track = Path(root), str(track).upper()
    keys = _find_keys(base, protocol, track)
    audio = _index_audio([base / f"ASVspoof2021_{track}_eval", base])
    samples = []
    for n, parts in _read_lines(keys):
        if len(parts) < 6:
            raise ManifestError(f"{keys} line {n}: expected 'SPEAKER UTT CODEC SOURCE ATTACK KEY "
                                "...'")
        extra = {"codec": parts[2], "channel": parts[3],
                 "subset": parts[7] if len(parts) > 7 else ""}
        samples.append(_sample(parts[1], audio, base, _key_of(parts[:6], keys, n), "test",
                               parts[0], parts[4] if parts[4] != "-" else "",
                               f"asvspoof2021_{track.lower()}", extra))
    return _missing_audio(samples, audio, str(base), base, f"asvspoof2021_{track.lower()}")


@ADAPTERS.register("asvspoof5")
def asvspoof5(root: str, protocol: str = "", **_: object) -> Manifest:
    """ASVspoof 5 from its public .tsv protocols (train, dev.track_1, eval.track_1)."""
    base = Path(root)
    protos = [Path(protocol)] if protocol else sorted(base.rglob("ASVspoof5.*.tsv"))
    if not protos or not all(p.is_file() for p in protos):
        raise ManifestError(f"{base}: no ASVspoof5.*.tsv protocol found (pass protocol=<file>)")
    audio = _index_audio([base])
    samples = []
    for proto in protos:
        name = proto.name.lower()
        split = "train" if ".train" in name else ("val" if ".dev" in name else "test")
        for n, parts in _read_lines(proto):
            if len(parts) < 9:
                raise ManifestError(f"{proto} line {n}: expected 10 columns 'SPEAKER FILE GENDER "
                                    "CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK KEY -'")
            attack = next((p for p in parts[6:9] if _ATTACK.match(p)), "")
            extra = {"gender": parts[2], "codec": parts[3], "attack_tag": parts[6]}
            samples.append(_sample(parts[1], audio, base, _key_of(parts[:9], proto, n), split,
                                   parts[0], attack, "asvspoof5", extra))
    return _missing_audio(samples, audio, str(base), base, "asvspoof5")
