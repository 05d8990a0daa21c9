"""`dfdetect env`: hardware rows through a fake probe, exit status, install hints, real machine."""
from __future__ import annotations

import json

import pytest

from dfdetect import envcheck
from dfdetect.cli.main import main

from fakes import FakeProbe  # tests/fakes.py


def hardware(probe: FakeProbe) -> dict[str, envcheck.Row]:
    ctx = envcheck.Context(probe, envcheck.Path("."), 5.0)
    return {r.name: r for r in envcheck.check_hardware(ctx)}


def test_two_cuda_gpus_with_bf16():
    rows = hardware(FakeProbe(gpus=[("NVIDIA A100-SXM4-80GB", 80.0), ("Tesla T4", 15.0)],
                              bf16=True))
    assert rows["cuda"].status == "ok"
    assert "2 GPUs" in rows["cuda"].value
    assert "0: NVIDIA A100-SXM4-80GB 80 GB" in rows["cuda"].value
    assert "1: Tesla T4 15 GB" in rows["cuda"].value
    assert rows["device=auto"].value.startswith("cuda:0")
    assert rows["precision=auto"].value.startswith("bf16-mixed: the GPU supports bf16")


def test_cuda_without_bf16_uses_fp16():
    rows = hardware(FakeProbe(gpus=[("Tesla T4", 15.0)], bf16=False))
    assert "1 GPU (no bf16)" in rows["cuda"].value
    assert rows["precision=auto"].value.startswith("16-mixed: the GPU has no bf16")


def test_mps_shown():
    rows = hardware(FakeProbe(mps=True))
    assert rows["mps"].status == "ok"
    assert rows["cuda"].status == "info"
    assert rows["device=auto"].value.startswith("mps:")
    assert rows["precision=auto"].value.startswith("32-true")
    assert "PYTORCH_ENABLE_MPS_FALLBACK" in rows["precision=auto"].value


@pytest.mark.parametrize("units, precision, reason", [
    (True, "bf16-mixed", "native bf16"),
    (False, "32-true", "no native bf16 units"),
])
def test_cpu_only_with_and_without_bf16(units, precision, reason):
    rows = hardware(FakeProbe(cpus=4, cpu_bf16_units=units))
    assert rows["cuda"].value.startswith("no CUDA GPU")
    assert rows["mps"].status == "info"
    assert rows["device=auto"].value.startswith("cpu: Using device: cpu (x86_64, 4 cores)")
    assert f"native bf16: {'yes' if units else 'no'}" in rows["cpu"].value
    assert rows["precision=auto"].value.startswith(f"{precision}: ")
    assert reason in rows["precision=auto"].value


def test_fake_probe_goes_through_the_command(monkeypatch, capsys):
    monkeypatch.setattr(envcheck, "Probe", lambda: FakeProbe(gpus=[("NVIDIA H100", 80.0)] * 2,
                                                             bf16=True))
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert "0: NVIDIA H100 80 GB; 1: NVIDIA H100 80 GB" in out
    assert "bf16-mixed" in out


def _without(monkeypatch, module: str) -> None:
    real = envcheck.version_of
    monkeypatch.setattr(envcheck, "version_of",
                        lambda m, d="": None if m == module else real(m, d))


def test_missing_required_component_exits_2_with_the_install_command(monkeypatch, capsys):
    _without(monkeypatch, "av")
    assert main(["env"]) == 2
    captured = capsys.readouterr()
    line = next(line for line in captured.out.splitlines() if line.startswith("pyav h264 decode"))
    assert "missing" in line
    assert "-> pip install av -c requirements/constraints.txt" in captured.out
    assert "required component(s) missing: pyav h264 decode" in captured.err


def test_missing_face_detector_weights_exit_2(monkeypatch, capsys):
    from dfdetect.preprocess import PrepareError
    from dfdetect.preprocess import faces

    def broken(name):
        raise PrepareError("detector=mtcnn: weight file(s) pnet.pt missing", "detector")

    monkeypatch.setattr(faces, "check_detector", broken)
    assert main(["env"]) == 2
    out = capsys.readouterr().out
    assert "pip install --no-deps facenet-pytorch==2.6.0" in out
    assert "pnet.pt missing" in out


@pytest.mark.parametrize("module, row, column, fix", [
    ("fastapi", "serve fastapi", 2, "-> pip install 'dfdetect[serve]'"),
    ("onnxruntime", "onnxruntime", 1, "-> pip install onnxruntime"),
])
def test_missing_optional_component_is_a_warning_and_exits_0(monkeypatch, capsys, module, row,
                                                             column, fix):
    _without(monkeypatch, module)
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith(row))
    assert line.split()[column] == "warn"
    assert fix in out


def test_low_disk_warns(monkeypatch, tmp_path):
    monkeypatch.setattr(envcheck.shutil, "disk_usage", lambda _: type("U", (), {"free": 2**30}))
    ctx = envcheck.Context(FakeProbe(), tmp_path, 5.0)
    (row,) = envcheck.check_disk(ctx)
    assert row.status == "warn" and row.value.startswith("1.0 GB free")


def test_real_machine_is_ready_and_lists_torch(capsys):
    import torch

    assert main(["env"]) == 0
    out = capsys.readouterr().out
    torch_line = next(line for line in out.splitlines() if line.startswith("torch "))
    assert torch.__version__.split("+")[0] in torch_line


def test_json_output(capsys):
    assert main(["env", "format=json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in rows} <= set(envcheck.STATUSES)
    assert any(r["name"] == "python" and r["status"] == "ok" for r in rows)


def test_unknown_format_is_a_config_error(capsys):
    assert main(["env", "format=yaml"]) == 2
    assert "unknown format 'yaml'" in capsys.readouterr().err


BLOCK_TORCH = '''
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "torchvision"):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
from dfdetect.cli.main import main
sys.exit(main(["env"]))
'''


def test_without_torch_the_command_still_runs_and_says_what_to_install(tmp_path):
    """The machine that most needs `dfdetect env` has no torch: no traceback, exit 2."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "no_torch.py"
    script.write_text(BLOCK_TORCH)
    src = str(Path(envcheck.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "-> pip install torch torchvision" in done.stdout
    assert "required component(s) missing: torch, torchvision" in done.stderr


def test_missing_folder_is_a_warn_row_not_a_crash(tmp_path, capsys):
    assert main(["env", f"folder={tmp_path / 'nope'}"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("disk"))
    assert line.split()[1] == "warn" and "nope" in line
