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

After a reset (the run folder is gone, or holds no resume state), :func:`restore_from_backup`
copies the mirror back so ``resume=auto`` continues from it::

    restore_from_backup("runs/effb4", "/content/drive/MyDrive/runs/effb4")
    # restored runs/effb4 from /content/drive/MyDrive/runs/effb4 (resume state at epoch 2, step 30)
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
                    # copy2 keeps the nanoseconds: a file rewritten within the same second
                    # with the same size (the next epoch's last.ckpt) is still copied
                    if tt.st_size == st.st_size and tt.st_mtime_ns == st.st_mtime_ns:
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


def restore_from_backup(run_dir: str | os.PathLike, mirror_dir: str | os.PathLike,
                        echo: Callable[[str], None] = print,
                        check: Callable[[Path], None] | None = None) -> Path | None:
    """Copy the mirror of a run back into ``run_dir`` when ``run_dir`` holds no resume state and
    the mirror does; returns the restored resume file (``None``: nothing to restore).

    The mirror's resume state is checked (weights_only load, structure, then ``check(path)``,
    e.g. that its weights fit the model) before anything is written, so a damaged or foreign
    backup is refused with its path and leaves the run folder alone. Each
    file is copied to a temporary name and renamed; a local file at least as new as the
    mirror's copy is kept (never overwritten by an older backup).
    """
    from dfdetect.training.resume import RESUME_FILE, load_resume_file

    run_dir, mirror_dir = Path(run_dir), Path(mirror_dir)
    source = mirror_dir / RESUME_FILE
    if (run_dir / RESUME_FILE).is_file() or not source.is_file():
        return None
    state = load_resume_file(source)
    if check is not None:
        check(source)
    for path in sorted(mirror_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("."):  # temporaries of atomic copies
            continue
        target = run_dir / path.relative_to(mirror_dir)
        if target.is_file() and target.stat().st_mtime >= path.stat().st_mtime:
            continue
        _copy_atomic(path, target)
    echo(f"restored {run_dir} from {mirror_dir} (resume state at epoch "
         f"{int(state.get('epoch', 0)) + 1}, step {int(state.get('global_step', 0))})")
    return run_dir / RESUME_FILE
