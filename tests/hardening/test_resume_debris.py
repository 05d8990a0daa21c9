"""Issue 11 §5: a killed checkpoint write leaves no debris for ever, and a resumed run keeps
the metrics history from before the restart."""
from __future__ import annotations

import csv

import pytest

from dfdetect.cli.main import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = ["model=timm:resnet18", "image_size=32", "batch_size=8", "num_workers=0", "device=cpu",
        "limit_train_batches=2", "limit_val_batches=1", "progress=false", "loggers=csv",
        "log_every_n_steps=1"]


def test_only_dfdetects_own_temporaries_are_removed(tmp_path) -> None:
    from dfdetect.training.recipe import remove_stale_temporaries

    ours = [".resume.ckpt.k2j4h1x0.tmp", ".best.ckpt.a_b3c4d5.tmp", ".last.ckpt.zzzzzzzz.tmp",
            ".config.yaml.q1w2e3r4.tmp"]
    theirs = [".notes.txt.abcdefgh.tmp", "resume.ckpt.tmp", ".resume.ckpt", "data.tmp",
              ".resume.ckpt.abc.tmp.keep"]
    for name in ours + theirs:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".resume.ckpt.k2j4h1x0.tmp").write_bytes(b"x")  # another folder
    lines: list[str] = []
    assert remove_stale_temporaries(tmp_path, lines.append) == len(ours)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(theirs)
    assert (tmp_path / "sub" / ".resume.ckpt.k2j4h1x0.tmp").is_file()
    assert "Removed 4 temporary file(s)" in lines[0]


def test_a_resumed_run_keeps_its_history_and_drops_the_debris(demo_faces, tmp_path,
                                                              capsys) -> None:
    runs = tmp_path / "runs"
    common = ["train", f"data={demo_faces}", *TINY, "resume=auto", "name=r", f"out_dir={runs}"]
    assert main([*common, "epochs=1"]) == 0
    metrics = runs / "r" / "logs" / "metrics.csv"
    first = list(csv.DictReader(metrics.open()))
    assert first
    stale = runs / "r" / ".resume.ckpt.x1y2z3w4.tmp"  # as a kill during a save leaves it
    stale.write_bytes(b"half a checkpoint")
    assert main([*common, "epochs=2"]) == 0  # continues from resume.ckpt
    assert "Resuming from" in capsys.readouterr().out
    assert not stale.exists()
    rows = list(csv.DictReader(metrics.open()))
    assert len(rows) > len(first)
    epochs = {r["epoch"] for r in rows if r.get("epoch")}
    assert {"0", "1"} <= {e.split(".")[0] for e in epochs}  # both epochs' rows are there


def test_resuming_with_another_model_touches_nothing(demo_faces, tmp_path, capsys) -> None:
    runs = tmp_path / "runs"
    common = ["train", f"data={demo_faces}", *TINY, "resume=auto", "name=r", f"out_dir={runs}",
              "epochs=1"]
    assert main(common) == 0
    config = (runs / "r" / "config.yaml").read_text()
    metrics = (runs / "r" / "logs" / "metrics.csv").read_text()
    capsys.readouterr()
    assert main([*common, "model=timm:resnet10t", "epochs=2"]) == 2
    err = capsys.readouterr().err
    assert "do not fit this run's model" in err and "Traceback" not in err
    assert (runs / "r" / "config.yaml").read_text() == config
    assert (runs / "r" / "logs" / "metrics.csv").read_text() == metrics
