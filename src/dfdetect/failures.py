"""Failure log: one CSV line per input that could not be used (path, stage, reason).

Bad input never takes a run down; it costs one line here and a count in the summary. Lines are
appended with a single ``write`` on a file opened in append mode, so data-loader worker processes
can share the log.
"""
from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
HEADER = ("path", "stage", "reason")
TEXT_ERRORS = "surrogateescape"  # as dfdetect.io: undecodable file-name bytes round-trip


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", errors=TEXT_ERRORS)
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="backslashreplace")


class FailureLog:
    """Append-only ``failures.csv``; ``None`` path keeps failures in memory only."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else None
        self.count = 0
        self.seen: list[tuple[str, str, str]] = []

    def record(self, path: str | os.PathLike, stage: str, reason: str) -> None:
        """Log one failure (also to the Python logger as a warning)."""
        row = (str(path), stage, " ".join(str(reason).split()))
        self.count += 1
        self.seen.append(row)
        log.warning("skipped %s (%s): %s", *row)
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        new = not self.path.exists()
        if new:
            writer.writerow(HEADER)
        writer.writerow(row)
        with open(self.path, "ab") as f:  # any file name survives
            f.write(_encode(buf.getvalue()))

    def read(self) -> list[dict[str, str]]:
        """All failures recorded in the file (from any process)."""
        if self.path is None or not self.path.exists():
            return [dict(zip(HEADER, r)) for r in self.seen]
        with open(self.path, newline="", encoding="utf-8", errors=TEXT_ERRORS) as f:
            return list(csv.DictReader(f))
