"""Every registered dataset adapter reads a fixture tree in its dataset's own layout.

Parametrised over the adapter registry: an adapter registered without a fixture here fails
``test_every_adapter_has_a_fixture``. Each fixture lays out folder and index-file names exactly as
the dataset ships them (tiny generated media inside) and states, written out by hand, how many
samples, labels, splits and groups ``build_manifest`` must find; the manifest must validate
(files present, no group in two splits).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from dfdetect.data.adapters import ADAPTERS, _load_builtin, build_manifest
from dfdetect.data.manifest import validate


def _audio(root: Path, *names: str) -> None:
    import soundfile as sf

    wave = (0.1 * np.random.default_rng(0).standard_normal(1600)).astype(np.float32)
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(root / name), wave, 16000)


def _images(root: Path, *names: str) -> None:
    import cv2

    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / name), np.full((8, 8, 3), 128, np.uint8))


def _text(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


def ffpp(root: Path, put) -> dict:
    v = "{}/c23/videos/{}.mp4"
    put(root, *[v.format("original_sequences/youtube", s) for s in ("000", "003", "010", "020")],
        *[v.format("manipulated_sequences/Deepfakes", s)
          for s in ("000_003", "003_000", "010_020")],
        *[v.format("manipulated_sequences/Face2Face", s) for s in ("000_003", "020_010")],
        *[v.format("original_sequences/actors", s) for s in ("01__walking", "02__talking")],
        v.format("manipulated_sequences/DeepFakeDetection", "01_02__walking__ABCDEF12"),
        "original_sequences/youtube/c40/videos/000.mp4")  # another compression: not read
    _text(root, "splits/train.json", '[["000", "003"]]')
    _text(root, "splits/val.json", '[["010", "020"]]')
    _text(root, "splits/test.json", "[]")
    # pair 000/003 -> train (5 videos), pair 010/020 -> val (4), actors unlisted (3)
    return {"n": 12, "labels": {"real": 6, "fake": 6}, "splits": {"train": 5, "val": 4, "": 3},
            "groups": 3, "methods": {"none", "Deepfakes", "Face2Face", "DeepFakeDetection"}}


def celebdf(root: Path, put) -> dict:
    put(root, "Celeb-real/id0_0000.mp4", "Celeb-real/id0_0001.mp4", "Celeb-real/id1_0000.mp4",
        "Celeb-synthesis/id0_id1_0000.mp4", "Celeb-synthesis/id0_id1_0001.mp4",
        "Celeb-synthesis/id1_id0_0000.mp4", "YouTube-real/00000.mp4", "YouTube-real/00001.mp4")
    _text(root, "List_of_testing_videos.txt", "1 YouTube-real/00000.mp4\n"
          "0 Celeb-synthesis/id1_id0_0000.mp4\n1 Celeb-real/id1_0000.mp4\n")
    # groups: celebrity id0 (4 videos), id1 (2, both test), each YouTube-real video (2)
    return {"n": 8, "labels": {"real": 5, "fake": 3}, "splits": {"test": 3, "": 5},
            "groups": 4, "methods": {"none", "celebdf_synthesis"}}


def dfdc(root: Path, put) -> dict:
    put(root, *[f"dfdc_train_part_0/{n}.mp4" for n in ("aaqaifqrwn", "abofeumbvv", "acxnxvbsxk",
                                                        "adhsbajydo")],
        "dfdc_train_part_1/aelfnikyqj.mp4")
    meta0 = {"aaqaifqrwn.mp4": {"label": "REAL", "split": "train", "original": None},
             "abofeumbvv.mp4": {"label": "FAKE", "split": "train", "original": "aaqaifqrwn.mp4"},
             "acxnxvbsxk.mp4": {"label": "FAKE", "split": "train", "original": "aaqaifqrwn.mp4"},
             "adhsbajydo.mp4": {"label": "REAL", "split": "train", "original": None}}
    meta1 = {"aelfnikyqj.mp4": {"label": "FAKE", "split": "train", "original": "adhsbajydo.mp4"}}
    _text(root, "dfdc_train_part_0/metadata.json", json.dumps(meta0))
    _text(root, "dfdc_train_part_1/metadata.json", json.dumps(meta1))
    # "train" everywhere carries no split; groups are the two originals
    return {"n": 5, "labels": {"real": 2, "fake": 3}, "splits": {"": 5}, "groups": 2,
            "methods": {"none", "dfdc"}}


def asvspoof2019(root: Path, put) -> dict:
    protos = {"train.trn": ["LA_0079 LA_T_1138215 - - bonafide", "LA_0079 LA_T_1271820 - A01 spoof",
                            "LA_0080 LA_T_1000001 - A02 spoof"],
              "dev.trl": ["LA_0069 LA_D_1047731 - - bonafide", "LA_0069 LA_D_1105538 - A03 spoof"],
              "eval.trl": ["LA_0039 LA_E_2834763 - A11 spoof", "LA_0040 LA_E_1000002 - - bonafide"]}
    part = {"T": "train", "D": "dev", "E": "eval"}
    for name, lines in protos.items():
        _text(root, f"ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{name}.txt",
              "\n".join(lines) + "\n")
        _audio(root, *[f"ASVspoof2019_LA_{part[u.split()[1][3]]}/flac/{u.split()[1]}.flac"
                       for u in lines])
    return {"n": 7, "labels": {"real": 3, "fake": 4}, "splits": {"train": 3, "val": 2, "test": 2},
            "groups": 5, "methods": {"none", "A01", "A02", "A03", "A11"}}


def asvspoof2021(root: Path, put) -> dict:
    _text(root, "LA-keys-full/keys/LA/CM/trial_metadata.txt",
          "LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval\n"
          "LA_0020 LA_E_6866159 none - - bonafide notrim progress\n"
          "LA_0009 LA_E_5464494 g722 loc_tx A16 spoof notrim hidden_track\n")
    _audio(root, *[f"ASVspoof2021_LA_eval/flac/{u}.flac"
                   for u in ("LA_E_9332881", "LA_E_6866159", "LA_E_5464494")])
    return {"n": 3, "labels": {"real": 1, "fake": 2}, "splits": {"test": 3}, "groups": 2,
            "methods": {"none", "A07", "A16"}}


def asvspoof5(root: Path, put) -> dict:
    _text(root, "ASVspoof5.train.tsv", "T_4850 T_0000000000 F - - - AC3 A05 spoof -\n"
          "T_4850 T_0000000001 F - - - - bonafide bonafide -\n")
    _text(root, "ASVspoof5.dev.track_1.tsv", "D_0062 D_0000000001 M - - - AC1 A11 spoof -\n")
    _audio(root, "flac_T/T_0000000000.flac", "flac_T/T_0000000001.flac",
           "flac_D/D_0000000001.flac")
    return {"n": 3, "labels": {"real": 1, "fake": 2}, "splits": {"train": 2, "val": 1},
            "groups": 2, "methods": {"none", "A05", "A11"}}


def in_the_wild(root: Path, put) -> dict:
    _text(root, "release_in_the_wild/meta.csv", "file,speaker,label\n0.wav,Alec Guinness,spoof\n"
          "1.wav,Alec Guinness,bona-fide\n2.wav,Barack Obama,bona-fide\n")
    _audio(root, "release_in_the_wild/0.wav", "release_in_the_wild/1.wav",
           "release_in_the_wild/2.wav")
    return {"n": 3, "labels": {"real": 2, "fake": 1}, "splits": {"": 3}, "groups": 2,
            "methods": {"none", "in_the_wild"}}


def wavefake(root: Path, put) -> dict:
    _audio(root, "LJSpeech-1.1/wavs/LJ001-0001.wav", "LJSpeech-1.1/wavs/LJ001-0002.wav",
           "jsut_ver1.1/basic5000/wav/BASIC5000_0001.wav",
           "generated_audio/ljspeech_melgan/LJ001-0001_gen.wav",
           "generated_audio/ljspeech_melgan/LJ001-0002_gen.wav",
           "generated_audio/ljspeech_hifiGAN/LJ001-0001_gen.wav",
           "generated_audio/jsut_multi_band_melgan/BASIC5000_0001_gen.wav")
    return {"n": 7, "labels": {"real": 3, "fake": 4}, "splits": {"": 7}, "groups": 3,
            "methods": {"none", "ljspeech_melgan", "ljspeech_hifiGAN", "jsut_multi_band_melgan"}}


def audio_folder(root: Path, put) -> dict:
    _audio(root, "bonafide/a.wav", "bonafide/spk1/b.flac", "spoof/tts/c.wav", "spoof/d.wav")
    _images(root, "spoof/cover.jpg")  # not audio: left out
    _text(root, "spoof/notes.txt", "not media")
    return {"n": 4, "labels": {"real": 2, "fake": 2}, "splits": {"": 4}, "groups": 2,
            "methods": {"none", "tts", ""}}


def folder(root: Path, put) -> dict:
    _images(root, "real/a.jpg", "real/person_3/b.png", "fake/deepfakes/c.jpg", "fake/d.jpg")
    _text(root, "fake/readme.txt", "not media")
    return {"n": 4, "labels": {"real": 2, "fake": 2}, "splits": {"": 4}, "groups": 2,
            "methods": {"none", "deepfakes", ""}}


def labels_csv(root: Path, put) -> dict:
    _images(root, "img/a.jpg", "img/b.jpg", "img/c.jpg")
    _text(root, "labels.csv", "path,label,group,split,generator\nimg/a.jpg,real,p1,train,\n"
          "img/b.jpg,fake,p1,train,flux\nimg/c.jpg,real,p2,test,\n")
    return {"n": 3, "labels": {"real": 2, "fake": 1}, "splits": {"train": 2, "test": 1},
            "groups": 2, "methods": {"none", "flux"}}


FIXTURES = {f.__name__: f for f in (ffpp, celebdf, dfdc, asvspoof2019, asvspoof2021, asvspoof5,
                                     in_the_wild, wavefake, audio_folder, folder, labels_csv)}


def _registered() -> list[str]:
    _load_builtin()
    return ADAPTERS.names()


def test_every_adapter_has_a_fixture() -> None:
    assert sorted(_registered()) == sorted(FIXTURES)


@pytest.mark.parametrize("name", _registered())
def test_adapter_reads_its_dataset_layout(name: str, tmp_path: Path, put) -> None:
    if name not in FIXTURES:
        pytest.fail(f"adapter '{name}' has no fixture tree in {__file__}")
    root = tmp_path / name
    want = FIXTURES[name](root, put)
    m = build_manifest(name, str(root))
    validate(m, check_files=True)
    assert len(m) == want["n"]
    assert Counter(s.label for s in m.samples) == Counter(want["labels"])
    assert Counter(s.split for s in m.samples) == Counter(want["splits"])
    assert len({s.group for s in m.samples if s.group}) == want["groups"]
    assert {s.method for s in m.samples} == want["methods"]
    assert len({s.id for s in m.samples}) == want["n"]
