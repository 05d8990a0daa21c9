"""Tests for audio preparation: conversion cache, resume, failure log, shortcut warning."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

from dfdetect.cli.main import main
from dfdetect.data.audio_prepare import shortcut_warnings
from dfdetect.data.manifest import Manifest, Sample, read_manifest


def make_folder(root: Path, real_rate: int, fake_rate: int, n: int = 6,
                real_subtype: str = "PCM_16", fake_subtype: str = "PCM_16") -> Path:
    rng = np.random.default_rng(0)
    for cls, rate, sub in (("bonafide", real_rate, real_subtype), ("spoof", fake_rate, fake_subtype)):
        for i in range(n):
            p = root / cls / f"spk{i}" / f"{cls}{i}.wav"
            p.parent.mkdir(parents=True, exist_ok=True)
            secs = rng.uniform(0.2, 0.4)
            sf.write(str(p), 0.1 * rng.standard_normal(int(secs * rate)), rate, subtype=sub)
    return root


def rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_prepare_converts_caches_and_resumes(tmp_path, capsys):
    src = make_folder(tmp_path / "src", 22050, 22050)
    (src / "spoof" / "broken.wav").write_bytes(b"RIFF not really")
    out = tmp_path / "prepared" / "manifest.csv"
    args = ["prepare", "data=audio_folder", f"root={src}", f"out={out}", "split_ratio=0.5,0.5,0"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "12 converted, 0 already cached, 1 failed" in first
    m = read_manifest(out)
    assert len(m) == 12 and {s.modality for s in m.samples} == {"audio"}
    clip = m.resolve(m.samples[0])
    assert clip.parent == out.parent / "audio" and sf.info(str(clip)).samplerate == 16000
    assert m.samples[0].extra["orig_sample_rate"] == "22050"
    assert not Path(m.samples[0].path).is_absolute()  # the prepared folder can move as a whole
    failures = rows(out.parent / "failures.csv")
    assert [Path(r["path"]).name for r in failures] == ["broken.wav"]
    assert main(args) == 0
    assert "0 converted, 12 already cached" in capsys.readouterr().out


def test_prepare_warns_when_sample_rate_gives_the_label_away(tmp_path, capsys):
    src = make_folder(tmp_path / "src", 22050, 16000)
    assert main(["prepare", "data=audio_folder", f"root={src}",
                 f"out={tmp_path / 'p' / 'manifest.csv'}", "convert_audio=false"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: sample rate alone predicts the label for 100% of files" in out
    assert "bit depth" not in out


def test_bit_depth_and_duration_shortcuts_and_a_clean_set():
    def sample(i, label, rate="16000", sub="PCM_16", secs="1.0"):
        return Sample(id=str(i), path=f"{i}.wav", label=label, modality="audio",
                      extra={"orig_sample_rate": rate, "orig_subtype": sub, "orig_format": "WAV",
                             "seconds": secs})

    clean = [sample(i, lab, secs=str(1 + (i % 3) * 0.5)) for i, lab in
             enumerate(["real", "fake"] * 10)]
    assert shortcut_warnings(Manifest(clean)) == []
    deep = [sample(i, lab, sub="PCM_24" if lab == "real" else "PCM_16", secs=str(1 + i % 3))
            for i, lab in enumerate(["real", "fake"] * 10)]
    assert [w.split(" alone")[0] for w in shortcut_warnings(Manifest(deep))] == ["bit depth"]
    longer = [sample(i, lab, secs=str((5 if lab == "real" else 1) + i * 0.01))
              for i, lab in enumerate(["real", "fake"] * 10)]
    (warning,) = shortcut_warnings(Manifest(longer))
    assert warning.startswith("duration alone separates the classes (AUC 1.00; real: median 5.1")
