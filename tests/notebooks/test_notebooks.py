"""The Colab and Kaggle notebooks, executed headless (papermill + ipykernel) on the CPU.

Each notebook runs twice with "Drive" (or /kaggle/working) pointed at a temporary folder. The
first session trains one epoch and saves the outputs. Then a reset: on Colab the local run folder
is deleted (Drive stays); on Kaggle a new session starts with an empty /kaggle/working and the
previous version's output attached as input. The second session, asked for two epochs,
restores the run from the backup and trains only the second epoch.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

pytest.importorskip("papermill")
import papermill  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY = ("model=timm:resnet18 pretrained=false image_size=32 batch_size=16 num_workers=0 "
        "device=cpu precision=32 limit_train_batches=2 limit_val_batches=1 progress=false")

pytestmark = pytest.mark.slow


def _execute(name: str, tmp: Path, epochs: int, n: int, **more) -> str:
    """Run notebooks/<name>.ipynb; return everything its cells printed."""
    out = tmp / f"{name}-{n}.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks" / f"{name}.ipynb"), str(out), kernel_name="python3",
        cwd=str(tmp), progress_bar=False, parameters={
            "install": False, "repo_dir": str(REPO), "mount_drive": False,
            "drive_dir": str(tmp / "drive"), "work_dir": str(tmp / "local"),
            "config": "configs/cpu_quick.yaml", "train_args": f"{TINY} epochs={epochs}",
            "demo_size": 32, "max_time": "00:30", "evaluate_args": "bootstrap=50", **more})
    cells = json.loads(out.read_text())["cells"]
    return "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                   for c in cells if c["cell_type"] == "code" for o in c.get("outputs", []))


@pytest.mark.parametrize("name", ["colab", "kaggle"])
def test_notebook_runs_then_resumes_from_the_backup_after_a_reset(name, tmp_path) -> None:
    drive, run = tmp_path / "drive", tmp_path / "local" / "runs" / name
    outputs, backup = drive / "outputs" / name, drive / "runs" / name
    first = _execute(name, tmp_path, epochs=1, n=1)
    for f in ("submission.csv", "best.onnx", "best.ckpt", "eval/report.md"):
        assert (outputs / f).is_file(), f
    assert (backup / "resume.ckpt").is_file()
    assert "restored" not in first

    more = {}
    if name == "kaggle":  # new session: the last version's output is an input, working is empty
        more["previous_output"] = str(shutil.copytree(drive, tmp_path / "input" / "dfdetect"))
        shutil.rmtree(drive)
    else:  # runtime reset: local disk gone, Drive kept
        (outputs / "submission.csv").unlink()
    shutil.rmtree(run)
    second = _execute(name, tmp_path, epochs=2, n=2, **more)
    assert f"restored {run} from {backup} (resume state at epoch 1, step 2)" in second
    assert f"Resuming from {run / 'resume.ckpt'}" in second
    assert "Epoch 2/2" in second and "Epoch 1/2" not in second  # only the 2nd epoch trained
    assert torch.load(run / "last.ckpt", weights_only=True)["epoch"] == 1
    assert (outputs / "submission.csv").read_text().startswith("id,score,label")
