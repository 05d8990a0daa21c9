"""The corpus through real processes: exit status, output, peak memory of the whole command."""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(180)
#: peak RSS of `predict` over the image corpus above the same command on one valid image,
#: measured in the same test (the process alone peaks near 1.1-1.7 GB depending on what is
#: imported); decoding the 144-megapixel bomb added about 1.5 GB
GROWTH_MB = 600
WRAPPER = ("import resource, sys\nfrom dfdetect.cli.main import main\nrc = main(sys.argv[1:])\n"
           "print('PEAK_MB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "
           "file=sys.stderr)\nsys.exit(rc)\n")


def dfdetect(*args: str) -> tuple[int, str, int]:
    """Run ``dfdetect args`` in a new process -> (status, stdout + stderr, peak RSS in MB)."""
    src = os.path.dirname(os.path.dirname(__import__("dfdetect").__file__))
    env = {**os.environ, "PYTHONPATH": src, "PYTHONIOENCODING": "utf-8:strict",
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, env=env,
                          timeout=170)
    text = (done.stdout + done.stderr).decode("utf-8", "replace")
    peak = [int(line.split()[1]) for line in text.splitlines() if line.startswith("PEAK_MB")]
    return done.returncode, text, (peak or [0])[0]


def test_predict_image_corpus_in_a_process(corpus, make_tiny_ckpt, tmp_path) -> None:
    entries = corpus.build_images(tmp_path / "in")
    rc, text, peak = dfdetect("predict", f"ckpt={make_tiny_ckpt()}", f"input={tmp_path / 'in'}",
                              f"out={tmp_path / 'out' / 's.csv'}", "device=cpu", "num_workers=0",
                              "progress=false")
    assert rc == 0, text
    assert "Traceback" not in text and "Logging error" not in text
    with open(tmp_path / "out" / "s.csv", newline="", encoding="utf-8",
              errors="surrogateescape") as f:
        assert len(list(csv.DictReader(f))) == len(entries)
    one = tmp_path / "one"
    one.mkdir()
    valid = next(e.path for e in entries if e.expect == "ok")
    (one / valid.name).write_bytes(valid.read_bytes())
    rc, text, base = dfdetect("predict", f"ckpt={make_tiny_ckpt()}", f"input={one}",
                              f"out={tmp_path / 'one.csv'}", "device=cpu", "num_workers=0",
                              "progress=false")
    assert rc == 0 and base > 0, text
    assert peak - base < GROWTH_MB, f"peak {peak} MB vs {base} MB for one valid image"


def test_prepare_folder_with_hostile_names_round_trips(corpus, tmp_path) -> None:
    """prepare data=folder writes a manifest whose paths (non-UTF-8, newline, comma, formula)
    all lead back to their files."""
    from dfdetect.data.manifest import read_manifest

    for label in ("real", "fake"):
        for e in corpus.build_images(tmp_path / "data" / label):
            if e.expect != "ok":
                e.path.unlink()
    n = sum(1 for _ in (tmp_path / "data").rglob("*.*"))
    rc, text, _ = dfdetect("prepare", "data=folder", f"root={tmp_path / 'data'}",
                           f"out={tmp_path / 'prep' / 'manifest.csv'}")
    assert rc == 0, text
    assert "Traceback" not in text
    m = read_manifest(tmp_path / "prep" / "manifest.csv")
    assert len(m) == n and all(m.resolve(s).is_file() for s in m.samples)
    assert any(s.path.endswith(os.fsdecode(b"latin1_\xe9t\xe9.png")) for s in m.samples)
