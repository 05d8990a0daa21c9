"""Tests for the background backup mirror (dfdetect.training.backup)."""
from __future__ import annotations

import threading
from pathlib import Path

from dfdetect.training.backup import BackupMirror, _copy_atomic


def _run_dir(tmp_path: Path) -> Path:
    src = tmp_path / "run"
    (src / "logs").mkdir(parents=True)
    (src / "last.ckpt").write_bytes(b"weights")
    (src / "logs" / "metrics.csv").write_text("step,loss\n")
    (src / ".last.ckpt.123.tmp").write_bytes(b"half")  # an atomic write in progress
    return src


def test_mirrors_checkpoints_and_logs_but_not_temp_files(tmp_path: Path) -> None:
    src, dst = _run_dir(tmp_path), tmp_path / "drive" / "run"
    mirror = BackupMirror(src, dst)
    mirror.request()
    mirror.close(timeout=30)
    assert (dst / "last.ckpt").read_bytes() == b"weights"
    assert (dst / "logs" / "metrics.csv").read_text() == "step,loss\n"
    assert not (dst / ".last.ckpt.123.tmp").exists()
    assert mirror.mirror_once() == 0  # unchanged files are not copied again


def test_request_does_not_wait_for_the_copy(tmp_path: Path) -> None:
    src, dst = _run_dir(tmp_path), tmp_path / "drive"
    release, started = threading.Event(), threading.Event()

    def slow_copy(a: Path, b: Path) -> None:
        started.set()
        release.wait(30)
        _copy_atomic(a, b)

    mirror = BackupMirror(src, dst, copy=slow_copy)
    mirror.request()
    assert started.wait(10)
    mirror.request()  # while a copy is blocked: returns at once
    assert not (dst / "last.ckpt").exists()
    release.set()
    mirror.close(timeout=30)
    assert (dst / "last.ckpt").is_file()


def test_a_failing_drive_is_reported_not_raised(tmp_path: Path) -> None:
    def broken(a: Path, b: Path) -> None:
        raise OSError("No space left on device")

    mirror = BackupMirror(_run_dir(tmp_path), tmp_path / "drive", copy=broken)
    mirror.request()
    mirror.close(timeout=30)
    assert mirror.errors and "No space left" in mirror.errors[0]
