"""``backup_dir=``: mirror a run folder to a second place without slowing training.

Why: notebook sessions (Colab, Kaggle) lose their local disk when they end; mirroring
checkpoints and logs to a mounted drive after each save means ``resume=auto`` can continue from
the copy. Copies run in one background thread; a request while a copy is running just marks the
folder dirty, so training never waits and the mirror catches up with the newest files. Each
file is copied to a temporary name and renamed, so the mirror never holds a half-written file.

Example::

    mirror = BackupMirror("runs/effb4", "/content/drive/MyDrive/runs/effb4")
    mirror.request()        # returns at once
    mirror.close()          # at the end: waits for the last copy
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


def _copy_atomic(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.backup-tmp")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


class BackupMirror:
    """Copy new or changed files of ``src`` to ``dst`` in a background thread."""

    def __init__(self, src: str | os.PathLike, dst: str | os.PathLike,
                 copy: Callable[[Path, Path], None] = _copy_atomic) -> None:
        self.src, self.dst = Path(src), Path(dst)
        self.copy = copy
        self._wake = threading.Condition()
        self._dirty = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def request(self) -> None:
        """Ask for a mirror pass; never blocks on the copy itself."""
        with self._wake:
            self._dirty = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="dfdetect-backup",
                                                daemon=True)
                self._thread.start()
            self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._dirty and not self._closing:
                    self._wake.wait()
                if not self._dirty and self._closing:
                    return
                self._dirty = False
            self.mirror_once()

    def mirror_once(self) -> int:
        """Copy files whose size or modification time differ; returns how many were copied."""
        copied = 0
        for path in sorted(self.src.rglob("*")):
            if not path.is_file() or path.name.startswith("."):  # temp files of atomic writes
                continue
            target = self.dst / path.relative_to(self.src)
            try:
                st = path.stat()
                if target.is_file():
                    tt = target.stat()
                    if tt.st_size == st.st_size and int(tt.st_mtime) == int(st.st_mtime):
                        continue
                self.copy(path, target)
                copied += 1
            except OSError as e:  # a full or unmounted drive must not stop training
                self.errors.append(f"{path}: {e}")
                log.warning("backup of %s to %s failed: %s", path, target, e)
        return copied

    def close(self, timeout: float | None = None) -> None:
        """Finish the pending pass (if any) and stop the thread."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)
