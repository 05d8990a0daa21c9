"""The fuzz corpus through every command that reads media (in process, through the CLI's main).

Each test asserts: the exit status (0: bad files are rows, not a failed run), no traceback in
the output, exactly one row (predict) or one manifest row / failure line (prepare) per input,
the status each input deserves, nothing written outside the output folder, and bounded time
(pytest-timeout: a FIFO that is opened hangs the test until it fails) and memory.
"""
from __future__ import annotations

import csv
import os
import resource
from pathlib import Path

import pytest

from dfdetect.cli.main import main

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.timeout(120)]
FORMULA = ("=", "+", "-", "@")
RSS_BUDGET_MB = 600  # a decoded 144-megapixel bomb alone is 430 MB of RGB


def tree(root: Path) -> set[str]:
    """Every path under root (files, links, folders)."""
    return {os.path.relpath(os.path.join(d, n), root)
            for d, dirs, files in os.walk(root) for n in dirs + files}


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: list[str], capsys, caplog) -> tuple[int, str]:
    """main(args) -> (exit status, everything printed or logged); a raise fails the test."""
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out + out.err + caplog.text


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as f:
        return list(csv.DictReader(f))


def expected_id(name: str) -> str:
    return "'" + name if name.startswith(FORMULA) else name


def check_predict(entries, ckpt: Path, input_: Path, out: Path, capsys, caplog,
                  ids=None) -> list[dict]:
    before, rss = tree(input_ if input_.is_dir() else input_.parent), maxrss_mb()
    rc, text = run(["predict", f"ckpt={ckpt}", f"input={input_}", f"out={out}", "device=cpu",
                    "num_workers=0", "batch_size=4", "progress=false"], capsys, caplog)
    assert rc == 0, text
    assert "Traceback" not in text
    rows = read_rows(out)
    assert len(rows) == len(entries)
    by_id = {r["id"]: r for r in rows}
    for e, key in zip(entries, ids or [expected_id(e.path.name) for e in entries]):
        row = by_id[key]
        if e.expect == "any":
            assert row["status"] in ("ok", "error"), row
        else:
            assert row["status"] == e.expect, (e.path.name, row)
        assert (row["score"] == "") == (row["status"] == "error")
    assert tree(input_ if input_.is_dir() else input_.parent) == before  # nothing written there
    assert maxrss_mb() - rss < RSS_BUDGET_MB
    return rows


def test_predict_images(corpus, make_tiny_ckpt, tmp_path, capsys, caplog) -> None:
    entries = corpus.build_images(tmp_path / "in")
    (tmp_path / "in" / "sub").mkdir()  # a folder listing skips what is not a regular file:
    (tmp_path / "in" / "sub" / "back").symlink_to(tmp_path / "in")  # a directory loop,
    (tmp_path / "in" / "x.png").symlink_to(tmp_path / "in" / "y.png")  # a link loop,
    (tmp_path / "in" / "y.png").symlink_to(tmp_path / "in" / "x.png")
    os.mkfifo(tmp_path / "in" / "pipe.png")  # a FIFO
    rows = check_predict(entries, make_tiny_ckpt(), tmp_path / "in", tmp_path / "out" / "s.csv",
                         capsys, caplog)
    assert {r["id"] for r in rows} >= {"'=cmd|' -C calc'!A0.png", "'+SUM(1).png",
                                       os.fsdecode(b"latin1_\xe9t\xe9.png"), "new\nline.png"}
    assert os.listdir(tmp_path / "out") == ["s.csv"]


def test_predict_images_to_jsonl_keeps_names_exact(corpus, make_tiny_ckpt, tmp_path, capsys,
                                                   caplog) -> None:
    import json

    corpus.build_images(tmp_path / "in")
    rc, text = run(["predict", f"ckpt={make_tiny_ckpt()}", f"input={tmp_path / 'in'}",
                    f"out={tmp_path / 's.jsonl'}", "device=cpu", "num_workers=0",
                    "progress=false"], capsys, caplog)
    assert rc == 0 and "Traceback" not in text
    ids = {json.loads(line)["id"] for line in (tmp_path / "s.jsonl").read_text().splitlines()}
    assert "=cmd|' -C calc'!A0.png" in ids  # JSON lines are not spreadsheet cells: unchanged


def test_predict_videos(corpus, make_tiny_ckpt, tmp_path, capsys, caplog) -> None:
    entries = corpus.build_videos(tmp_path / "in")
    rows = check_predict(entries, make_tiny_ckpt(), tmp_path / "in", tmp_path / "out" / "v.csv",
                         capsys, caplog)
    cut = next(r for r in rows if r["id"] == "cut30.mp4")
    assert cut["status"] == "partial" and "truncated" in cut["error"] and cut["score"]


