"""Issue 11 §7: a dataset whose index lists files that are not on disk (a partial download) is
prepared from what is there; each missing file is one failures.csv line (stage ``missing``)
and the summary says how many. The same rule for every adapter that reads an index."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from dfdetect.cli.main import main


def _clip(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.1 * np.random.default_rng(0).standard_normal(3200)).astype(np.float32),
             16000)


def _image(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((16, 16, 3), value, np.uint8)).save(path)


def _labels_csv(root: Path) -> tuple[list[str], list[str]]:
    rows = [(f"img/{i}.png", "real" if i % 2 else "fake", f"g{i}") for i in range(8)]
    (root / "labels.csv").parent.mkdir(parents=True, exist_ok=True)
    (root / "labels.csv").write_text("path,label,group\n" + "".join(
        f"{p},{lab},{g}\n" for p, lab, g in rows))
    for p, _, _ in rows[:6]:
        _image(root / p, 20 * len(p))
    return ["data=labels_csv", f"root={root / 'labels.csv'}"], ["6.png", "7.png"]


def _in_the_wild(root: Path) -> tuple[list[str], list[str]]:
    rows = [(f"{i}.wav", f"spk{i}", "spoof" if i % 2 else "bona-fide") for i in range(8)]
    (root / "meta.csv").parent.mkdir(parents=True, exist_ok=True)
    (root / "meta.csv").write_text("file,speaker,label\n" + "".join(
        f"{f},{s},{lab}\n" for f, s, lab in rows))
    for f, _, _ in rows[:6]:
        _clip(root / f)
    return ["data=in_the_wild", f"root={root}", "convert_audio=false"], ["6.wav", "7.wav"]


def _asvspoof2019(root: Path) -> tuple[list[str], list[str]]:
    pdir = root / "ASVspoof2019_LA_cm_protocols"
    pdir.mkdir(parents=True)
    parts = {"train.trn": "train", "dev.trl": "dev", "eval.trl": "eval"}
    for part, folder in parts.items():
        rows = [(f"S{folder}{i}", f"LA_{folder}_{i}", "-" if i % 2 else "A01",
                 "bonafide" if i % 2 else "spoof") for i in range(4)]
        (pdir / f"ASVspoof2019.LA.cm.{part}.txt").write_text(
            "".join(f"{s} {u} - {a} {k}\n" for s, u, a, k in rows))
        for _, utt, _, _ in rows[:3] if folder == "eval" else rows:
            _clip(root / f"ASVspoof2019_LA_{folder}" / "flac" / f"{utt}.flac")
    return ["data=asvspoof2019", f"root={root}", "convert_audio=false"], ["LA_eval_3.flac"]


BUILDERS = {"labels_csv": _labels_csv, "in_the_wild": _in_the_wild,
            "asvspoof2019": _asvspoof2019}


def _failures(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


# check_files=false: no file is looked at (rows kept as listed), except where the adapter cannot
# build a row without the file (ASVspoof finds audio by utterance id)
@pytest.mark.parametrize("check_files", ["true", "false"])
@pytest.mark.parametrize("adapter", list(BUILDERS))
def test_a_partial_dataset_is_prepared_and_the_missing_files_listed(tmp_path, capsys, adapter,
                                                                    check_files) -> None:
    args, missing = BUILDERS[adapter](tmp_path / "data")
    out = tmp_path / "out" / "manifest.csv"
    code = main(["prepare", *args, f"out={out}", f"check_files={check_files}"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = list(csv.DictReader(out.open()))
    assert rows
    if check_files == "true" or adapter == "asvspoof2019":  # no audio path to list: always
        assert not {Path(r["path"]).name for r in rows} & set(missing)
        failed = _failures(out.parent / "failures.csv")
        assert sorted(Path(r["path"]).name for r in failed if r["stage"] == "missing") == missing
        assert f"{len(missing)} listed file(s) are not on disk" in captured.out


def test_a_rerun_does_not_repeat_the_missing_lines(tmp_path, capsys) -> None:
    args, missing = _labels_csv(tmp_path / "data")
    out = tmp_path / "out" / "manifest.csv"
    assert main(["prepare", *args, f"out={out}"]) == 0
    assert main(["prepare", *args, f"out={out}"]) == 0  # same rows, same splits: allowed
    lines = _failures(out.parent / "failures.csv")  # (plus a line per image without a face)
    assert len([r for r in lines if r["stage"] == "missing"]) == len(missing)


def test_dfdc_with_two_of_five_videos_on_disk(tmp_path, capsys) -> None:
    """The case from the issue: metadata.json lists five videos, two were downloaded."""
    from dfdetect.demo.clips import astronaut_face, moving_face_frames, write_video

    part = tmp_path / "dfdc_train_part_0"
    part.mkdir()
    meta = {f"v{i}.mp4": {"label": "REAL" if i % 2 else "FAKE", "split": "train",
                          **({} if i % 2 else {"original": "v1.mp4"})} for i in range(5)}
    (part / "metadata.json").write_text(json.dumps(meta))
    for name in ("v0.mp4", "v1.mp4"):
        write_video(part / name, moving_face_frames(astronaut_face(), n=4, size=(96, 80)))
    out = tmp_path / "prep"
    code = main(["prepare", "data=dfdc", f"root={tmp_path}", f"out={out}",
                 "frames_per_video=2", "device=cpu"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    failed = [r for r in _failures(out / "failures.csv") if r["stage"] == "missing"]
    assert sorted(Path(r["path"]).name for r in failed) == ["v2.mp4", "v3.mp4", "v4.mp4"]
    assert "3 listed file(s) are not on disk" in captured.out
    videos = {r["video_id"] for r in csv.DictReader((out / "manifest.csv").open())}
    assert videos <= {"dfdc/v0", "dfdc/v1"} and videos
