"""Every shipped audio config loads, names its command, and its model runs on a short clip."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dfdetect.config.loader import load_config
from dfdetect.config.schema import TrainConfig
from dfdetect.models import build_model

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs" / "audio").glob("*.yaml"))


def test_there_are_audio_configs():
    assert {p.stem for p in CONFIGS} >= {"aasist", "aasist_l", "rawnet2", "lcnn_lfcc",
                                         "logmel_resnet18"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_audio_config_loads_and_its_model_runs(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith(f"# dfdetect train config=configs/audio/{path.name} data=")
    values = [v for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
              for v in line.split(":", 1)[1:]]
    assert not [v for v in values if v.strip().strip("'\"").startswith(("/", "~"))]
    cfg = load_config(TrainConfig, [f"config={path}"])
    assert cfg.trainer.monitor == "val/eer"
    net = build_model(cfg.model.name, cfg.model.pretrained, drop_rate=cfg.model.drop_rate).eval()
    assert net.modality == "audio"
    torch.set_num_threads(1)
    with torch.no_grad():
        assert net(torch.randn(1, 4000)).shape == (1, 2)