def test_predict_audio(corpus, audio_ckpt, tmp_path, capsys, caplog) -> None:
    entries = corpus.build_audio(tmp_path / "in")
    rows = check_predict(entries, audio_ckpt, tmp_path / "in", tmp_path / "out" / "a.csv",
                         capsys, caplog)
    reasons = {r["id"]: r["error"] for r in rows}
    assert "sample rate of 0 Hz" in reasons["rate0.wav"]
    assert "max_upsample" in reasons["rate1hz.wav"] or "max_audio_seconds" in reasons["rate1hz.wav"]
    assert "non-finite" in reasons["huge.wav"]


@pytest.mark.parametrize("kind", ["image", "video", "audio"])
def test_predict_manifest_of_special_paths(kind, corpus, make_tiny_ckpt, audio_ckpt, tmp_path,
                                           capsys, caplog) -> None:
    """FIFOs, devices, a symlink loop, a folder and a missing file: one error row each, and no
    hang (a FIFO that were opened would block until the timeout)."""
    suffix = {"image": ".png", "video": ".mp4", "audio": ".wav"}[kind]
    specials = corpus.special_paths(tmp_path / "special")
    for e in specials:  # the FIFO / loop / folder under the modality's suffix
        if e.path.parent == tmp_path / "special" and e.path.suffix != suffix:
            renamed = e.path.with_suffix(suffix)
            os.rename(e.path, renamed) if e.path.exists() or e.path.is_symlink() else None
            e.path = renamed
    manifest = corpus.write_manifest(tmp_path / "m" / "manifest.csv", specials, kind)
    ckpt = audio_ckpt if kind == "audio" else make_tiny_ckpt()
    check_predict(specials, ckpt, manifest, tmp_path / "out" / "p.csv", capsys, caplog,
                  ids=[f"f{i:03d}" for i in range(len(specials))])


def test_prepare_labels_csv_of_hostile_audio_and_videos(corpus, tmp_path, capsys, caplog) -> None:
    """Every input is a manifest row (audio: a clip; video: its crops) or one failure line."""
    entries = corpus.build_audio(tmp_path / "in" / "audio")
    entries += corpus.build_videos(tmp_path / "in" / "videos")
    for name in ("fifo.wav", "fifo.mp4"):
        os.mkfifo(tmp_path / "in" / name)
    lines = [f"{os.path.relpath(e.path, tmp_path / 'in')},{('real', 'fake')[i % 2]}"
             for i, e in enumerate(entries)] + ["fifo.wav,real", "fifo.mp4,fake", "/dev/zero.wav,real"]
    (tmp_path / "in" / "labels.csv").write_text("path,label\n" + "\n".join(lines) + "\n")
    before = tree(tmp_path / "in")
    rc, text = run(["prepare", "data=labels_csv", f"root={tmp_path / 'in' / 'labels.csv'}",
                    f"out={tmp_path / 'prep'}", "check_files=false", "num_workers=0"],
                   capsys, caplog)
    assert rc == 0, text
    assert "Traceback" not in text
    rows = read_rows(tmp_path / "prep" / "manifest.csv")
    failed = read_rows(tmp_path / "prep" / "failures.csv")
    kept = {r["original"] for r in rows if r["modality"] == "audio"}
    kept |= {r["video_path"] for r in rows if r["modality"] == "frame"}
    gone = {os.path.relpath(r["path"], tmp_path / "in") if r["path"].startswith(str(tmp_path))
            else r["path"] for r in failed}
    kept = {os.path.relpath(p, tmp_path / "in") if os.path.isabs(p) else p for p in kept}
    assert len(kept) + len(failed) == len(lines) and not kept & gone
    assert {"fifo.wav", "fifo.mp4", "/dev/zero.wav", "audio/rate0.wav", "audio/rate1hz.wav",
            "videos/size_2x2.mp4"} <= gone
    assert tree(tmp_path / "in") == before


def test_evaluate_manifest_of_hostile_images(corpus, make_tiny_ckpt, tmp_path, capsys,
                                             caplog) -> None:
    """evaluate scores what it can and reports the rest; no traceback, nothing written
    beside the inputs."""
    entries = corpus.build_images(tmp_path / "in")
    entries += corpus.special_paths(tmp_path / "special")
    manifest = corpus.write_manifest(tmp_path / "m" / "manifest.csv", entries, "image")
    before = tree(tmp_path / "in")
    rc, text = run(["evaluate", f"ckpt={make_tiny_ckpt()}", f"data={manifest}", "split=test",
                    f"out={tmp_path / 'eval'}", "device=cpu", "num_workers=0", "bootstrap=0",
                    "mistakes=0", "threshold=0.5"], capsys, caplog)
    assert rc == 0, text
    assert "Traceback" not in text
    rows = read_rows(tmp_path / "eval" / "predictions.csv")
    assert len(rows) == len(entries)  # one row per input, scored or not
    scored = {r["id"] for r in rows if r["score"]}
    for i, e in enumerate(entries):
        if e.expect != "any":
            assert (f"f{i:03d}" in scored) == (e.expect == "ok"), e.path.name
    assert tree(tmp_path / "in") == before
