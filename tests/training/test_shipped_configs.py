"""Every shipped config builds: model, loss, optimiser, schedule and augmentation (no training)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dfdetect.config.loader import load_config
from dfdetect.config.schema import TrainConfig
from dfdetect.data.transforms import train_transform
from dfdetect.losses import build_loss
from dfdetect.training.optim import build_optimizer, build_scheduler
from dfdetect.training.recipe import _build_model, check_selection

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_config_builds(path: Path) -> None:
    cfg = load_config(TrainConfig, [f"config={path}", "pretrained=false"])
    check_selection(cfg)
    model, kwargs = _build_model(cfg)
    loss = build_loss(cfg.loss, [10, 10])
    opt = build_optimizer(model.parameters(), cfg.optim)
    build_scheduler(opt, cfg.optim, 10, 100, cfg.trainer.monitor)
    prep = {"image_size": 64, "mean": [0.5] * 3, "std": [0.5] * 3}
    image = torch.randint(0, 255, (80, 80, 3), dtype=torch.uint8).numpy()
    x = train_transform(prep, cfg.augment if cfg.data.augment else False)(image, seed=0)
    model.eval()
    with torch.no_grad():
        logits = model(x[None])
    assert logits.shape == (1, 2)
    assert torch.isfinite(loss(logits, torch.tensor([1])))


def test_yaml_list_of_manifests_becomes_a_comma_list() -> None:
    cfg = load_config(TrainConfig, [f"config={CONFIGS[0].parent / 'multi_dataset.yaml'}"])
    assert cfg.data.manifest == "data/ffpp/manifest.csv,data/dfdc/manifest.csv"
