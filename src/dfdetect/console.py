"""What every command that prints progress needs: durations as ``H:MM:SS`` and "is this a
terminal?" (a bar there, plain lines in files, pipes, nohup and notebooks). No heavy imports, so
training, evaluate and predict share it without pulling each other's libraries in."""
from __future__ import annotations

import datetime as dt
from typing import Any


def fmt_seconds(seconds: float | None) -> str:
    """``H:MM:SS`` (``?`` while unknown)."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    return str(dt.timedelta(seconds=int(round(seconds))))


def is_terminal(stream: Any) -> bool:
    """True when ``stream`` is an interactive terminal (not a file, pipe or nohup.out)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed, or an object without isatty
        return False
