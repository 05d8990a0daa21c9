"""Tests for audio front-ends (checked against numpy / scipy references) and audio models."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dfdetect.models import ModelError, build_model
from dfdetect.models.audio_features import LFCC, LogMel, SincConv, dct_matrix, mel_matrix

pytestmark = pytest.mark.usefixtures("one_torch_thread")

AUDIO_MODELS = ["aasist", "aasist_light", "rawnet2", "rawnet2_light", "lcnn",
                "audio_timm:resnet18"]


def numpy_power_spec(x: np.ndarray, n_fft=512, hop=160, win=400) -> np.ndarray:
    """Centre-padded (reflect) STFT power with a periodic Hann window zero-padded to n_fft."""
    w = np.zeros(n_fft)
    w[(n_fft - win) // 2: (n_fft - win) // 2 + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    xp = np.pad(x, n_fft // 2, mode="reflect")
    frames = np.stack([xp[i: i + n_fft] * w for i in range(0, xp.size - n_fft + 1, hop)], axis=1)
    return np.abs(np.fft.rfft(frames, axis=0)) ** 2


def test_logmel_matches_a_numpy_reference():
    x = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    ref = np.log(mel_matrix(16000, 512, 64).numpy().astype(np.float64) @ numpy_power_spec(x) + 1e-6)
    ref = (ref - ref.mean()) / (ref.std(ddof=1) + 1e-5)
    got = LogMel()(torch.from_numpy(x)[None])
    assert got.shape == (1, 1, 64, 51)
    np.testing.assert_allclose(got[0, 0].numpy(), ref, atol=2e-3)


def test_dct_is_scipy_orthonormal_dct2():
    from scipy.fft import dct

    x = np.random.default_rng(1).standard_normal(20)
    np.testing.assert_allclose(dct_matrix(20, 20).numpy() @ x, dct(x, norm="ortho"), atol=1e-5)


def test_lfcc_shape_and_deltas_of_a_constant_are_zero():
    feats = LFCC()(torch.ones(1, 8000) * 0.1 + torch.randn(1, 8000) * 1e-3)
    assert feats.shape == (1, 1, 60, 51)
    assert feats[0, 0, 20:, 5:-5].abs().mean() < feats[0, 0, :20].abs().mean()


def test_sinc_filters_pass_their_own_band():
    conv = SincConv(out_channels=8, kernel_size=257)
    response = np.abs(np.fft.rfft(conv.filters[:, 0].numpy(), n=4096, axis=1))  # (8, 2049)
    peaks_hz = response.argmax(axis=1) * 16000 / 4096
    assert np.all(np.diff(peaks_hz) > 0)  # mel-spaced bands in increasing order
    assert conv(torch.randn(2, 1000)).shape == (2, 8, 1000 - 257 + 1)


@pytest.mark.parametrize("name", AUDIO_MODELS)
def test_audio_model_trains_one_step(name):
    torch.manual_seed(0)
    net = build_model(name, pretrained="false")
    assert net.modality == "audio"
    x, y = torch.randn(4, 8000), torch.tensor([0, 1, 0, 1])
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    opt.step()
    assert torch.isfinite(loss)


def test_audio_models_take_any_length():
    net = build_model("aasist_light").eval()
    with torch.no_grad():
        assert net(torch.randn(1, 4000)).shape == net(torch.randn(1, 24000)).shape == (1, 2)


@pytest.mark.parametrize("name", ["aasist", "rawnet2", "lcnn"])
def test_no_published_weights_is_an_error(name):
    with pytest.raises(ModelError, match="pretrained=false"):
        build_model(name, pretrained="true")


def test_paper_sizes():
    count = lambda n: sum(p.numel() for p in build_model(n).parameters())  # noqa: E731
    assert 250_000 < count("aasist") < 350_000  # the paper reports 297 k
    assert count("aasist_light") < 100_000
    assert count("rawnet2") > 10 * count("rawnet2_light")
