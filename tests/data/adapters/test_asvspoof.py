"""Tests for the ASVspoof adapters on tiny trees in each official layout."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dfdetect.data.adapters import build_manifest
from dfdetect.data.manifest import ManifestError, validate


def write_clip(path: Path, seconds: float = 0.2, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.1 * np.random.default_rng(0).standard_normal(int(seconds * rate))
                         ).astype(np.float32), rate)
    return path


def la19_tree(root: Path) -> Path:
    protos = {"train.trn": ("T", [("LA_0079", "LA_T_1", "-", "bonafide"),
                                  ("LA_0079", "LA_T_2", "A01", "spoof"),
                                  ("LA_0080", "LA_T_3", "A02", "spoof")]),
              "dev.trl": ("D", [("LA_0069", "LA_D_1", "-", "bonafide"),
                                ("LA_0069", "LA_D_2", "A03", "spoof")]),
              "eval.trl": ("E", [("LA_0039", "LA_E_1", "-", "bonafide"),
                                 ("LA_0040", "LA_E_2", "A19", "spoof")])}
    folders = {"train.trn": "train", "dev.trl": "dev", "eval.trl": "eval"}
    pdir = root / "ASVspoof2019_LA_cm_protocols"
    pdir.mkdir(parents=True)
    for part, (_, rows) in protos.items():
        lines = [f"{spk} {utt} - {sys_} {key}" for spk, utt, sys_, key in rows]
        (pdir / f"ASVspoof2019.LA.cm.{part}.txt").write_text("\n".join(lines) + "\n")
        for _, utt, _, _ in rows:
            write_clip(root / f"ASVspoof2019_LA_{folders[part]}" / "flac" / f"{utt}.flac")
    return root


def test_asvspoof2019_la(tmp_path):
    m = build_manifest("asvspoof2019", str(la19_tree(tmp_path / "LA")))
    validate(m)
    rows = {s.id: s for s in m.samples}
    assert len(rows) == 7
    assert rows["LA_T_1"].label == "real" and rows["LA_T_1"].method == "none"
    assert rows["LA_T_2"].label == "fake" and rows["LA_T_2"].method == "A01"
    assert rows["LA_D_2"].split == "val" and rows["LA_E_2"].split == "test"
    assert rows["LA_E_2"].method == "A19" and rows["LA_E_2"].group == "LA_0040"
    assert rows["LA_T_3"].path == "ASVspoof2019_LA_train/flac/LA_T_3.flac"
    assert {s.modality for s in m.samples} == {"audio"}


def test_asvspoof2019_missing_audio_is_left_out_and_reported(tmp_path):
    """Issue 11 §7: a partial download keeps what is there; the missing trial is reported."""
    root = la19_tree(tmp_path / "LA")
    before = len(build_manifest("asvspoof2019", str(root)))
    (root / "ASVspoof2019_LA_dev" / "flac" / "LA_D_2.flac").unlink()
    m = build_manifest("asvspoof2019", str(root))
    assert len(m) == before - 1 and "LA_D_2" not in {s.id for s in m.samples}
    assert len(m.missing) == 1 and "LA_D_2" in m.missing[0]
    for f in root.rglob("*.flac"):
        f.unlink()
    with pytest.raises(ManifestError, match="none of the .* unpacked"):
        build_manifest("asvspoof2019", str(root))


def test_asvspoof2019_without_protocols(tmp_path):
    with pytest.raises(ManifestError, match="protocol"):
        build_manifest("asvspoof2019", str(tmp_path))


@pytest.mark.parametrize("track", ["LA", "DF"])
def test_asvspoof2021_with_separate_keys(tmp_path, track):
    root = tmp_path / "asv21"
    keys = tmp_path / f"{track}-keys-full" / "keys" / track / "CM" / "trial_metadata.txt"
    keys.parent.mkdir(parents=True)
    keys.write_text(f"LA_0009 {track}_E_1 alaw ita_tx A07 spoof notrim eval\n"
                    f"LA_0009 {track}_E_2 none - - bonafide notrim progress\n"
                    f"LA_0012 {track}_E_3 mp3m4a vcc2020 A16 spoof trim hidden_track\n")
    for i in (1, 2, 3):
        write_clip(root / f"ASVspoof2021_{track}_eval" / "flac" / f"{track}_E_{i}.flac")
    m = build_manifest("asvspoof2021", str(root), protocol=str(keys.parents[3]), track=track)
    rows = {s.id: s for s in m.samples}
    assert {s.split for s in m.samples} == {"test"}
    assert rows[f"{track}_E_1"].method == "A07" and rows[f"{track}_E_1"].extra["codec"] == "alaw"
    assert rows[f"{track}_E_2"].label == "real" and rows[f"{track}_E_2"].method == "none"
    assert rows[f"{track}_E_3"].extra["subset"] == "hidden_track"
    assert m.name == f"asvspoof2021_{track.lower()}"


def test_asvspoof2021_keys_missing_says_where_they_come_from(tmp_path):
    with pytest.raises(ManifestError, match="keys are shipped"):
        build_manifest("asvspoof2021", str(tmp_path), track="DF")


def test_asvspoof5_tsv(tmp_path):
    root = tmp_path / "asv5"
    root.mkdir()
    (root / "ASVspoof5.train.tsv").write_text(
        "T_4850 T_0000000000 F - - - AC3 A05 spoof -\n"
        "T_4850 T_0000000001 F - - - - bonafide bonafide -\n")
    (root / "ASVspoof5.dev.track_1.tsv").write_text("D_0062 D_0000000001 M - - - - A11 spoof -\n")
    for name in ("T_0000000000", "T_0000000001"):
        write_clip(root / "flac_T" / f"{name}.flac")
    write_clip(root / "flac_D" / "D_0000000001.flac")
    m = build_manifest("asvspoof5", str(root))
    rows = {s.id: s for s in m.samples}
    assert rows["T_0000000000"].method == "A05" and rows["T_0000000000"].label == "fake"
    assert rows["T_0000000001"].label == "real" and rows["T_0000000001"].split == "train"
    assert rows["D_0000000001"].split == "val" and rows["D_0000000001"].group == "D_0062"
