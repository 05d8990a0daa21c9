"""Tests for In-the-Wild, WaveFake, audio_folder and the labels CSV on generated audio."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dfdetect.data.adapters import build_manifest
from dfdetect.data.manifest import ManifestError, group_split, group_leaks, validate


def write_clip(path: Path, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.zeros(rate // 10, dtype=np.float32) + 0.01, rate)
    return path


def test_in_the_wild_meta_csv(tmp_path):
    root = tmp_path / "release_in_the_wild"
    (root).mkdir()
    (root / "meta.csv").write_text("file,speaker,label\n0.wav,Alec Guinness,spoof\n"
                                   "1.wav,Alec Guinness,bona-fide\n2.wav,Barack Obama,spoof\n")
    for i in range(3):
        write_clip(root / f"{i}.wav")
    m = build_manifest("in_the_wild", str(tmp_path))
    validate(m)
    labels = {s.id: (s.label, s.group) for s in m.samples}
    assert labels == {"0": ("fake", "Alec Guinness"), "1": ("real", "Alec Guinness"),
                      "2": ("fake", "Barack Obama")}
    split = group_split(m.samples, (0.5, 0.5, 0.0), seed=0)
    assert not group_leaks(split)


def test_in_the_wild_unknown_label(tmp_path):
    (tmp_path / "meta.csv").write_text("file,speaker,label\n0.wav,X,fake-ish\n")
    with pytest.raises(ManifestError, match="line 2"):
        build_manifest("in_the_wild", str(tmp_path / "meta.csv"))


def test_wavefake_pairs_originals_and_vocoders(tmp_path):
    root = tmp_path / "wavefake"
    for utt in ("LJ001-0001", "LJ001-0002"):
        write_clip(root / "LJSpeech-1.1" / "wavs" / f"{utt}.wav")
        for voc in ("ljspeech_melgan", "ljspeech_hifiGAN"):
            write_clip(root / "generated_audio" / voc / f"{utt}_gen.wav")
    write_clip(root / "jsut_ver1.1" / "basic5000" / "wav" / "BASIC5000_0001.wav")
    write_clip(root / "generated_audio" / "jsut_multi_band_melgan" / "BASIC5000_0001_gen.wav")
    m = build_manifest("wavefake", str(root))
    validate(m)
    assert sum(s.label == "real" for s in m.samples) == 3
    fakes = [s for s in m.samples if s.label == "fake"]
    assert {s.method for s in fakes} == {"ljspeech_melgan", "ljspeech_hifiGAN",
                                         "jsut_multi_band_melgan"}
    assert {s.group for s in m.samples if s.source == "ljspeech"} == {"LJ001-0001", "LJ001-0002"}
    assert {s.source for s in m.samples if s.group == "BASIC5000_0001"} == {"jsut"}


def test_wavefake_without_originals(tmp_path):
    write_clip(tmp_path / "generated_audio" / "ljspeech_melgan" / "LJ001-0001_gen.wav")
    with pytest.raises(ManifestError, match="originals"):
        build_manifest("wavefake", str(tmp_path))


def test_audio_folder_default_and_custom_names(tmp_path):
    write_clip(tmp_path / "a" / "bonafide" / "x.wav")
    write_clip(tmp_path / "a" / "spoof" / "tts1" / "y.flac")
    (tmp_path / "a" / "spoof" / "notes.txt").write_text("not audio")
    m = build_manifest("audio_folder", str(tmp_path / "a"), real_label="real", fake_label="fake")
    assert sorted((s.label, s.method) for s in m.samples) == [("fake", "tts1"), ("real", "none")]
    write_clip(tmp_path / "b" / "human" / "x.wav")
    write_clip(tmp_path / "b" / "cloned" / "y.wav")
    m = build_manifest("audio_folder", str(tmp_path / "b"), real_label="human",
                       fake_label="cloned")
    assert {s.modality for s in m.samples} == {"audio"} and len(m) == 2


def test_labels_csv_like_speech_vocoded(tmp_path):
    (tmp_path / "labels.csv").write_text(
        "path,label,group,seconds,system,lang\naudio/a.flac,spoof,6,7.1,melgan_ours,kor\n"
        "audio/b.flac,bonafide,6,7.0,gt,kor\n")
    write_clip(tmp_path / "audio" / "a.flac")
    write_clip(tmp_path / "audio" / "b.flac")
    m = build_manifest("labels_csv", str(tmp_path), real_label="bonafide", fake_label="spoof")
    assert {(s.label, s.method, s.modality) for s in m.samples} == {
        ("fake", "melgan_ours", "audio"), ("real", "gt", "audio")}
