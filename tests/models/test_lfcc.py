"""LFCC with the ASVspoof 2021 baseline's options, each recomputed by hand in numpy on a tone."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dfdetect.models.audio_features import LFCC, asvspoof_deltas, deltas

pytestmark = pytest.mark.usefixtures("one_torch_thread")
RATE, N_FFT, HOP, WIN = 16000, 512, 160, 320  # 20 ms / 10 ms frames at 16 kHz, FFT 512


def tone() -> np.ndarray:
    """0.3 s: a 440 Hz tone with a 3 kHz partial and a rising envelope (so deltas are not 0)."""
    t = np.arange(int(0.3 * RATE)) / RATE
    return ((0.2 + 2 * t) * (np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 3000 * t))
            ).astype(np.float32)


def by_hand(x: np.ndarray, pre: float = 0.97, hamming: bool = True, energy: bool = True,
            asv_delta: bool = True) -> np.ndarray:
    """The baseline step by step, written out with numpy only: (60, frames)."""
    x = x.astype(np.float64)
    if pre:
        x = np.concatenate([x[:1], x[1:] - pre * x[:-1]])
    n = np.arange(WIN)
    if hamming:  # periodic Hamming, as torch.hamming_window
        w = 0.54 - 0.46 * np.cos(2 * np.pi * n / WIN)
    else:
        w = 0.5 - 0.5 * np.cos(2 * np.pi * n / WIN)
    frame_w = np.zeros(N_FFT)
    frame_w[(N_FFT - WIN) // 2:(N_FFT - WIN) // 2 + WIN] = w
    xp = np.pad(x, N_FFT // 2, mode="constant" if hamming else "reflect")
    frames = np.stack([xp[i:i + N_FFT] * frame_w for i in range(0, xp.size - N_FFT + 1, HOP)], 1)
    power = np.abs(np.fft.rfft(frames, axis=0)) ** 2                     # (257, frames)
    freqs = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    edges = np.linspace(0, RATE / 2, 22)
    bank = np.stack([np.clip(np.minimum((freqs - edges[i]) / (edges[i + 1] - edges[i]),
                                        (edges[i + 2] - freqs) / (edges[i + 2] - edges[i + 1])),
                             0, None) for i in range(20)])
    eps = np.finfo(np.float32).eps
    logfb = np.log10(bank @ power + eps)
    k, m = np.arange(20)[:, None], np.arange(20)[None]
    dct = np.cos(np.pi / 20 * (m + 0.5) * k) * np.sqrt(2 / 20)
    dct[0] /= np.sqrt(2)
    cep = dct @ logfb
    if energy:
        cep[0] = np.log10(power.sum(0) / N_FFT + eps)

    def delta(c):
        if asv_delta:
            p = np.pad(c, ((0, 0), (1, 1)), mode="edge")
            return p[:, 2:] - p[:, :-2]
        p = np.pad(c, ((0, 0), (2, 2)), mode="edge")
        return sum(j * (p[:, 2 + j:p.shape[1] - 2 + j] - p[:, 2 - j:p.shape[1] - 2 - j])
                   for j in (1, 2)) / 10

    d1 = delta(cep)
    return np.concatenate([cep, d1, delta(d1)])


def ours(x: np.ndarray, **kw) -> np.ndarray:
    with torch.no_grad():
        return LFCC(**kw)(torch.from_numpy(x)[None])[0, 0].double().numpy()


def test_defaults_are_the_asvspoof_2021_baseline_computed_by_hand():
    x = tone()
    got, ref = ours(x), by_hand(x)
    assert got.shape == (60, 31)
    np.testing.assert_allclose(got, ref, atol=2e-3, rtol=1e-3)


@pytest.mark.parametrize("option,kw,hand", [
    ("pre-emphasis", {"pre_emphasis": 0.0}, {"pre": 0.0}),
    ("window", {"window": "hann"}, {"hamming": False}),
    ("energy c0", {"energy_c0": False}, {"energy": False}),
    ("delta convention", {"delta": "regression"}, {"asv_delta": False}),
])
def test_each_option_has_its_effect(option, kw, hand):
    """Switching one option off moves the features away from the baseline's, to exactly what
    the hand computation without that option gives."""
    x = tone()
    base, changed = ours(x), ours(x, **kw)
    np.testing.assert_allclose(changed, by_hand(x, **hand), atol=2e-3, rtol=1e-3)
    assert np.abs(changed - base).max() > 0.05, option


def test_energy_c0_is_the_frame_log_energy_and_the_rest_are_cepstra():
    x = tone()
    with_e, without = ours(x), ours(x, energy_c0=False)
    np.testing.assert_allclose(with_e[1:20], without[1:20], atol=1e-5)  # only c0 changes
    # a 6 dB louder tone adds log10(4) = 0.602 to the log energy of every frame
    louder = ours(2 * x)
    np.testing.assert_allclose(louder[0] - with_e[0], np.log10(4), atol=1e-3)


def test_delta_conventions_on_a_ramp():
    ramp = torch.arange(8, dtype=torch.float32)[None] * 3.0  # slope 3 per frame
    assert asvspoof_deltas(ramp)[0, 1:-1].tolist() == [6.0] * 6  # x[t+1] - x[t-1]: 2 x slope
    assert asvspoof_deltas(ramp)[0, 0].item() == 3.0               # edge repeated
    assert torch.allclose(deltas(ramp)[0, 2:-2], torch.full((4,), 3.0))  # regression: slope
