"""`dfdetect --help`, every `<command> --help` and config errors answer without the heavy
libraries: checked by what a fresh interpreter has imported afterwards (not by timing it; the
time is in docs/benchmarks.md, "Command-line start-up")."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "lightning", "timm", "torchvision", "torchmetrics", "cv2", "av", "sklearn",
         "albumentations", "librosa", "soundfile", "matplotlib", "onnxruntime", "onnx", "PIL",
         "numpy", "scipy", "skimage", "tensorboard")

SCRIPT = r"""
import contextlib, io, json, sys
from dfdetect.cli import commands
from dfdetect.cli.main import main

calls = [["--help"]] + [[c, "--help"] for c in commands.COMMANDS] + [
    ["train", "lrr=0.1"], ["train", "lr=-1"], ["train", "device=cuda:9"],
    ["train", "precision=fp16"], ["train", "name=a/b"], ["predict", "device=tpu"],
    ["evaluate", "bootstrap=-1"], ["prepare", "split_ratio=2"]]
codes, out = [], io.StringIO()
for argv in calls:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            codes.append(main(argv))
        except SystemExit as e:
            codes.append(e.code)
print(json.dumps({"codes": codes, "modules": sorted(m.split(".")[0] for m in sys.modules),
                  "text": out.getvalue()}))
"""


def test_help_and_config_errors_import_no_heavy_library() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    from dfdetect.cli import commands

    n = 1 + len(commands.COMMANDS)
    assert result["codes"][:n] == [0] * n  # every help printed
    assert result["codes"][n:] == [2] * 8  # every config error refused as a user error
    for text in ("unknown config key 'lrr'", "optim.lr=-1.0: out of range",
                 "unknown device 'cuda:9'", "unknown precision 'fp16'", "a run name is one folder",
                 "unknown device 'tpu'", "bootstrap=-1", "split_ratio"):
        assert text in result["text"], text
    assert "usage: dfdetect train" in result["text"]
    loaded = sorted(set(HEAVY) & set(result["modules"]))
    assert loaded == [], f"imported while parsing help / config errors: {loaded}"
