"""Perturbations of the robustness sweep (dfdetect.evaluation.robustness)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from dfdetect.config.loader import ConfigError
from dfdetect.evaluation.robustness import LEVELS, parse_sweep
from dfdetect.registry import RegistryError


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((40, 60, 3)) * 255).astype(np.uint8)  # noise: every perturbation shows


def test_default_levels_and_explicit_levels() -> None:
    sweep = parse_sweep("jpeg,blur:1/3,resize")
    assert [(n, lv) for n, lv, _ in sweep] == (
        [("jpeg", float(q)) for q in LEVELS["jpeg"]] + [("blur", 1.0), ("blur", 3.0)]
        + [("resize", f) for f in LEVELS["resize"]])


def test_each_perturbation_changes_the_image_as_described() -> None:
    img = _image()
    (_, _, jpeg), = parse_sweep("jpeg:30")
    (_, _, blur), = parse_sweep("blur:2")
    (_, _, small), = parse_sweep("resize:0.5")
    j, b, r = jpeg(img), blur(img), small(img)
    assert j.shape == img.shape and j.dtype == np.uint8 and not np.array_equal(j, img)
    assert b.shape == img.shape and b.astype(float).std() < img.astype(float).std() / 2
    assert r.shape == (20, 30, 3)
    # stronger JPEG loses more
    (_, _, mild), = parse_sweep("jpeg:95")
    err = lambda x: np.abs(x.astype(float) - img).mean()  # noqa: E731
    assert err(mild(img)) < err(j)


def test_perturbations_pickle_for_loader_workers() -> None:
    for _, _, fn in parse_sweep("jpeg:50,blur:1,resize:0.5"):
        pickle.loads(pickle.dumps(fn))


@pytest.mark.parametrize("spec,error", [("jpeg:0", ConfigError), ("blur:-1", ConfigError),
                                        ("resize:2", ConfigError), ("jpeg:high", ConfigError),
                                        ("jpg", RegistryError)])
def test_bad_specs_are_user_errors(spec, error) -> None:
    with pytest.raises(error):
        parse_sweep(spec)


# --- video frames (H.264) and audio (MP3, Opus, noise, resampling) ------------------------------

AUDIO = {"modality": "audio", "sample_rate": 16000, "seconds": 0.5}


def _speech(rate: int = 16000) -> np.ndarray:
    from dfdetect.demo.audio import synth_speech

    wave = synth_speech(1.0, np.random.default_rng(0))  # (16000,) at 16 kHz
    wave = wave + 0.02 * np.random.default_rng(1).standard_normal(wave.size)  # a high band too
    return wave.astype(np.float32)


def _snr(ref: np.ndarray, x: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref.astype(float) ** 2) / np.sum((x - ref) ** 2)))


def _one(spec: str, prep: dict | None = AUDIO):
    (_, _, fn), = parse_sweep(spec, prep)
    return fn


def test_h264_keeps_the_crop_shape_and_loses_more_at_a_higher_crf() -> None:
    yy, xx = np.mgrid[0:45, 0:61]  # odd sides: yuv420p needs padding to even ones
    img = np.stack([128 + 60 * np.sin(xx / 4), 128 + 60 * np.cos(yy / 5), (xx + yy) * 2], -1)
    img = np.clip(img + np.random.default_rng(0).normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    err = lambda x: np.abs(x.astype(float) - img).mean()  # noqa: E731
    mild, hard = _one("h264:23", None)(img), _one("h264:45", None)(img)
    assert mild.shape == hard.shape == img.shape and mild.dtype == hard.dtype == np.uint8
    assert 0.5 < err(mild) < err(hard)
    assert [lv for _, lv, _ in parse_sweep("h264")] == [23.0, 28.0, 33.0, 38.0]


@pytest.mark.parametrize("spec", ["mp3:32", "opus:16", "noise:20", "resample8k"])
def test_audio_perturbations_keep_length_and_dtype_and_change_the_wave(spec) -> None:
    wave = _speech()
    out = _one(spec)(wave)
    assert out.shape == wave.shape and out.dtype == np.float32 and out.ndim == 1
    assert 3 < _snr(wave, out) < 40  # changed measurably, still the same (aligned) signal


def test_codecs_lose_more_at_lower_bitrates() -> None:
    wave = _speech()
    for codec, hi, lo in (("mp3", 128, 16), ("opus", 64, 8)):
        assert _snr(wave, _one(f"{codec}:{hi}")(wave)) > _snr(wave, _one(f"{codec}:{lo}")(wave)) + 3


def test_noise_hits_the_asked_snr_and_repeats() -> None:
    wave = _speech()
    for level in (30, 20, 10):
        assert abs(_snr(wave, _one(f"noise:{level}")(wave)) - level) < 0.5
    fn = _one("noise:10")
    np.testing.assert_array_equal(fn(wave), pickle.loads(pickle.dumps(fn))(wave))  # same noise
    assert not np.array_equal(fn(wave), fn(_speech()[::-1].copy()))  # another clip, other noise


def test_resample8k_removes_the_band_above_4khz_only() -> None:
    wave = _speech()
    out = _one("resample8k")(wave)
    spec = lambda x: np.abs(np.fft.rfft(x)) ** 2  # noqa: E731  (1 Hz bins for 1 s)
    high = lambda x: spec(x)[4200:].sum()  # noqa: E731
    assert high(out) < high(wave) / 100
    assert spec(out)[100:3500].sum() == pytest.approx(spec(wave)[100:3500].sum(), rel=0.05)


def test_audio_perturbations_pickle_and_run_at_other_rates() -> None:
    wave = _speech()[:11025]
    prep = {**AUDIO, "sample_rate": 11025}  # MP3 has an 11.025 kHz mode; Opus goes via 48 kHz
    for _, _, fn in parse_sweep("mp3:32,opus:16,noise:20,resample8k", prep):
        assert pickle.loads(pickle.dumps(fn))(wave).shape == wave.shape


@pytest.mark.parametrize("spec,prep,match", [
    ("jpeg", AUDIO, "jpeg does not apply to audio.*use mp3, noise, opus, resample8k"),
    ("h264:30", AUDIO, "h264 does not apply to audio"),
    ("mp3", None, "mp3 does not apply to image.*use blur, h264, jpeg, resize"),
    ("mp3:1000", AUDIO, "8-320"), ("opus:2", AUDIO, "6-510"), ("h264:60", None, "0-51"),
    ("resample8k:16000", AUDIO, "below the checkpoint's sample_rate 16000"),
    ("resample8k", {"modality": "audio"}, "needs the checkpoint's sample_rate")])
def test_perturbations_must_fit_the_checkpoint(spec, prep, match) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_sweep(spec, prep)


def test_a_missing_codec_is_a_config_error_at_parse_time(monkeypatch) -> None:
    import av

    def no_lame(name, mode="r"):
        raise av.codec.codec.UnknownCodecError(name)

    monkeypatch.setattr(av.codec, "Codec", no_lame)
    with pytest.raises(ConfigError, match="mp3 needs the FFmpeg encoder 'libmp3lame'"):
        parse_sweep("mp3", AUDIO)
    assert len(parse_sweep("noise", AUDIO)) == 3  # no codec needed


@pytest.fixture(scope="module")
def audio_eval(tmp_path_factory):
    """An untrained audio checkpoint and a small speech manifest."""
    import torch

    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.demo.audio import build_demo_speech
    from dfdetect.models import build_model

    folder = tmp_path_factory.mktemp("audio_eval")
    speech = build_demo_speech(folder / "speech", utterances=4, seconds=0.6)
    torch.manual_seed(0)
    kwargs = {"num_classes": 2, "sample_rate": 16000}
    prep = {**AUDIO, "window_hop": 0.0, "trim_silence": False, "augment": ""}
    ckpt = save_checkpoint(make_checkpoint(build_model("rawnet2_light", **kwargs),
                                           model_name="rawnet2_light", model_kwargs=kwargs,
                                           preprocessing=prep, config={}), folder / "a.ckpt")
    return ckpt, speech


def test_evaluate_sweeps_audio_checkpoints_with_audio_perturbations(audio_eval, tmp_path) -> None:
    import torch

    from dfdetect.config.schema import EvaluateConfig
    from dfdetect.evaluation.evaluate import evaluate

    torch.set_num_threads(1)
    ckpt, speech = audio_eval
    cfg = EvaluateConfig(ckpt=str(ckpt), data=str(speech), split="all", threshold_split="",
                         robustness="mp3:32,opus:16,noise:10,resample8k", bootstrap=0,
                         out=str(tmp_path / "eval"), device="cpu", num_workers=0, mistakes=0)
    report = evaluate(cfg, echo=lambda *_: None).report
    assert [(r["perturbation"], r["level"], r["n"]) for r in report["robustness"]] == [
        ("mp3", 32.0, 8), ("opus", 16.0, 8), ("noise", 10.0, 8), ("resample8k", 8000.0, 8)]
    assert all(r["auc_frame"] is not None for r in report["robustness"])
    text = (tmp_path / "eval" / "report.md").read_text()
    assert "| mp3 | 32 |" in text and "| resample8k | 8000 |" in text


def test_evaluate_refuses_an_image_perturbation_on_audio_before_scoring(audio_eval, tmp_path,
                                                                         capsys) -> None:
    from dfdetect.cli.main import main

    ckpt, speech = audio_eval
    assert main(["evaluate", f"ckpt={ckpt}", f"data={speech}", "robustness=jpeg",
                 f"out={tmp_path}", "device=cpu", "num_workers=0"]) == 2
    err = capsys.readouterr().err
    assert "jpeg does not apply to audio" in err and "mp3, noise, opus, resample8k" in err
    assert not (tmp_path / "metrics.json").exists()


@pytest.mark.shared_data
def test_audio_perturbations_on_real_speech(shared_data) -> None:
    from dfdetect.data.audio import load_audio

    files = sorted((shared_data / "speech_vocoded" / "audio").glob("*.flac"))[:1]
    if not files:
        pytest.skip("no speech_vocoded/audio/*.flac in the shared data")
    wave = load_audio(files[0], 16000)
    for spec in ("mp3:128", "mp3:16", "opus:64", "opus:8", "noise:20", "resample8k"):
        out = _one(spec)(wave)
        assert out.shape == wave.shape and out.dtype == np.float32
        assert 1 < _snr(wave, out) < 45, spec
    assert _snr(wave, _one("mp3:128")(wave)) > _snr(wave, _one("mp3:16")(wave))


def test_evaluate_sweeps_video_face_crops_with_h264(make_tiny_ckpt, frame_manifest,
                                                    tmp_path) -> None:
    import torch

    from dfdetect.config.schema import EvaluateConfig
    from dfdetect.evaluation.evaluate import evaluate

    torch.set_num_threads(1)
    cfg = EvaluateConfig(ckpt=str(make_tiny_ckpt(32)), data=str(frame_manifest), split="test",
                         robustness="h264:23/38", bootstrap=0, out=str(tmp_path), device="cpu",
                         num_workers=0, mistakes=0)
    sweep = evaluate(cfg, echo=lambda *_: None).report["robustness"]
    assert [(r["perturbation"], r["level"]) for r in sweep] == [("h264", 23.0), ("h264", 38.0)]
    assert all(r["auc_frame"] is not None and r["auc_video"] is not None for r in sweep)
