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


def test_a_same_size_rewrite_within_the_same_second_is_copied(tmp_path: Path) -> None:
    """The next epoch's last.ckpt often has the same size and lands in the same second."""
    import os

    src, dst = _run_dir(tmp_path), tmp_path / "drive" / "run"
    mirror = BackupMirror(src, dst)
    assert mirror.mirror_once() == 2
    first = (src / "last.ckpt").stat().st_mtime_ns
    (src / "last.ckpt").write_bytes(b"WEIGHTS")  # same size, new content
    second = first - first % 1_000_000_000 + (first + 1000) % 1_000_000_000  # same second
    os.utime(src / "last.ckpt", ns=(second, second))
    assert mirror.mirror_once() == 1
    assert (dst / "last.ckpt").read_bytes() == b"WEIGHTS"


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


def _resume_state(path: Path, epoch: int, step: int) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"loops": {}, "state_dict": {}, "epoch": epoch, "global_step": step}, path)


def test_restore_copies_the_mirror_back_and_keeps_newer_local_files(tmp_path: Path) -> None:
    import os

    from dfdetect.training.backup import restore_from_backup

    mirror, run = tmp_path / "drive" / "run", tmp_path / "runs" / "run"
    _resume_state(mirror / "resume.ckpt", epoch=1, step=30)
    (mirror / "logs").mkdir()
    (mirror / "logs" / "metrics.csv").write_text("from the mirror\n")
    (mirror / "last.ckpt").write_bytes(b"old weights")
    (mirror / ".best.ckpt.backup-tmp").write_bytes(b"half")  # a copy cut by the reset
    os.utime(mirror / "last.ckpt", (1_000_000, 1_000_000))
    run.mkdir(parents=True)
    (run / "last.ckpt").write_bytes(b"newer local weights")
    lines: list[str] = []
    restored = restore_from_backup(run, mirror, lines.append)
    assert restored == run / "resume.ckpt" and restored.read_bytes() == (
        mirror / "resume.ckpt").read_bytes()
    assert (run / "logs" / "metrics.csv").read_text() == "from the mirror\n"
    assert (run / "last.ckpt").read_bytes() == b"newer local weights"
    assert not list(run.glob(".*"))
    assert lines == [f"restored {run} from {mirror} (resume state at epoch 2, step 30)"]
    assert restore_from_backup(run, mirror, lines.append) is None  # it has its state now
    assert len(lines) == 1


def test_restore_needs_a_resume_state_in_the_mirror_and_refuses_a_damaged_one(tmp_path) -> None:
    import pytest

    from dfdetect.training.backup import restore_from_backup
    from dfdetect.training.resume import ResumeError

    mirror, run = tmp_path / "drive" / "run", tmp_path / "runs" / "run"
    mirror.mkdir(parents=True)
    (mirror / "last.ckpt").write_bytes(b"weights")
    assert restore_from_backup(run, mirror) is None and not run.exists()
    (mirror / "resume.ckpt").write_bytes(b"truncated")
    with pytest.raises(ResumeError, match="resume.ckpt: unreadable resume state"):
        restore_from_backup(run, mirror)
    assert not run.exists()


def test_restore_refuses_a_backup_the_check_rejects_before_copying(tmp_path: Path) -> None:
    import pytest

    from dfdetect.training.backup import restore_from_backup
    from dfdetect.training.resume import ResumeError

    mirror, run = tmp_path / "drive" / "run", tmp_path / "runs" / "run"
    _resume_state(mirror / "resume.ckpt", epoch=0, step=3)
    run.mkdir(parents=True)

    def wrong_model(path: Path) -> None:
        raise ResumeError(f"{path}: its weights do not fit this run's model")

    with pytest.raises(ResumeError, match="do not fit"):
        restore_from_backup(run, mirror, check=wrong_model)
    assert list(run.iterdir()) == []
