"""Reports never overstate: no zero-width intervals, the threshold's origin always stated (a
default said loudly), one report folder per (checkpoint, data, split) and never overwritten
silently, and the device line says what inference does (fp32)."""
from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
import torch

from dfdetect.config.loader import ConfigError
from dfdetect.config.schema import EvaluateConfig
from dfdetect.data.manifest import read_manifest, write_manifest
from dfdetect.evaluation.evaluate import evaluate

pytestmark = pytest.mark.usefixtures("one_torch_thread")
QUIET = dict(device="cpu", num_workers=0, batch_size=32)


def _variant(demo_faces: Path, folder: Path, **change) -> Path:
    """A copy of the demo manifest (same images) with every row's fields changed."""
    m = read_manifest(demo_faces)
    for s in m.samples:
        for key, value in change.items():
            setattr(s, key, value(s) if callable(value) else value)
    folder.mkdir(parents=True, exist_ok=True)
    return write_manifest(m, folder / "manifest.csv")


def _abs_paths(demo_faces: Path):
    return lambda s: str((demo_faces.parent / s.path).resolve())


def test_one_group_gets_no_interval_only_the_reason(demo_faces, make_tiny_ckpt, tmp_path) -> None:
    data = _variant(demo_faces, tmp_path / "one", group="only_video", split="test",
                    path=_abs_paths(demo_faces))
    lines: list[str] = []
    result = evaluate(EvaluateConfig(ckpt=str(make_tiny_ckpt()), data=str(data),
                                     out=str(tmp_path / "r"), bootstrap=200, **QUIET),
                      echo=lines.append)
    auc = result.report["ci"]["auc"]
    assert auc["low"] is None and auc["high"] is None and auc["n"] == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert "interval not estimated: only 1 group (at least 5 needed)" in md
    assert "bootstrap over 1 videos" not in md
    assert not re.search(r"\[\d\.\d{4}, \d\.\d{4}\]", md)  # no interval printed anywhere
    assert "interval not estimated: only 1 group" in lines[-1]


def test_a_default_threshold_is_said_loudly(demo_faces, make_tiny_ckpt, tmp_path) -> None:
    # no val split in the data and a checkpoint that holds no chosen threshold
    data = _variant(demo_faces, tmp_path / "noval",
                    split=lambda s: "train" if s.split == "val" else s.split,
                    path=_abs_paths(demo_faces))
    lines: list[str] = []
    result = evaluate(EvaluateConfig(ckpt=str(make_tiny_ckpt()), data=str(data),
                                     out=str(tmp_path / "r"), bootstrap=0, **QUIET),
                      echo=lines.append)
    assert result.metrics["threshold"] == 0.5
    assert result.report["threshold_source"].startswith("DEFAULT 0.5, not chosen on any data")
    assert "split 'val' has no scored rows" in result.report["threshold_source"]
    assert lines[-1].startswith("WARNING: the decision threshold is a DEFAULT 0.5")
    md = (tmp_path / "r" / "report.md").read_text()
    assert "**Warning: the decision threshold is a DEFAULT 0.5" in md


def test_the_threshold_says_which_split_rule_and_run(demo_faces, make_tiny_ckpt, tmp_path) -> None:
    ckpt = shutil.copy(make_tiny_ckpt(), tmp_path / "best.ckpt")
    chosen = evaluate(EvaluateConfig(ckpt=str(ckpt), data=str(demo_faces), save_threshold=True,
                                     out=str(tmp_path / "a"), bootstrap=0, **QUIET),
                      echo=lambda *_: None)
    md = (tmp_path / "a" / "report.md").read_text()
    assert f"chosen on split 'val' of `{demo_faces}` by rule eer" in md
    lines: list[str] = []
    kept = evaluate(EvaluateConfig(ckpt=str(ckpt), data=str(demo_faces), threshold_split="",
                                   out=str(tmp_path / "b"), bootstrap=0, **QUIET),
                    echo=lines.append)
    assert kept.metrics["threshold"] == pytest.approx(chosen.metrics["threshold"])
    source = kept.report["threshold_source"]
    assert source.startswith("checkpoint (no threshold_split; chosen earlier: val:eer at frame "
                             f"level on {demo_faces})")
    assert "DEFAULT" not in lines[-1] and "chosen earlier: val:eer" in lines[-1]


def test_default_report_folders_are_keyed_by_data_and_never_overwritten(
        demo_faces, make_tiny_ckpt, tmp_path) -> None:
    ckpt = shutil.copy(make_tiny_ckpt(), tmp_path / "best.ckpt")
    a = _variant(demo_faces, tmp_path / "ffpp", path=_abs_paths(demo_faces))
    b = _variant(demo_faces, tmp_path / "celebdf", path=_abs_paths(demo_faces))
    outs = [evaluate(EvaluateConfig(ckpt=str(ckpt), data=str(d), bootstrap=0, **QUIET),
                     echo=lambda *_: None).out_dir for d in (a, b)]
    assert outs[0] != outs[1]
    for out, name in zip(outs, ("ffpp", "celebdf")):
        assert out.parent.parent == tmp_path / "eval" and out.name == "test"
        assert re.fullmatch(rf"{name}-[0-9a-f]{{8}}", out.parent.name)
        assert json.loads((out / "metrics.json").read_text())["data"] == str(
            a if name == "ffpp" else b)
    before = (outs[0] / "metrics.json").read_bytes()
    with pytest.raises(ConfigError) as info:
        evaluate(EvaluateConfig(ckpt=str(ckpt), data=str(a), bootstrap=0, threshold=0.9,
                                **QUIET), echo=lambda *_: None)
    msg = str(info.value)
    assert str(outs[0]) in msg and "overwrite=true" in msg and outs[0].parent.name in msg
    assert (outs[0] / "metrics.json").read_bytes() == before
    with pytest.raises(ConfigError, match="overwrite=true"):  # an explicit out= too
        evaluate(EvaluateConfig(ckpt=str(ckpt), data=str(a), out=str(outs[1]), bootstrap=0,
                                **QUIET), echo=lambda *_: None)
    again = evaluate(EvaluateConfig(ckpt=str(ckpt), data=str(a), bootstrap=0, threshold=0.9,
                                    overwrite=True, **QUIET), echo=lambda *_: None)
    assert again.out_dir == outs[0] and again.metrics["threshold"] == 0.9


def test_the_device_line_says_inference_runs_in_fp32(make_tiny_ckpt, monkeypatch, caplog) -> None:
    from dfdetect.inference.predictor import Predictor
    from dfdetect.training import device

    monkeypatch.setattr(device.Probe, "cpu_bf16", lambda self: True)  # a CPU with bf16 units
    assert device.resolve_device("cpu").precision == "bf16-mixed"  # what training would use
    with caplog.at_level(logging.INFO, logger="dfdetect"):
        predictor = Predictor.from_checkpoint(make_tiny_ckpt(), device="cpu", num_workers=0)
    line = next(r.getMessage() for r in caplog.records if "Using device" in r.getMessage())
    assert "bf16" not in line and "inference in fp32" in line
    assert {p.dtype for p in predictor.model.parameters()} == {torch.float32}
    out = predictor.model(torch.zeros(1, 3, 32, 32))
    assert out.dtype == torch.float32
