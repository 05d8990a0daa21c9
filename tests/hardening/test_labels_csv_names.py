"""A labels CSV naming files whose names are not valid UTF-8 (or saved with a BOM) prepares."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from dfdetect.data.adapters import build_manifest


def _image(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(path, format="PNG")


def test_non_utf8_names_and_a_bom_survive_the_labels_csv(tmp_path: Path) -> None:
    raw = [b"caf\xe9.png", b"plain.png"]  # Latin-1 'é': not UTF-8
    for i, name in enumerate(raw):
        _image(Path(os.fsdecode(bytes(tmp_path) + b"/" + name)), i)
    csv_bytes = b"\xef\xbb\xbfpath,label\n" + b"caf\xe9.png,fake\n" + b"plain.png,real\n"
    (tmp_path / "labels.csv").write_bytes(csv_bytes)
    m = build_manifest("labels_csv", str(tmp_path / "labels.csv"))
    assert sorted(s.label for s in m.samples) == ["fake", "real"]
    on_disk = {os.fsencode(m.resolve(s)) for s in m.samples}
    assert on_disk == {bytes(tmp_path) + b"/" + n for n in raw}
    assert all(m.resolve(s).is_file() for s in m.samples)
