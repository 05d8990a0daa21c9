"""Output writers for predictions, chosen by the output file's suffix (.csv, .jsonl).

CSV columns and their headers are configurable (``columns=id,score``, ``id_column=filename``).
A failed file keeps its row with ``status=error`` and an empty score, so nothing is silently
filled in. Files are written atomically.

Spreadsheet formula injection: a CSV text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return (an id like ``=cmd|calc.jpg``) is written with a leading single quote, as
OWASP recommends, so a spreadsheet shows it as text; numbers (the score) are never changed.
JSON lines keep every value exactly as it is.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Sequence

from dfdetect.io import atomic_write_text
from dfdetect.registry import Registry

WRITERS: Registry = Registry("output writer")
FIELDS = ("id", "path", "score", "label", "status", "error")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A text cell safe to open in a spreadsheet (formula starts get a leading '); numbers are
    written as they are."""
    if not isinstance(value, str):
        return value
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@WRITERS.register("csv")
def write_csv(rows: Sequence[dict], path: Path, columns: Sequence[str] = FIELDS,
              headers: dict[str, str] | None = None) -> Path:
    """One row per input; ``headers`` renames columns (e.g. id -> filename)."""
    bad = [c for c in columns if c not in FIELDS]
    if bad:
        raise ValueError(f"unknown output column(s) {', '.join(bad)}; choose from "
                         f"{','.join(FIELDS)}")
    return write_table(rows, path, columns, headers)


def write_table(rows: Sequence[dict], path: Path, columns: Sequence[str],
                headers: dict[str, str] | None = None) -> Path:
    """Atomic CSV of ``columns`` from dict rows (floats of the score column to 6 places)."""
    names = headers or {}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([names.get(c, c) for c in columns])
    for r in rows:
        w.writerow(["" if r.get(c) is None else
                    (f"{r[c]:.6f}" if c == "score" else csv_cell(r[c])) for c in columns])
    return atomic_write_text(path, buf.getvalue())


@WRITERS.register("jsonl")
def write_jsonl(rows: Sequence[dict], path: Path, columns: Sequence[str] = FIELDS,
                headers: dict[str, str] | None = None) -> Path:
    """One JSON object per input with every field (columns / headers are ignored)."""
    text = "".join(json.dumps(r, sort_keys=False) + "\n" for r in rows)
    return atomic_write_text(path, text)


def writer_for(path: Path):
    """The writer registered for ``path``'s suffix (default csv)."""
    suffix = path.suffix.lower().lstrip(".")
    return WRITERS.resolve(suffix if suffix == "jsonl" else "csv")[0]
