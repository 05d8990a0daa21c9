"""Atomic file writes (temporary file beside the target, fsync, rename) and read guards.

A kill during the write leaves the previous file intact (``os.replace`` is atomic on POSIX and
Windows within one filesystem).

File names that are not valid UTF-8 (Python holds their odd bytes as lone surrogates,
``\udc80``-``\udcff``) are written back as the original bytes (``errors="surrogateescape"``),
and text files are read with the same handler (:data:`TEXT_ERRORS`), so such a path survives a
CSV round trip byte for byte. Guards for reading untrusted media: :func:`not_regular` (FIFOs,
devices, sockets, symlink loops are never opened) and :func:`limit` (size bounds from the
environment, see docs/reliability.md).
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, IO


def current_umask() -> int:
    """The process umask. Read from ``/proc/self/status`` where it is there (Linux): the
    ``os.umask`` round trip below briefly sets the mask to 0, and a file another thread (the
    backup mirror) creates in that moment would be world-writable."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(f)`` on a temp file in ``path``'s folder, then move it onto ``path``.

    The file gets the mode an ordinary ``open(path, "w")`` would give (0666 minus the umask):
    ``mkstemp`` makes its temporaries 0600, which would hide a shared run folder's files from
    the rest of the team."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if hasattr(os, "fchmod"):  # POSIX; Windows has no group/other bits to restore
            os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


#: the error handler for every text file dfdetect writes or reads (manifests, CSVs, logs)
TEXT_ERRORS = "surrogateescape"

#: bounds on what untrusted files may ask for; override with DFDETECT_<NAME upper-cased>
LIMITS: dict[str, float] = {
    "max_image_pixels": 50_000_000,   # decoded image size (width x height), from the header
    "max_audio_seconds": 3600.0,      # decoded audio duration, from the header
    "max_upsample": 16.0,             # target rate / file rate (1 Hz -> 16 kHz would be 16000)
    "max_image_size": 4096,           # checkpoint input side (pixels)
    "max_clip_seconds": 600.0,        # checkpoint scoring window (seconds)
    "max_sample_rate": 384_000,       # checkpoint / file sample rate (Hz)
}


def limit(name: str) -> float:
    """The bound ``name`` (:data:`LIMITS`), or ``$DFDETECT_<NAME>`` when set to a number."""
    raw = os.environ.get(f"DFDETECT_{name.upper()}", "")
    try:
        return float(raw) if raw.strip() else LIMITS[name]
    except ValueError:
        return LIMITS[name]


def encode_text(text: str) -> bytes:
    """UTF-8 bytes; undecodable file-name bytes go back as they were, other lone surrogates
    as ``\\udXXX`` escapes (never an exception)."""
    try:
        return text.encode("utf-8", errors=TEXT_ERRORS)
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="backslashreplace")


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write a UTF-8 text file (any file name in it survives, see above)."""
    return atomic_write(path, lambda f: f.write(encode_text(text)))


def not_regular(path: str | os.PathLike) -> str:
    """Why ``path`` must not be opened as a media file ("" when it is a regular file).

    A FIFO would block the reader forever, a device (``/dev/zero``) never ends, a symlink loop
    raises; none of them is ever opened.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file not found"
    except OSError as e:  # symlink loop, permission, name too long
        return f"cannot stat ({e.strerror or type(e).__name__})"
    except ValueError as e:  # embedded NUL byte
        return f"invalid path ({e})"
    if stat.S_ISREG(mode):
        return ""
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"not a regular file ({kind}); only regular files are read"


def atomic_torch_save(obj: object, path: str | os.PathLike) -> Path:
    """Atomically ``torch.save`` an object."""
    import torch

    return atomic_write(path, lambda f: torch.save(obj, f))
