"""Every shipped config builds: model, loss, optimiser, schedule and augmentation (no training).

Parametrised over ``configs/**/*.yaml``, so a config added anywhere under configs/ is covered.
The sample goes through the modality handler the training run would use (image crops or audio
clips), with the preprocessing the config implies.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dfdetect.config.loader import load_config
from dfdetect.config.schema import TrainConfig
from dfdetect.modalities import get_modality
from dfdetect.losses import build_loss
from dfdetect.training.optim import build_optimizer, build_scheduler
from dfdetect.training.recipe import _build_model, check_selection

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).parents[2] / "configs"
CONFIGS = sorted(ROOT.glob("**/*.yaml"))
SAMPLES = {  # one decoded training sample per modality, as the handler's load() returns it
    "image": lambda rng: rng.integers(0, 255, (80, 80, 3), dtype=np.uint8),
    "audio": lambda rng: (0.1 * rng.standard_normal(24000)).astype(np.float32),
}


def test_every_config_folder_is_globbed() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in CONFIGS}
    assert {"cpu_quick.yaml", "swin_t.yaml", "audio/aasist.yaml", "audio/lcnn_lfcc.yaml"} <= names
    assert len(CONFIGS) == len(list(ROOT.rglob("*.yaml"))) >= 11


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shipped_config_builds(path: Path) -> None:
    cfg = load_config(TrainConfig, [f"config={path}", "pretrained=false"])
    check_selection(cfg)
    model, kwargs = _build_model(cfg)
    loss = build_loss(cfg.loss, [10, 10])
    opt = build_optimizer(model.parameters(), cfg.optim)
    build_scheduler(opt, cfg.optim, 10, 100, cfg.trainer.monitor)
    modality = getattr(model, "modality", "image")
    cfg.data.image_size, cfg.data.seconds = 64, 0.5  # small inputs; the same code paths
    handler = get_modality(modality)
    prep = handler.preprocessing(cfg.data, model)
    augment = cfg.augment if cfg.data.augment else False
    x = handler.train_transform(prep, augment)(SAMPLES[modality](np.random.default_rng(0)))
    assert x.shape == ((3, 64, 64) if modality == "image" else (8000,))
    model.eval()
    with torch.no_grad():
        logits = model(x[None])
    assert logits.shape == (1, 2) and torch.isfinite(logits).all()
    assert torch.isfinite(loss(logits, torch.tensor([1])))


def test_yaml_list_of_manifests_becomes_a_comma_list() -> None:
    cfg = load_config(TrainConfig, [f"config={ROOT / 'multi_dataset.yaml'}"])
    assert cfg.data.manifest == "data/ffpp/manifest.csv,data/dfdc/manifest.csv"
