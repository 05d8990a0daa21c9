"""Atomic writes: the file's mode follows the process umask (a shared run folder stays shared)."""
from __future__ import annotations

import os
import stat

import pytest

from dfdetect.io import atomic_write_text, current_umask

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)])
def test_atomic_write_gives_the_mode_open_would(tmp_path, umask, mask, mode) -> None:
    umask(mask)
    path = atomic_write_text(tmp_path / "config.yaml", "a: 1\n")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what open() gives under the same umask
    assert stat.S_IMODE(path.stat().st_mode) == mode == stat.S_IMODE(plain.stat().st_mode)
    assert path.read_text() == "a: 1\n"


def test_replacing_a_file_applies_the_umask_again(tmp_path, umask) -> None:
    umask(0o077)
    path = atomic_write_text(tmp_path / "last.ckpt", "old")
    umask(0o002)
    atomic_write_text(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o664 and path.read_text() == "new"


def test_reading_the_umask_never_sets_it(umask, monkeypatch) -> None:
    """On Linux current_umask reads /proc: no moment with another mask for the backup thread
    (an os.umask round trip would have one)."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc")
    umask(0o027)

    def forbidden(_mask):
        raise AssertionError("os.umask called")

    monkeypatch.setattr(os, "umask", forbidden)
    assert current_umask() == 0o027
