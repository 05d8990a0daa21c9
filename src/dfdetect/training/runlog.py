"""``train.log``: everything a run prints, in its run folder, one line at a time.

Why: a run started with ``nohup dfdetect train ... &`` (or in tmux/screen, or on a rented GPU)
is followed with ``tail -f runs/<name>/train.log``. :class:`RunLog` copies what is written to
``sys.stdout`` and ``sys.stderr`` (echo lines, progress lines, Python warnings) and what the
logging module emits (dfdetect's and Lightning's warnings) into the file, line-buffered, while
the terminal still gets all of it. Progress-bar redraws (text holding a carriage return) reach
the terminal only: the file gets the plain progress lines instead.

Lines printed before the run folder exists (device, data) are held in memory and written when
:meth:`RunLog.attach` names the file; a resumed run appends after a separator line, never
truncating what earlier attempts wrote.

Example::

    with RunLog() as runlog:
        print("device cpu")                     # held until attach
        runlog.attach(run_dir / "train.log", "resumed from resume.ckpt")
        print("epoch 1 ...")                    # terminal and train.log
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import sys
from pathlib import Path
from typing import TextIO

from dfdetect.console import is_terminal

LOG_FILE = "train.log"


def stdout_is_terminal() -> bool:
    """True when standard output is an interactive terminal (not a file, pipe or nohup.out)."""
    return is_terminal(getattr(sys.stdout, "stream", sys.stdout))  # through a _Tee


class _Tee(io.TextIOBase):
    """A text stream writing to ``stream`` and to the run log (redraws to ``stream`` only)."""

    def __init__(self, stream: TextIO, runlog: "RunLog") -> None:
        self.stream, self.runlog = stream, runlog
        self._after_redraw = False

    def write(self, text: str) -> int:
        n = self.stream.write(text)
        if "\r" in text:  # a progress bar redrawing itself
            self._after_redraw = True
        elif not (self._after_redraw and not text.strip()):
            self._after_redraw = False
            self.runlog.write(text)
        return len(text) if n is None else n

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self):  # noqa: D401 - mirrors the wrapped stream
        return getattr(self.stream, "encoding", "utf-8")

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


class _Handler(logging.Handler):
    """Log records into the run log, formatted as the terminal's first handler formats them."""

    def __init__(self, runlog: "RunLog") -> None:
        super().__init__()
        self.runlog = runlog
        root = logging.getLogger().handlers
        self.setFormatter(root[0].formatter if root and root[0].formatter
                          else logging.Formatter("%(levelname)s: %(message)s [%(name)s]"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.runlog.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never stop training
            self.handleError(record)


class RunLog:
    """Tee standard output, standard error and logging into ``train.log`` (a context manager)."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self._held: list[str] = []
        self._file: TextIO | None = None
        self._saved: tuple | None = None
        self._handler: _Handler | None = None

    def __enter__(self) -> "RunLog":
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = _Tee(sys.stdout, self), _Tee(sys.stderr, self)
        self._handler = _Handler(self)
        logging.getLogger().addHandler(self._handler)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None and self._file is not None:  # the error the CLI prints after this
            first = (str(exc).strip().splitlines() or [""])[0]
            self._file.write(f"error: {type(exc).__name__}: {first}\n")
        if self._saved:
            sys.stdout, sys.stderr = self._saved
        if self._handler:
            logging.getLogger().removeHandler(self._handler)
        if self._file:
            self._file.close()
        self._file = None

    def attach(self, path: Path, note: str = "", separator: bool = True) -> Path:
        """Start writing to ``path`` (appending after a separator when it holds earlier runs)
        and flush the lines held so far."""
        self.path = Path(path)
        earlier = separator and self.path.is_file() and self.path.stat().st_size > 0
        self._file = open(self.path, "a", buffering=1, encoding="utf-8",  # noqa: SIM115
                          errors="backslashreplace")
        if earlier:
            when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            self._file.write(f"\n----- {when}: {note or 'run started again'} -----\n")
        held, self._held = "".join(self._held), []
        self._file.write(held)
        return self.path

    def write(self, text: str) -> None:
        """Add text to the log only (the terminal does not get it)."""
        if self._file is not None:
            self._file.write(text)
        elif self.path is None:
            self._held.append(text)

    def line(self, text: str) -> None:
        """One line to the log only, e.g. progress lines while the terminal shows a bar."""
        self.write(text + "\n")


@contextlib.contextmanager
def appending(path: Path | None):
    """Continue a run's ``train.log`` (no separator) for steps after training, such as the
    export; does nothing without a path."""
    if path is None:
        yield None
        return
    with RunLog() as runlog:
        runlog.attach(path, separator=False)
        yield runlog
