"""memory_format: channels_last training of image models (faster convolutions, same numbers)."""
from __future__ import annotations

import pytest
import torch

from dfdetect.checkpoint import load_checkpoint
from dfdetect.config.loader import ConfigError, load_config
from dfdetect.config.schema import OptimConfig, TrainConfig
from dfdetect.models import build_model
from dfdetect.training.device import DeviceError, resolve_memory_format
from dfdetect.training.module import DetectorModule


@pytest.mark.parametrize("requested, accelerator, spatial, expected", [
    ("auto", "cpu", True, "channels_last"),
    ("auto", "cuda", True, "channels_last"),
    ("auto", "mps", True, "contiguous"),  # MPS NHWC kernels: not trusted by default
    ("auto", "cpu", False, "contiguous"),  # audio: the 2-D features are made inside the model
    ("AUTO", "cuda", False, "contiguous"),
    ("contiguous", "cpu", True, "contiguous"),
    ("channels_last", "mps", False, "channels_last"),  # an explicit choice is kept
])
def test_resolve_memory_format(requested, accelerator, spatial, expected) -> None:
    assert resolve_memory_format(requested, accelerator, spatial) == expected


def test_unknown_memory_format_is_refused_at_load_and_by_the_device_layer() -> None:
    with pytest.raises(ConfigError, match="unknown memory format 'nhwc'.*channels_last"):
        load_config(TrainConfig, ["memory_format=nhwc"])
    with pytest.raises(DeviceError, match="channels_last"):
        resolve_memory_format("nhwc", "cpu", True)


def _pair(seed: int = 0) -> tuple[DetectorModule, DetectorModule]:
    torch.manual_seed(seed)
    a = build_model("timm:resnet18", pretrained="false", num_classes=2)
    b = build_model("timm:resnet18", pretrained="false", num_classes=2)
    b.load_state_dict(a.state_dict())
    return (DetectorModule(a, OptimConfig(), channels_last=False),
            DetectorModule(b, OptimConfig(), channels_last=True))


def test_channels_last_module_computes_what_the_contiguous_one_does() -> None:
    plain, nhwc = _pair()
    conv = nhwc.model.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert plain.model.conv1.weight.is_contiguous()
    x = torch.randn(4, 3, 48, 48, generator=torch.Generator().manual_seed(1))
    target = torch.tensor([0, 1, 1, 0])
    for m in (plain, nhwc):
        m.train()
        torch.nn.functional.cross_entropy(m(x), target).backward()
    # same forward values and the same gradients, by two different kernels
    torch.testing.assert_close(nhwc(x), plain(x), rtol=1e-4, atol=1e-4)
    for (name, p), q in zip(plain.model.named_parameters(), nhwc.model.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-3, atol=1e-4, msg=name)
    # the saved weights hold the same values (strides are not part of a state dict's meaning)
    fresh = build_model("timm:resnet18", pretrained="false", num_classes=2)
    fresh.load_state_dict(nhwc.model.state_dict())
    fresh.eval()
    nhwc.eval()
    torch.testing.assert_close(fresh(x), nhwc(x), rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_train_channels_last_then_predict(demo_faces, tmp_path) -> None:
    """Seam train -> predict: a channels_last run says so, and its checkpoint scores files."""
    from dfdetect.inference.scorers import build_scorer

    torch.set_num_threads(1)
    lines: list[str] = []
    cfg = load_config(TrainConfig, [
        f"data={demo_faces}", "model=timm:resnet18", "image_size=32", "batch_size=8",
        "num_workers=0", "device=cpu", "progress=false", "epochs=1", "limit_train_batches=3",
        "limit_val_batches=2", f"out_dir={tmp_path}", "name=nhwc", "memory_format=auto"])
    from dfdetect.training.recipe import train

    result = train(cfg, echo=lines.append)
    assert "Memory format: channels_last (memory_format=auto)" in lines
    model, meta = load_checkpoint(result.last_ckpt)
    assert model.conv1.weight.is_contiguous()  # rebuilt contiguous: export and predict as usual
    files = sorted((demo_faces.parent / "images").rglob("*.jpg"))[:4]
    scores = [p.score for p in build_scorer(str(result.last_ckpt), device="cpu").score(files)]
    assert len(scores) == 4 and None not in scores
    assert len({round(s, 6) for s in scores}) > 1  # a working model tells files apart
