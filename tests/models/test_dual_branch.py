"""Tests for the dual-branch (pixels + spectrum) detector (dfdetect.models.dual_branch)."""
from __future__ import annotations

import pytest
import torch

from dfdetect.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
from dfdetect.models import ModelError, build_model
from dfdetect.models.dual_branch import dct_matrix, log_spectrum


def test_dct_matrix_is_orthonormal_and_matches_a_cosine() -> None:
    d = dct_matrix(8)
    assert torch.allclose(d @ d.T, torch.eye(8), atol=1e-5)
    flat = torch.ones(8)
    assert torch.allclose(d @ flat, torch.tensor([8 ** 0.5] + [0.0] * 7), atol=1e-5)


@pytest.mark.parametrize("kind", ["dct", "fft"])
def test_log_spectrum_shape_and_standardisation(kind: str) -> None:
    spec = log_spectrum(torch.randn(2, 3, 32, 24), kind)
    assert spec.shape == (2, 1, 32, 24)
    assert torch.allclose(spec.mean(dim=(-2, -1)), torch.zeros(2, 1), atol=1e-4)


def test_frequency_branch_changes_the_output() -> None:
    torch.manual_seed(0)
    net = build_model("dual_branch", backbone="resnet18").eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        out = net(x)
        net.frequency.net[-2].weight.zero_()
        net.frequency.net[-2].bias.fill_(1.0)
        assert not torch.allclose(out, net(x))


def test_default_backbone_is_efficientnet_b4() -> None:
    net = build_model("dual_branch")
    assert net.backbone.default_cfg["architecture"] == "efficientnet_b4"


def test_unknown_spectrum() -> None:
    with pytest.raises(ModelError, match="dct, fft"):
        build_model("dual_branch", backbone="resnet18", spectrum="wavelet")


def test_checkpoint_round_trip_keeps_the_backbone(tmp_path) -> None:
    kwargs = {"num_classes": 2, "drop_rate": 0.0, "backbone": "resnet18", "spectrum": "fft"}
    net = build_model("dual_branch", **kwargs).eval()
    ckpt = make_checkpoint(net, model_name="dual_branch", model_kwargs=kwargs,
                           preprocessing={"modality": "image", "image_size": 32,
                                          "mean": [0.5] * 3, "std": [0.5] * 3}, config={})
    save_checkpoint(ckpt, tmp_path / "m.ckpt")
    again, meta = load_checkpoint(tmp_path / "m.ckpt")
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(net(x), again(x))
    assert meta["model"]["kwargs"]["backbone"] == "resnet18"
