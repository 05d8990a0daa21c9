"""Smoke tests for every registered model and the timm family (dfdetect.models)."""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import torch

from dfdetect.models import ModelError, build_model, model_names, preprocessing_of
from dfdetect.registry import RegistryError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TIMM_NAMES = ["timm:resnet18", "timm:efficientnet_b0", "timm:mobilenetv3_small_100"]
NAMES = [n for n in model_names() if "<" not in n] + TIMM_NAMES + ["audio_timm:resnet18"]


@pytest.mark.parametrize("name", NAMES)
def test_build_and_forward(name: str) -> None:
    torch.manual_seed(0)
    net = build_model(name, pretrained="false")
    assert isinstance(net, torch.nn.Module)
    net.eval()
    audio = getattr(net, "modality", "image") == "audio"  # audio models take (B, T) waveforms
    with torch.no_grad():
        out = net(torch.randn(2, 16000) if audio else torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 2)
    assert torch.isfinite(out).all()
    if audio:
        return

    pre = preprocessing_of(net)
    assert set(pre) >= {"mean", "std"}
    assert len(pre["mean"]) == 3 and len(pre["std"]) == 3
    assert all(isinstance(v, float) for v in pre["mean"] + pre["std"])
    assert all(v > 0 for v in pre["std"])


def test_family_is_listed() -> None:
    assert "timm:<name>" in model_names()


def test_num_classes_and_drop_rate_are_passed() -> None:
    net = build_model("timm:resnet18", pretrained="false", num_classes=3, drop_rate=0.3)
    with torch.no_grad():
        assert net.eval()(torch.randn(1, 3, 64, 64)).shape == (1, 3)
    assert net.drop_rate == pytest.approx(0.3)


def test_preprocessing_default_for_plain_modules() -> None:
    pre = preprocessing_of(torch.nn.Linear(2, 2))
    assert pre == {"mean": pytest.approx([0.485, 0.456, 0.406]),
                   "std": pytest.approx([0.229, 0.224, 0.225])}


def test_unknown_timm_name_suggests() -> None:
    with pytest.raises(ModelError) as info:
        build_model("timm:resnet181", pretrained="false")
    msg = str(info.value)
    assert "resnet181" in msg
    assert "did you mean" in msg and "timm:resnet18" in msg


def test_unknown_registered_name() -> None:
    with pytest.raises(RegistryError, match="unknown model"):
        build_model("resnet18", pretrained="false")


@pytest.fixture
def offline_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """HF_HUB_OFFLINE=1, an empty hub cache, no DNS and no retry back-off; returns looked-up hosts.

    huggingface_hub is imported first, as it is in any process that already built a timm model.
    """
    import huggingface_hub.constants
    import huggingface_hub.utils._http as hub_http

    hosts: list[str] = []

    def no_dns(host, *args, **kwargs):
        hosts.append(host)
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: network blocked by the test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(hub_http.time, "sleep", lambda seconds: None)
    return hosts


def test_pretrained_true_offline_fails_fast_with_hint(offline_hub: list[str]) -> None:
    start = time.monotonic()
    with pytest.raises(ModelError) as info:
        build_model("timm:resnet18", pretrained="true")
    assert time.monotonic() - start < 10
    msg = str(info.value)
    assert "pretrained=false" in msg
    assert "timm:resnet18" in msg


@pytest.mark.parametrize("scenario", ["env_set_after_import", "network_down_no_env"])
def test_offline_after_hub_import_does_not_touch_the_network(
        offline_hub: list[str], monkeypatch: pytest.MonkeyPatch, scenario: str) -> None:
    import huggingface_hub.constants

    # the state of a process that imported huggingface_hub while HF_HUB_OFFLINE was unset
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    if scenario == "network_down_no_env":
        monkeypatch.delenv("HF_HUB_OFFLINE")
        allowed = 1  # hub_reachable()'s own probe of huggingface.co
    else:
        allowed = 0
    with pytest.raises(ModelError):
        build_model("timm:resnet18", pretrained="true")
    assert len(offline_hub) <= allowed, f"{len(offline_hub)} look-ups of {set(offline_hub)}"


def test_pretrained_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "weights" / "nope.safetensors"
    with pytest.raises(ModelError) as info:
        build_model("timm:resnet18", pretrained=str(missing))
    assert str(missing) in str(info.value)


def test_pretrained_safetensors_with_imagenet_head(tmp_path: Path) -> None:
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(0)
    source = timm.create_model("resnet18", pretrained=False)  # 1000-class head
    path = tmp_path / "resnet18.safetensors"
    save_file(source.state_dict(), str(path))

    net = build_model("timm:resnet18", pretrained=str(path))
    sd, src = net.state_dict(), source.state_dict()
    assert sd["fc.weight"].shape == (2, 512)  # the 1000-class head was dropped
    for k in ("conv1.weight", "layer1.0.conv1.weight", "layer4.1.bn2.running_var"):
        assert torch.equal(sd[k], src[k]), k
    with torch.no_grad():
        out = net.eval()(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 2) and torch.isfinite(out).all()


def test_pretrained_file_that_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x00\x01 not safetensors at all")
    with pytest.raises(ModelError) as info:
        build_model("timm:resnet18", pretrained=str(path))
    assert str(path) in str(info.value)


def test_pretrained_file_with_no_matching_keys_is_an_error(tmp_path: Path) -> None:
    import timm
    from safetensors.torch import save_file

    sd = timm.create_model("resnet18", pretrained=False).state_dict()
    path = tmp_path / "wrapped.safetensors"
    save_file({f"model.{k}": v for k, v in sd.items()}, str(path))
    with pytest.raises(ModelError):
        build_model("timm:resnet18", pretrained=str(path))


# ---------------------------------------------------------------- issue 4: more architectures


def test_issue4_models_are_registered_and_smoke_tested() -> None:
    assert {"dual_branch", "swin", "xception"} <= set(NAMES)  # so test_build_and_forward runs them


def test_swin_takes_any_multiple_of_32() -> None:
    net = build_model("swin").eval()
    with torch.no_grad():
        assert net(torch.randn(1, 3, 96, 96)).shape == (1, 2)


def test_build_model_passes_architecture_options_and_rejects_foreign_ones() -> None:
    net = build_model("dual_branch", backbone="resnet18", spectrum="fft", drop_rate=0.1)
    assert net.frequency.kind == "fft" and type(net.backbone).__name__ == "ResNet"
    with pytest.raises(ModelError, match="backbone"):
        build_model("timm:resnet18", backbone="resnet34")


def test_grad_checkpointing_switch() -> None:
    from dfdetect.models import enable_grad_checkpointing

    net = build_model("dual_branch", backbone="resnet18")
    enable_grad_checkpointing(net)
    assert net.backbone.grad_checkpointing is True
    with pytest.raises(ModelError, match="grad_checkpointing=false"):
        enable_grad_checkpointing(torch.nn.Linear(2, 2))
