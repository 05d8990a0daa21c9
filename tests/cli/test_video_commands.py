"""CLI behaviour of the video commands: prepare's early checks, merge and doctor errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dfdetect.cli.main import main


@pytest.fixture
def video_folder(tmp_path: Path) -> Path:
    from dfdetect.demo.clips import write_video

    for name in ("real/a.mp4", "fake/b.mp4"):
        write_video(tmp_path / "v" / name, [np.zeros((32, 32, 3), np.uint8)] * 2)
    return tmp_path / "v"


@pytest.mark.parametrize("option, message", [
    ("shard=2/2", "need 0 <= K < N"),
    ("detector=mtcnnn", "unknown face detector 'mtcnnn'; did you mean mtcnn"),
    ("fallback_detector=retinaface", "unknown face detector 'retinaface'"),
])
def test_prepare_stops_before_any_work_on_a_bad_option(video_folder, tmp_path, capsys, option,
                                                       message) -> None:
    out = tmp_path / "out"
    assert main(["prepare", "data=folder", f"root={video_folder}", f"out={out}", option]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (out / "done").exists()


def test_prepare_with_videos_needs_an_output_folder(video_folder, capsys) -> None:
    assert main(["prepare", "data=folder", f"root={video_folder}"]) == 2
    assert "needs out=<output folder>" in capsys.readouterr().err


def test_merge_without_shards_says_what_to_run(tmp_path, capsys) -> None:
    assert main(["merge", f"root={tmp_path}"]) == 2
    assert "run dfdetect prepare ... shard=K/N first" in capsys.readouterr().err


def test_doctor_needs_a_manifest(capsys) -> None:
    assert main(["doctor"]) == 2
    assert "doctor needs manifest=" in capsys.readouterr().err
