"""Tests for audio decoding, crops, windows (dfdetect.data.audio) and the audio modality object."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch

from dfdetect.data.audio import (TrainClip, fixed_length, load_audio, repeat_pad, trim_silence,
                                 window_starts, windows)
from dfdetect.data.media import DecodeError
from dfdetect.modalities import get_modality


def tone(seconds: float, rate: int, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize("fmt,subtype,suffix", [("WAV", "PCM_16", ".wav"), ("FLAC", "PCM_24", ".flac"),
                                                ("MP3", "MPEG_LAYER_III", ".mp3"),
                                                ("OGG", "OPUS", ".opus"), ("OGG", "VORBIS", ".ogg")])
def test_decodes_common_formats_to_mono_16k(tmp_path, fmt, subtype, suffix):
    rate = 48000 if subtype == "OPUS" else 22050
    path = tmp_path / f"clip{suffix}"
    sf.write(str(path), tone(0.5, rate, channels=2), rate, format=fmt, subtype=subtype)
    wave = load_audio(path, 16000)
    assert wave.ndim == 1 and wave.dtype == np.float32
    assert abs(wave.size - 8000) < 800  # lossy codecs add priming samples
    spectrum = np.abs(np.fft.rfft(wave))
    peak_hz = np.argmax(spectrum) * 16000 / wave.size
    assert abs(peak_hz - 440) < 10  # the tone survived resampling


def test_stereo_is_mixed_not_first_channel(tmp_path):
    rate = 16000
    left, right = tone(0.25, rate, 300), tone(0.25, rate, 1200)
    sf.write(str(tmp_path / "st.wav"), np.stack([left, right], axis=1), rate)
    wave = load_audio(tmp_path / "st.wav", rate)
    np.testing.assert_allclose(wave, (left + right) / 2, atol=1e-4)


@pytest.mark.parametrize("content,reason", [(b"", "cannot decode"), (b"RIFF garbage", "cannot decode")])
def test_corrupt_files_raise_decode_error(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(DecodeError, match=reason):
        load_audio(path)


def test_empty_and_missing_files(tmp_path):
    sf.write(str(tmp_path / "empty.wav"), np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(DecodeError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    with pytest.raises(DecodeError, match="not found"):
        load_audio(tmp_path / "nope.flac")


def test_trim_silence_drops_leading_and_trailing_silence():
    rate = 16000
    x = np.concatenate([np.zeros(rate // 2), tone(0.5, rate), np.zeros(rate)]).astype(np.float32)
    y = trim_silence(x, rate)
    assert abs(y.size - rate // 2) <= 2 * 400  # within two 25 ms frames
    assert np.abs(y).max() > 0.2


def test_repeat_pad_tiles_and_crop():
    x = np.arange(5, dtype=np.float32)
    np.testing.assert_array_equal(repeat_pad(x, 12), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])
    np.testing.assert_array_equal(fixed_length(np.arange(10.0), 4), [0, 1, 2, 3])
    rng = np.random.default_rng(0)
    crops = {tuple(fixed_length(np.arange(10.0), 4, rng)) for _ in range(30)}
    assert len(crops) > 1 and all(len(c) == 4 for c in crops)


def test_windows_cover_the_whole_file():
    assert window_starts(10, 4, 2) == [0, 2, 4, 6]
    assert window_starts(11, 4, 2) == [0, 2, 4, 6, 7]  # last window ends at the end
    assert window_starts(3, 4, 2) == [0]
    w = windows(np.arange(11, dtype=np.float32), 4, 2)
    assert w.shape == (5, 4) and w[-1, -1] == 10
    assert windows(np.arange(3, dtype=np.float32), 4, 2).shape == (1, 4)


def _prep(**kw):
    return {"modality": "audio", "sample_rate": 16000, "seconds": 0.5, "window_hop": 0.25,
            "trim_silence": False, "augment": "gain,mask", **kw}


def test_modality_transforms_shapes():
    h = get_modality("audio")
    x = tone(1.3, 16000)
    assert h.train_transform(_prep(), augment=True)(x).shape == (8000,)
    assert h.eval_transform(_prep())(x).shape == (8000,)
    w = h.score_transform(_prep())(x)
    assert w.shape == (5, 8000) and w.dtype == torch.float32  # 0, .25, .5, .75, .8 s
    assert h.eval_transform(_prep())(x[:100]).shape == (8000,)  # short clips are repeat-padded


def test_modality_preprocessing_is_stored_and_rejects_image_models():
    cfg = SimpleNamespace(sample_rate=16000, seconds=2.0, window_hop=0.0, trim_silence=True,
                          audio_augment="noise")
    audio_model = SimpleNamespace(modality="audio")
    prep = get_modality("audio").preprocessing(cfg, audio_model)
    assert prep == {"modality": "audio", "sample_rate": 16000, "seconds": 2.0, "window_hop": 0.0,
                    "trim_silence": True, "augment": "noise"}
    from dfdetect.models import ModelError

    with pytest.raises(ModelError, match="audio model"):
        get_modality("audio").preprocessing(cfg, torch.nn.Linear(2, 2))


def test_train_clip_draws_crop_and_augmentation_from_the_draw_seed():
    """A resumed run must crop and augment a draw exactly as the uninterrupted run did: the
    result depends on the draw's seed only, not on what the transform saw before."""
    x = tone(2.0, 16000) + 0.01 * np.random.default_rng(0).standard_normal(32000).astype(np.float32)
    fresh, used = TrainClip(_prep(), augment=True), TrainClip(_prep(), augment=True)
    for s in range(5):
        used(x, seed=100 + s)  # a transform that has already served other draws
    assert torch.equal(fresh(x, seed=7), used(x, seed=7))
    assert not torch.equal(fresh(x, seed=7), fresh(x, seed=8))
