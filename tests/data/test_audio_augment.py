"""Tests for waveform augmentations (dfdetect.data.audio_augment)."""
from __future__ import annotations

import numpy as np
import pytest

from dfdetect.data.audio_augment import (AUGMENTS, DEFAULT_AUGMENT, available_codecs, build_chain,
                                         room_response)
from dfdetect.registry import RegistryError

RATE = 16000


@pytest.fixture
def speechish() -> np.ndarray:
    t = np.arange(RATE // 2) / RATE
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.mark.parametrize("name", ["gain", "noise", "reverb", "codec", "rawboost", "mask"])
def test_each_op_keeps_length_changes_signal_and_stays_bounded(name, speechish):
    op = AUGMENTS.build(name, rate=RATE)
    rng = np.random.default_rng(1)
    outs = [op(speechish.copy(), rng) for _ in range(3)]
    for y in outs:
        assert y.shape == speechish.shape and y.dtype == np.float32
        assert np.isfinite(y).all() and np.abs(y).max() <= 1.0
    assert any(not np.allclose(y, speechish, atol=1e-4) for y in outs)


def test_codecs_are_available_without_system_binaries():
    assert ("MP3", "MPEG_LAYER_III") in available_codecs()


def test_room_response_decays():
    h = room_response(RATE, 0.4, np.random.default_rng(0))
    early, late = np.abs(h[: RATE // 20]).mean(), np.abs(h[-RATE // 20:]).mean()
    assert late < early / 10


def test_chain_applies_ops_by_probability(speechish):
    chain = build_chain(DEFAULT_AUGMENT, RATE)
    assert [type(op).__name__ for op in chain.ops] == ["Gain", "Noise", "Reverb", "RawBoost",
                                                      "TimeMask"]
    assert build_chain("none", RATE).ops == []
    np.testing.assert_array_equal(build_chain("", RATE)(speechish, np.random.default_rng(0)),
                                  speechish)


def test_unknown_augmentation_names_the_options():
    with pytest.raises(RegistryError, match="did you mean"):
        build_chain("gian", RATE)


def test_codec_at_a_rate_opus_cannot_encode_still_works():
    op = AUGMENTS.build("codec", rate=22050)
    x = (0.2 * np.sin(np.arange(11025) / 5)).astype(np.float32)
    rng = np.random.default_rng(0)
    for _ in range(4):
        assert op(x, rng).shape == x.shape
    assert all(sub != "OPUS" for _, sub in op.codecs)
