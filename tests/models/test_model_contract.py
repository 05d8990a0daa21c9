"""The contract every registered model keeps, parametrised over the registry (issue 9, section 4).

For each name in ``model_names()`` (plus representative ``timm:`` and ``audio_timm:`` members):
forward gives finite (B, 2) logits; one backward gives every trainable parameter a finite
gradient (a model whose parameters legitimately get none lists them in ``no_grad_parameters``);
a checkpoint saved and re-read with ``weights_only=True`` rebuilds a model that gives the same
outputs; ``dfdetect export`` writes an ONNX file whose onnxruntime outputs match PyTorch (or the
model declares ``export_unsupported = "<reason>"`` and the exporter refuses with that reason).

A new registered model is picked up automatically; a family (``<name>`` entry) must be given a
representative member in FAMILY_MEMBERS or the coverage test fails.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from dfdetect.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
from dfdetect.config.schema import DataConfig
from dfdetect.modalities import get_modality
from dfdetect.models import build_model, model_names

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAMILY_MEMBERS = {"timm:<name>": ["timm:resnet18", "timm:efficientnet_b0"],
                  "audio_timm:<name>": ["audio_timm:resnet18"]}
NAMES = [n for n in model_names() if "<" not in n] + [
    m for family in FAMILY_MEMBERS.values() for m in family]
# architecture options per name: dual_branch's default efficientnet_b4 backbone (17M parameters)
# is swapped for b0 to keep the file fast; it also proves model_kwargs survive the round trip
OPTIONS = {"dual_branch": {"backbone": "efficientnet_b0"}}
IMAGE_SIZE = 64                       # a multiple of 32 (swin) and enough for xception's strides
AUDIO = DataConfig(sample_rate=16000, seconds=0.5)  # (1, 8000) waveforms

_CACHE: dict[str, tuple] = {}


def _built(name: str) -> tuple[torch.nn.Module, dict]:
    """(model, preprocessing) built once per name from seed 0, BatchNorm statistics non-trivial."""
    if name not in _CACHE:
        torch.manual_seed(0)
        net = build_model(name, pretrained="false", **OPTIONS.get(name, {}))
        audio = getattr(net, "modality", "image") == "audio"
        prep = (get_modality("audio").preprocessing(AUDIO, net) if audio else
                get_modality("image").preprocessing(DataConfig(image_size=IMAGE_SIZE), net))
        with torch.no_grad():  # one train-mode pass moves running stats off their init values
            net.train()(_inputs(prep, 4, seed=99))
        _CACHE[name] = (net.eval(), prep)
    return _CACHE[name]


def _inputs(prep: dict, batch: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if prep["modality"] == "audio":
        t = int(prep["seconds"] * prep["sample_rate"])
        return 0.1 * torch.randn(batch, t, generator=g)
    s = int(prep["image_size"])
    return torch.randn(batch, 3, s, s, generator=g)


def _save(name: str, net: torch.nn.Module, prep: dict, path: Path) -> Path:
    ckpt = make_checkpoint(net, model_name=name, model_kwargs=OPTIONS.get(name, {}),
                           preprocessing=prep, config={})
    return save_checkpoint(ckpt, path)


def test_every_family_has_a_tested_member() -> None:
    families = [n for n in model_names() if "<" in n]
    assert sorted(families) == sorted(FAMILY_MEMBERS), "give new families a member to test"
    assert {"aasist", "dual_branch", "lcnn", "rawnet2", "swin", "xception"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_forward_and_backward_reach_every_parameter(name: str) -> None:
    cached, prep = _built(name)
    net = copy.deepcopy(cached).train()
    logits = net(_inputs(prep, 2, seed=0))
    assert logits.shape == (2, 2) and torch.isfinite(logits).all()
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1])).backward()

    declared = set(getattr(net, "no_grad_parameters", ()))
    params = dict(net.named_parameters())
    assert declared <= set(params), f"stale no_grad_parameters: {declared - set(params)}"
    missing = [k for k, p in params.items()
               if p.requires_grad and k not in declared and p.grad is None]
    assert not missing, f"{name}: no gradient reaches {missing[:5]} ({len(missing)} in all)"
    bad = [k for k, p in params.items() if p.grad is not None and not torch.isfinite(p.grad).all()]
    assert not bad, f"{name}: non-finite gradients in {bad[:5]}"
    # the head (last trainable parameter) always gets a non-zero gradient from a real loss
    last = [p for p in params.values() if p.requires_grad][-1]
    assert last.grad.abs().sum() > 0


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_round_trip_gives_the_same_outputs(name: str, tmp_path: Path) -> None:
    net, prep = _built(name)
    path = _save(name, net, prep, tmp_path / "m.ckpt")
    raw = torch.load(path, map_location="cpu", weights_only=True)  # no pickled code inside
    assert raw["model"] == {"name": name, "kwargs": OPTIONS.get(name, {})}
    torch.manual_seed(12345)  # a rebuild that ignored the saved weights would differ
    again, meta = load_checkpoint(path)
    assert not again.training and meta["preprocessing"] == prep
    x = _inputs(prep, 2, seed=3)
    with torch.no_grad():
        torch.testing.assert_close(again(x), net(x), rtol=0, atol=1e-6)
    for key, value in net.state_dict().items():  # buffers too (BatchNorm running statistics)
        torch.testing.assert_close(again.state_dict()[key], value, rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("name", NAMES)
def test_export_parity_or_a_declared_refusal(name: str, tmp_path: Path,
                                             request: pytest.FixtureRequest) -> None:
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    from dfdetect.config.schema import ExportConfig
    from dfdetect.inference.export import ExportError, export

    net, prep = _built(name)
    ckpt = _save(name, net, prep, tmp_path / "m.ckpt")
    cfg = ExportConfig(ckpt=str(ckpt), out=str(tmp_path / "m.onnx"))
    reason = getattr(net, "export_unsupported", None)
    if reason:
        with pytest.raises(ExportError, match=re.escape(reason)):
            export(cfg, echo=lambda *_: None)
        return
    result = export(cfg, echo=lambda *_: None)
    assert result.max_abs_diff <= cfg.tolerance
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    for batch in (1, 2):  # batch 1 is how `predict` scores a single file
        x = _inputs(prep, batch, seed=10 + batch)
        with torch.no_grad():
            ref = net(x).numpy()
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        assert got.shape == (batch, 2)
        np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)
