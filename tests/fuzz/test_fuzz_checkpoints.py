"""Hostile checkpoints through every command that reads one (predict, evaluate, export).

Each must end in one error line naming the file and what is wrong (exit status of a user
error), never a traceback, never run code (the pickle payloads would create ``PWNED``), and
never write its output. A checkpoint whose weights are NaN but whose checksum matches (written
so on purpose, or before checksums) loads, and every file it scores is an error row.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from dfdetect.cli.main import main

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.timeout(60)]
USER_ERROR = (2,)  # docs/architecture.md: every user error exits 2, one line on stderr
LOADS = {"nan_weights_unsigned"}  # loads (with a warning); predict: error rows; evaluate: none
#                                   could be scored; export: outputs NaN, nothing exported


@pytest.fixture(scope="module")
def hostile(corpus, make_tiny_ckpt, tmp_path_factory) -> dict[str, Path]:
    return corpus.build_checkpoints(tmp_path_factory.mktemp("hostile"), make_tiny_ckpt())


@pytest.fixture(scope="module")
def inputs(corpus, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    entries = corpus.build_images(root / "img")[:6]
    return corpus.write_manifest(root / "manifest.csv", entries, "image")


def commands(ckpt: Path, manifest: Path, out: Path) -> dict[str, list[str]]:
    return {
        "predict": ["predict", f"ckpt={ckpt}", f"input={manifest}", f"out={out / 'p.csv'}",
                    "device=cpu", "num_workers=0", "progress=false"],
        "evaluate": ["evaluate", f"ckpt={ckpt}", f"data={manifest}", "split=test",
                     f"out={out / 'eval'}", "device=cpu", "num_workers=0", "bootstrap=0",
                     "mistakes=0", "threshold=0.5"],
        "export": ["export", f"ckpt={ckpt}", f"out={out / 'm.onnx'}"],
    }


NAMES = ["pickle_payload", "zip_payload", "no_model", "no_preprocessing", "no_state_dict",
         "model_is_str", "kwargs_wrong", "num_classes_1e9", "model_unknown", "image_size_20000", "image_size_str",
         "seconds_1e6", "threshold_nan", "nan_weights_unsigned", "nan_weights_signed_wrong",
         "wrong_shape", "not_a_dict", "other_format", "truncated_1", "truncated_50",
         "truncated_99", "zero_bytes", "bit_flips", "zeroed_bytes"]


@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
def test_hostile_checkpoints(command, hostile, inputs, tmp_path, capsys, caplog) -> None:
    assert sorted(hostile) == sorted(NAMES)  # the corpus and this list agree
    for name in NAMES:
        out = tmp_path / name
        if command == "export":
            out.mkdir()  # export writes into an existing folder
        caplog.clear()
        rc = main(commands(hostile[name], inputs, out)[command])
        text = capsys.readouterr()
        lines = text.err.strip().splitlines()
        assert "Traceback" not in text.out + text.err + caplog.text, name
        if name in LOADS and command == "predict":
            assert rc == 0, text.err
            rows = list(csv.DictReader(io.StringIO((out / "p.csv").read_text())))
            assert rows and all(r["status"] == "error" and not r["label"] for r in rows), rows
            assert any("non-finite" in r["error"] for r in rows)  # the readable ones
            assert "no weights checksum" in caplog.text
            continue
        assert rc in USER_ERROR, (name, rc, text.err)
        assert lines and lines[-1].startswith(f"dfdetect {command}: error:"), (name, text.err)
        assert not out.exists() or not any(out.rglob("*")), (name, list(out.rglob("*")))
    assert not (hostile["pickle_payload"].parent / "PWNED").exists()


def test_corrupt_weights_name_the_checksum(hostile, capsys) -> None:
    for name in ("bit_flips", "zeroed_bytes"):
        rc = main(["export", f"ckpt={hostile[name]}", f"out={hostile[name]}.onnx"])
        assert rc in USER_ERROR and "checksum" in capsys.readouterr().err
        assert not os.path.exists(f"{hostile[name]}.onnx")
