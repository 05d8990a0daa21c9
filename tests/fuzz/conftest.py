"""Fixtures of the fuzz corpus (tests/fuzz/corpus.py), built once per session into tmp dirs."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _corpus():
    spec = importlib.util.spec_from_file_location("dfdetect_fuzz_corpus",
                                                  Path(__file__).with_name("corpus.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def corpus():
    return _corpus()


@pytest.fixture(scope="session")
def audio_ckpt(tmp_path_factory) -> Path:
    """An untrained rawnet2_light audio checkpoint (16 kHz, 0.5 s windows)."""
    import torch

    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.models import build_model

    torch.manual_seed(0)
    net = build_model("rawnet2_light")
    prep = {"modality": "audio", "sample_rate": 16000, "seconds": 0.5, "window_hop": 0.25,
            "trim_silence": False, "augment": ""}
    ckpt = make_checkpoint(net, model_name="rawnet2_light",
                           model_kwargs={"num_classes": 2, "drop_rate": 0.0},
                           preprocessing=prep, config={})
    return save_checkpoint(ckpt, tmp_path_factory.mktemp("audio_ckpt") / "audio.ckpt")
