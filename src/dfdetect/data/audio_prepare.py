"""Audio preparation: decode, mono, resample, optional trim -> cached FLAC clips + a manifest.

Why cache: resampling 44.1 kHz MP3s on every epoch costs more than the model on a CPU. Each clip
is written once to ``<out folder>/audio/<key>.flac`` where the key hashes the source file (path,
size, mtime) and the settings, so a re-run skips finished clips (resumable) and a settings change
writes new ones. A file that cannot be decoded is one line in ``failures.csv`` and is left out.

The label-shortcut check (``prepare`` runs it on the original files, :mod:`dfdetect.data.
shortcuts`) reads :func:`audio_properties`: when sample rate, bit depth, codec or duration alone
separates bona fide from spoof, a model learns that instead of the artefacts.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from dfdetect.data.audio import check_header
from dfdetect.data.manifest import Manifest, Sample
from dfdetect.data.media import DecodeError
from dfdetect.data.shortcuts import DEFAULT_WARN, find_shortcuts
from dfdetect.failures import FailureLog
from dfdetect.io import atomic_write

Owns = Callable[[Sample], bool]  # which rows are audio (the audio modality decides)


def _every(_: Sample) -> bool:
    return True


def source_info(path: Path) -> dict[str, str]:
    """Original rate, bit depth (subtype), container and duration, from the header only."""
    import soundfile as sf

    from dfdetect.io import not_regular

    try:
        if not_regular(path):  # a FIFO would block sf.info forever
            raise ValueError(not_regular(path))
        info = sf.info(str(path))
        return {"orig_sample_rate": str(info.samplerate), "orig_subtype": info.subtype,
                "orig_format": info.format, "seconds": f"{info.duration:.3f}"}
    except Exception:  # formats libsndfile cannot parse: the suffix still names the codec
        return {"orig_sample_rate": "", "orig_subtype": "",
                "orig_format": path.suffix.lower().lstrip("."), "seconds": ""}


def clip_key(path: Path, sample_rate: int, trim: bool) -> str:
    """Content address of a converted clip: source identity + settings."""
    st = path.stat()
    text = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{sample_rate}|{int(trim)}"
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def convert_clip(src: Path, dst: Path, sample_rate: int, trim: bool) -> float:
    """Decode ``src`` and write a 16-bit mono FLAC at ``sample_rate``; returns seconds."""
    import soundfile as sf

    from dfdetect.data.audio import load_audio

    wave = load_audio(src, sample_rate, trim)
    atomic_write(dst, lambda f: sf.write(f, np.clip(wave, -1, 1), sample_rate, format="FLAC",
                                         subtype="PCM_16"))
    return wave.size / sample_rate


def convert_manifest(manifest: Manifest, out_dir: Path, sample_rate: int, trim: bool,
                     failures: FailureLog, echo=print, owns: Owns = _every) -> Manifest:
    """Converted copies of the rows ``owns`` picks (audio); other rows pass through unchanged."""
    from tqdm.auto import tqdm

    clips = out_dir / "audio"
    kept, done, skipped = [], 0, 0
    for s in tqdm(manifest.samples, desc="audio", unit="file", leave=False):
        if not owns(s):
            kept.append(s)
            continue
        src = manifest.resolve(s)
        try:
            check_header(src, sample_rate)  # a FIFO is never opened, a 1 Hz header never decoded
            info = source_info(src)
            dst = clips / f"{clip_key(src, sample_rate, trim)}.flac"
            if dst.is_file():
                skipped += 1
            else:
                info["seconds"] = f"{convert_clip(src, dst, sample_rate, trim):.3f}"
                done += 1
        except (DecodeError, FileNotFoundError) as e:
            failures.record(src, "prepare", str(e).split(": ", 1)[-1])
            continue
        except Exception as e:  # noqa: BLE001 - one odd file is one failure line, never the run
            failures.record(src, "prepare", f"{type(e).__name__}: {e}")
            continue
        extra = {**s.extra, **info, "original": str(src)}
        kept.append(replace(s, path=str(Path(os.path.abspath(dst))), extra=extra))
    echo(f"Audio: {done} converted, {skipped} already cached, {failures.count} failed -> {clips}")
    return replace(manifest, samples=kept)


def audio_properties(extra: dict) -> dict:
    """The shortcut-check properties of an audio row from its :func:`source_info` columns."""
    secs = extra.get("seconds", "")
    return {"sample rate": extra.get("orig_sample_rate", ""),
            "bit depth": extra.get("orig_subtype", ""),
            "codec / container": extra.get("orig_format", ""),
            "duration": float(secs) if secs else None}


def shortcut_warnings(manifest: Manifest, owns: Owns = _every,
                      threshold: float = DEFAULT_WARN) -> list[str]:
    """Properties of the original files (the rows' :func:`source_info` columns) that alone
    predict the label, one message each (:mod:`dfdetect.data.shortcuts`)."""
    rows = [s for s in manifest.samples if owns(s)]
    props: dict[str, list] = {}
    for s in rows:
        for k, v in audio_properties(s.extra).items():
            props.setdefault(k, []).append(v)
    found = find_shortcuts(props, [s.target for s in rows])
    return [s.message() for s in found if s.flags(threshold)]


def prepare_audio_manifest(manifest: Manifest, cfg, out: Path, echo=print,
                           owns: Owns = _every) -> Manifest:
    """The prepare step for audio rows (``owns``): convert (``cfg.convert_audio``) or record the
    originals' :func:`source_info`. A manifest without such rows is returned unchanged. (The
    label-shortcut check runs before, in ``prepare``, on the original files.)"""
    if not any(owns(s) for s in manifest.samples):
        return manifest
    failures = FailureLog(out.parent / "failures.csv")
    if cfg.convert_audio:
        manifest = convert_manifest(manifest, out.parent, int(cfg.sample_rate),
                                    bool(cfg.trim_silence), failures, echo, owns)
    else:
        manifest = replace(manifest, samples=[
            replace(s, extra={**s.extra, **source_info(manifest.resolve(s))})
            if owns(s) else s for s in manifest.samples])
    if failures.count:
        echo(f"{failures.count} audio file(s) could not be decoded: see {failures.path}")
    return manifest
