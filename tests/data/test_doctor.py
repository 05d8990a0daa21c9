"""Tests for the manifest doctor (dfdetect.data.doctor) and `dfdetect doctor`."""
from __future__ import annotations

from pathlib import Path

from dfdetect.data.doctor import doctor
from dfdetect.data.manifest import Manifest, Sample, write_manifest


def _manifest(tmp_path: Path, rows) -> Path:
    for name, content in {"a.jpg": b"A", "b.jpg": b"B", "copy.jpg": b"A", "c.jpg": b"C"}.items():
        (tmp_path / name).write_bytes(content)
    samples = [Sample(id=i, path=p, label=lab, split=sp, group=g) for i, p, lab, sp, g in rows]
    return write_manifest(Manifest(samples, tmp_path), tmp_path / "manifest.csv")


def test_clean_manifest_reports_balance_and_no_problems(tmp_path: Path) -> None:
    path = _manifest(tmp_path, [("1", "a.jpg", "real", "train", "g1"),
                                ("2", "b.jpg", "fake", "train", "g2"),
                                ("3", "c.jpg", "fake", "val", "g3")])
    r = doctor(str(path))
    assert r.ok and r.counts["train"] == {"real": 1, "fake": 1}
    assert "train  real       1  fake       1  (50.0 % fake)" in r.text
    assert "verdict: no problems found" in r.text


def test_leaks_duplicates_and_missing_files_are_all_reported(tmp_path: Path) -> None:
    path = _manifest(tmp_path, [("1", "a.jpg", "real", "train", "g1"),
                                ("2", "b.jpg", "fake", "test", "g1"),       # group leak
                                ("3", "copy.jpg", "real", "test", "g3"),    # same bytes as a.jpg
                                ("4", "gone.jpg", "fake", "val", "g4")])    # missing
    r = doctor(str(path))
    assert not r.ok
    assert r.leaks == ["g1 (test, train)"]
    assert len(r.duplicates) == 1 and "a.jpg (train)" in r.duplicates[0]
    assert "copy.jpg (test)" in r.duplicates[0]
    assert len(r.missing) == 1 and r.missing[0].endswith("gone.jpg")
    assert doctor(str(path), hash_files=False).duplicates == []


def test_cli_doctor_exits_non_zero_on_problems(tmp_path: Path, capsys) -> None:
    from dfdetect.cli.main import main

    path = _manifest(tmp_path, [("1", "a.jpg", "real", "train", "g1"),
                                ("2", "copy.jpg", "fake", "val", "g2")])
    assert main(["doctor", f"manifest={path}"]) == 2
    out = capsys.readouterr()
    assert "identical files in different splits: 1" in out.out
    assert main(["doctor", f"manifest={path}", "hash_files=false"]) == 0
