"""Per-window scores of long audio files, written as JSON lines beside the predictions.

Why: a 10-minute recording with a 20-second spoofed insert gets a mean score that hides it; the
window scores show where it is. One line per window::

    {"id": "talk.wav", "window": 3, "start": 6.0, "end": 10.0, "score": 0.91}

Times are seconds in the decoded (resampled, optionally silence-trimmed) signal; windows start
every ``window_hop`` seconds and the last one ends at the end of the file.
"""
from __future__ import annotations

import json
from pathlib import Path

from dfdetect.io import atomic_write_text


def window_times(n_windows: int, duration: float, seconds: float, hop: float) -> list[tuple]:
    """(start, end) seconds of each window, the layout of :func:`dfdetect.data.audio.windows`."""
    if n_windows <= 1 or duration <= seconds:
        return [(0.0, min(seconds, duration) if duration > 0 else seconds)][:n_windows]
    starts = [k * hop for k in range(n_windows - 1)] + [max(0.0, duration - seconds)]
    return [(round(s, 3), round(s + seconds, 3)) for s in starts]


def _duration(row: dict, prep: dict, n_windows: int) -> float:
    """File duration from its header; estimated from the window count when unreadable."""
    import soundfile as sf

    try:
        return float(sf.info(row["path"]).duration)
    except Exception:
        hop = float(prep.get("window_hop") or float(prep["seconds"]) / 2)
        return float(prep["seconds"]) + hop * (n_windows - 1)


def window_rows(row: dict, prep: dict) -> list[dict]:
    """The windows of one predict row (``id``, ``path``, ``windows``) with their times:
    ``[{"id", "window", "start", "end", "score"}, ...]`` ([] when it has none)."""
    wins = row.get("windows") or []
    if not wins:
        return []
    seconds = float(prep.get("seconds", 4.0))
    hop = float(prep.get("window_hop") or seconds / 2)
    times = window_times(len(wins), _duration(row, prep, len(wins)), seconds, hop)
    return [{"id": row["id"], "window": k, "start": t[0], "end": t[1],
             "score": round(float(s), 6)} for k, (s, t) in enumerate(zip(wins, times))]


def write_window_scores(rows: list[dict], prep: dict, out: Path, echo=print) -> Path | None:
    """Write ``<out stem>.windows.jsonl`` when any row carries window scores."""
    if not any(r.get("windows") for r in rows):
        return None
    lines = [json.dumps(w) for r in rows for w in window_rows(r, prep)]
    path = Path(out).with_name(Path(out).stem + ".windows.jsonl")
    atomic_write_text(path, "\n".join(lines) + "\n")
    echo(f"Per-window scores ({len(lines)} windows) -> {path}")
    return path
