"""Issue 11 §3, §4, §6: misuse of the CLI ends in one line naming the key and what is valid,
with exit status 2, before any work and without writing anything; nothing is written over an
input, a checkpoint or an existing manifest unless overwrite=true."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from dfdetect.cli.main import main

TINY = ["model=timm:resnet18", "image_size=32", "batch_size=8", "num_workers=0", "device=cpu",
        "epochs=1", "limit_train_batches=1", "limit_val_batches=1", "progress=false",
        "loggers=csv"]


def _no_work(monkeypatch) -> None:
    """Fail the test if a command gets as far as loading a model or listing a dataset."""
    def boom(*_a, **_k):
        raise AssertionError("the command started working before checking its options")

    monkeypatch.setattr("dfdetect.inference.scorers.build_scorer", boom)
    monkeypatch.setattr("dfdetect.checkpoint.load_checkpoint", boom)
    monkeypatch.setattr("dfdetect.preparation.build_manifest", boom)
    monkeypatch.setattr("dfdetect.training.recipe.resolve_device", boom)


def _run(capsys, args: list[str]) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


# (command line, words the one-line error must hold); {d}: demo manifest, {t}: tmp folder,
# {c}: a checkpoint, {f}: a plain file
MISUSE = {  # the 13 cases of §6 (image_size for train and prepare)
    "lr=-1": (["train", "data={d}", "lr=-1"], ["lr=-1", ">= 0"]),
    "image_size=0": (["train", "data={d}", "image_size=0"], ["image_size=0", "8 to 4096"]),
    "batch_size=-1": (["train", "data={d}", "batch_size=-1"], ["batch_size=-1", ">= 0"]),
    "epochs=-3": (["train", "data={d}", "epochs=-3"], ["epochs=-3", ">= 1"]),
    "label_smoothing=2": (["train", "data={d}", "label_smoothing=2"],
                          ["label_smoothing=2", ">= 0 and < 1"]),
    "out_dir under a file": (["train", "data={d}", "out_dir={f}/runs"], ["out_dir=", "is a file"]),
    "predict out=<dir>": (["predict", "ckpt={c}", "input={d}", "out={t}"], ["out=", "folder"]),
    "columns=id,bogus": (["predict", "ckpt={c}", "input={d}", "out={t}/s.csv", "columns=id,bogus"],
                         ["columns=", "bogus", "choose from"]),
    "topk=0": (["evaluate", "ckpt={c}", "data={d}", "out={t}/r", "topk=0"], ["topk=0", ">= 1"]),
    "sample_rate=0": (["prepare", "root={t}", "out={t}/m.csv", "sample_rate=0"],
                      ["sample_rate=0", "1000 to 192000"]),
    "sample_rate=1000000": (["prepare", "root={t}", "out={t}/m.csv", "sample_rate=1000000"],
                            ["sample_rate=1000000", "1000 to 192000"]),
    "opset=1": (["export", "ckpt={c}", "out={t}/m.onnx", "opset=1"], ["opset=1", "9 to 23"]),
    "prepare image_size=0": (["prepare", "root={t}", "out={t}/m.csv", "image_size=0"],
                             ["image_size=0", "8 to 4096"]),
    # §3: values accepted before, and user errors that exited 1 once found later
    "epochs=0": (["train", "data={d}", "epochs=0"], ["epochs=0", ">= 1"]),
    "margin=-5": (["prepare", "root={t}", "out={t}/m.csv", "margin=-5"], ["margin=-5", "0 to 2"]),
    "frames_per_video=-1": (["prepare", "root={t}", "out={t}/m.csv", "frames_per_video=-1"],
                            ["frames_per_video=-1", ">= 0"]),
    "train split_ratio=abc": (["train", "data={d}", "split_ratio=abc"], ["split_ratio", "abc"]),
    "prepare split_ratio=abc": (["prepare", "root={t}", "out={t}/m.csv", "split_ratio=abc"],
                                ["split_ratio", "abc"]),
    "loss=bogus": (["train", "data={d}", "loss=bogus"], ["loss", "bogus"]),
    "name=..": (["train", "data={d}", "name=.."], ["name=..", "inside out_dir"]),
    "name=a/b": (["train", "data={d}", "name=../escape"], ["name=", "inside out_dir"]),
}


@pytest.mark.parametrize("case", list(MISUSE))
def test_misuse_is_one_line_with_exit_2_before_any_work(case, demo_faces, make_tiny_ckpt,
                                                        tmp_path, capsys, monkeypatch) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("not a folder")
    work = tmp_path / "work"
    work.mkdir()
    fill = {"d": demo_faces, "t": work, "c": make_tiny_ckpt(), "f": plain}
    args, words = MISUSE[case]
    args = [a.format(**fill) for a in args]
    if args[0] == "train":  # the tiny settings first: the case's value wins
        runs = [] if "out_dir" in case else [f"out_dir={tmp_path / 'runs'}"]
        args = ["train", *TINY, *runs, *args[1:]]
    _no_work(monkeypatch)
    err = _run(capsys, args)
    for w in words:
        assert w in err, err
    assert sorted(p.name for p in work.iterdir()) == []  # nothing written
    assert not (tmp_path / "runs").exists() and not (tmp_path / "escape").exists()


# ------------------------------------------------------------------ §4 overwrites

def _labels(tmp_path: Path, demo_faces: Path) -> Path:
    """A labels CSV (path,label,group) of the demo faces."""
    rows = list(csv.DictReader(demo_faces.open()))
    path = tmp_path / "labels.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "group"])
        for r in rows:
            w.writerow([str((demo_faces.parent / r["path"]).resolve()), r["label"], r["group"]])
    return path


def test_prepare_refuses_to_replace_the_labels_csv_it_reads(demo_faces, tmp_path, capsys):
    labels = _labels(tmp_path, demo_faces)
    before = labels.read_bytes()
    err = _run(capsys, ["prepare", "data=labels_csv", f"root={labels}", f"out={labels}"])
    assert "is an input" in err and "overwrite=true" in err
    assert labels.read_bytes() == before


def test_prepare_refuses_to_resplit_an_existing_manifest(demo_faces, tmp_path, capsys):
    labels = _labels(tmp_path, demo_faces)
    out = tmp_path / "m" / "manifest.csv"
    assert main(["prepare", "data=labels_csv", f"root={labels}", f"out={out}", "seed=1"]) == 0
    assert main(["prepare", "data=labels_csv", f"root={labels}", f"out={out}", "seed=1"]) == 0
    before = out.read_bytes()  # a re-run giving the same splits is fine (resume, retry)
    err = _run(capsys, ["prepare", "data=labels_csv", f"root={labels}", f"out={out}", "seed=7"])
    assert "would change split" in err and "overwrite=true" in err
    assert out.read_bytes() == before
    assert main(["prepare", "data=labels_csv", f"root={labels}", f"out={out}", "seed=7",
                 "overwrite=true"]) == 0
    assert out.read_bytes() != before


@pytest.mark.parametrize("target", ["input manifest", "checkpoint", "other manifest"])
def test_predict_refuses_to_write_over_what_it_must_not(target, demo_faces, make_tiny_ckpt,
                                                        tmp_path, capsys, monkeypatch):
    data = tmp_path / "d"
    shutil.copytree(demo_faces.parent, data)
    ckpt = tmp_path / "model.ckpt"
    shutil.copy(make_tiny_ckpt(), ckpt)
    other = tmp_path / "other.csv"
    shutil.copy(demo_faces, other)
    out = {"input manifest": data / demo_faces.name, "checkpoint": ckpt,
           "other manifest": other}[target]
    before = out.read_bytes()
    _no_work(monkeypatch)
    err = _run(capsys, ["predict", f"ckpt={ckpt}", f"input={data / demo_faces.name}",
                        f"out={out}", "device=cpu"])
    assert "refusing to write over it" in err and out.read_bytes() == before


def test_export_refuses_to_replace_the_checkpoint(make_tiny_ckpt, tmp_path, capsys, monkeypatch):
    ckpt = tmp_path / "model.ckpt"
    shutil.copy(make_tiny_ckpt(), ckpt)
    before = ckpt.read_bytes()
    _no_work(monkeypatch)
    err = _run(capsys, ["export", f"ckpt={ckpt}", f"out={ckpt}"])
    assert "is an input" in err and ckpt.read_bytes() == before


def _old_run(tmp_path: Path, make_tiny_ckpt) -> Path:
    run = tmp_path / "runs" / "old"
    (run / "logs").mkdir(parents=True)
    (run / "config.yaml").write_text("the old run's config\n")
    (run / "logs" / "metrics.csv").write_text("epoch,step\n0,1\n")
    shutil.copy(make_tiny_ckpt(), run / "best.ckpt")
    return run


def test_train_resume_from_a_best_ckpt_touches_nothing(demo_faces, make_tiny_ckpt, tmp_path,
                                                       capsys):
    run = _old_run(tmp_path, make_tiny_ckpt)
    err = _run(capsys, ["train", f"data={demo_faces}", *TINY, f"resume={run / 'best.ckpt'}"])
    assert "not a dfdetect resume state" in err
    assert (run / "config.yaml").read_text() == "the old run's config\n"
    assert (run / "logs" / "metrics.csv").read_text() == "epoch,step\n0,1\n"


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"\x80\x04garbage"])
def test_a_truncated_resume_file_is_one_line(demo_faces, make_tiny_ckpt, tmp_path, capsys,
                                             content):
    run = _old_run(tmp_path, make_tiny_ckpt)
    (run / "resume.ckpt").write_bytes(content)
    err = _run(capsys, ["train", f"data={demo_faces}", *TINY, "resume=auto", "name=old",
                        f"out_dir={tmp_path / 'runs'}"])
    assert str(run / "resume.ckpt") in err
    assert (run / "config.yaml").read_text() == "the old run's config\n"


# ------------------------------------------------------------------ §3 data that cannot train

def _demo_copy_with_rows(demo_faces: Path, tmp_path: Path, edit) -> Path:
    """A copy of the demo set whose manifest holds ``edit(rows)`` instead of its rows."""
    rows = list(csv.DictReader(demo_faces.open()))
    manifest = tmp_path / "d" / "manifest.csv"
    shutil.copytree(demo_faces.parent, manifest.parent)
    with manifest.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(edit(rows))
    return manifest


def test_a_split_with_one_class_is_refused_before_training(demo_faces, tmp_path, capsys):
    one = _demo_copy_with_rows(demo_faces, tmp_path, lambda rows: [
        r for r in rows if r["split"] != "val" or r["label"] == "real"])
    err = _run(capsys, ["train", f"data={one}", *TINY, f"out_dir={tmp_path / 'runs'}"])
    assert "val split holds real" in err
    assert not (tmp_path / "runs").exists()


def test_the_same_file_under_a_new_id_is_refused(demo_faces, tmp_path, capsys):
    dup = _demo_copy_with_rows(demo_faces, tmp_path,
                               lambda rows: [*rows, {**rows[0], "id": "a_new_id"}])
    err = _run(capsys, ["train", f"data={dup}", *TINY, f"out_dir={tmp_path / 'runs'}"])
    assert "the same file under several ids" in err and "a_new_id" in err
