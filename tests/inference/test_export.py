"""ONNX export: parity with PyTorch, dynamic batch, metadata, the onnx predict backend."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from dfdetect.checkpoint import load_checkpoint  # noqa: E402
from dfdetect.cli.main import main  # noqa: E402
from dfdetect.config.schema import ExportConfig  # noqa: E402
from dfdetect.inference.export import ExportError, export  # noqa: E402
from dfdetect.inference.onnx_backend import OnnxPredictor  # noqa: E402
from dfdetect.inference.predictor import Predictor  # noqa: E402


@pytest.fixture(scope="module")
def exported(make_tiny_ckpt, tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    result = export(ExportConfig(ckpt=str(make_tiny_ckpt(32)), out=str(out)), echo=lambda *_: None)
    return make_tiny_ckpt(32), result


def test_parity_with_pytorch_at_several_batch_sizes(exported) -> None:
    ckpt, result = exported
    assert result.max_abs_diff <= 1e-4
    import onnxruntime as ort

    model, _ = load_checkpoint(ckpt)
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    for batch in (1, 2, 5):  # dynamic batch axis, including sizes never exported with
        x = torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(batch))
        with torch.inference_mode():
            ref = model(x).numpy()
        got = session.run(None, {"input": x.numpy()})[0]
        assert got.shape == (batch, 2)
        np.testing.assert_allclose(got, ref, atol=1e-4)


def test_metadata_beside_the_model(exported) -> None:
    ckpt, result = exported
    meta = json.loads(result.metadata.read_text())
    assert result.metadata.name == "model.onnx.json"
    assert meta["preprocessing"]["image_size"] == 32 and len(meta["preprocessing"]["mean"]) == 3
    assert meta["input"]["shape"] == ["batch", 3, 32, 32]
    assert meta["threshold"] == 0.5 and meta["labels"] == ["real", "fake"]
    assert meta["parity_max_abs_diff"] == pytest.approx(result.max_abs_diff)


def test_onnx_backend_scores_like_torch(exported, demo_faces) -> None:
    ckpt, result = exported
    files = sorted((demo_faces.parent / "images" / "fake").iterdir())[:6]
    torch_scores = [p.score for p in Predictor.from_checkpoint(ckpt, "cpu", 4, 0).score(files)]
    onnx_scores = [p.score for p in OnnxPredictor.from_path(result.path, 4).score(files)]
    np.testing.assert_allclose(onnx_scores, torch_scores, atol=1e-5)


def test_failed_parity_removes_the_file_and_fails(make_tiny_ckpt, tmp_path) -> None:
    out = tmp_path / "strict.onnx"
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export(ExportConfig(ckpt=str(make_tiny_ckpt(32)), out=str(out), tolerance=1e-12),
               echo=lambda *_: None)
    assert not out.exists()


def test_cli_export_then_predict_backend_onnx(make_tiny_ckpt, demo_faces, tmp_path, capsys) -> None:
    import shutil

    ckpt = shutil.copy(make_tiny_ckpt(32), tmp_path / "best.ckpt")
    assert main(["export", f"ckpt={ckpt}", "format=onnx"]) == 0
    assert "max abs logit difference" in capsys.readouterr().out
    assert (tmp_path / "best.onnx").is_file() and (tmp_path / "best.onnx.json").is_file()
    image = sorted((demo_faces.parent / "images" / "real").iterdir())[0]
    out = tmp_path / "s.csv"
    assert main(["predict", f"ckpt={ckpt}", "backend=onnx", f"input={image}", f"out={out}",
                 "progress=false"]) == 0
    assert "(onnx)" in capsys.readouterr().out
    assert out.read_text().splitlines()[1].startswith(image.name)


def test_backend_onnx_without_export_says_what_to_do(make_tiny_ckpt, demo_faces, tmp_path,
                                                    capsys) -> None:
    import shutil

    ckpt = shutil.copy(make_tiny_ckpt(32), tmp_path / "plain.ckpt")
    image = sorted((demo_faces.parent / "images" / "real").iterdir())[0]
    assert main(["predict", f"ckpt={ckpt}", "backend=onnx", f"input={image}"]) == 2
    assert "dfdetect export" in capsys.readouterr().err


# --- audio: train/checkpoint -> export -> predict backend=onnx ------------------------------

AUDIO_PREP = {"modality": "audio", "sample_rate": 8000, "seconds": 0.5, "window_hop": 0.25,
              "trim_silence": False, "augment": ""}


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    from dfdetect.demo.audio import build_demo_speech

    return build_demo_speech(tmp_path_factory.mktemp("speech"), utterances=3, seconds=1.2)


def _speechlike(batch: int, n: int) -> torch.Tensor:
    """Voiced bursts (harmonics of 120-220 Hz) with quiet gaps, at 8 kHz, seeded."""
    g = torch.Generator().manual_seed(3)
    t = torch.arange(n) / 8000
    f0 = 120 + 100 * torch.rand(batch, 1, generator=g)
    voiced = sum(torch.sin(2 * torch.pi * k * f0 * t) / k for k in range(1, 6))
    gate = (torch.sin(2 * torch.pi * 3 * t + torch.rand(batch, 1, generator=g) * 6) > 0).float()
    return 0.3 * voiced * gate + 0.01 * torch.randn(batch, n, generator=g)


def _audio_ckpt(folder, name: str):
    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.models import build_model

    torch.manual_seed(0)
    kwargs = {"num_classes": 2, "sample_rate": AUDIO_PREP["sample_rate"]}
    net = build_model(name, **kwargs)
    with torch.no_grad():  # BatchNorm statistics of speech-like input, as after training: with
        # the initial ones (mean 0, var 1) AASIST's features barely depend on the input
        net.train()(_speechlike(4, 4000))
    net.eval()
    with torch.no_grad():  # spread the untrained logits so the score comparison means something:
        # the logit margin on speech-like input rescaled to std 2 around 0 (x20 saturates AASIST)
        head = [m for m in net.modules()
                if isinstance(m, torch.nn.Linear) and m.out_features == 2][-1]
        margin = net(_speechlike(8, 4000)) @ torch.tensor([-1.0, 1.0])
        head.weight.mul_(2.0 / (margin.std() + 1e-12))
        centre = (net(_speechlike(8, 4000)) @ torch.tensor([-1.0, 1.0])).mean()
        head.bias.add_(torch.tensor([0.5, -0.5]) * centre)
    path = folder / f"{name.replace(':', '_')}.ckpt"
    return save_checkpoint(make_checkpoint(net, model_name=name, model_kwargs=kwargs,
                                           preprocessing=AUDIO_PREP, config={}), path)


@pytest.mark.parametrize("name", ["lcnn", "aasist_l"])  # STFT/LFCC and sinc front-ends
def test_audio_checkpoint_exports_and_onnx_predict_scores_like_torch(name, speech, tmp_path,
                                                                     capsys) -> None:
    """Export an audio checkpoint (was: KeyError 'image_size'), check parity on a real
    waveform window, then predict backend=onnx on whole files (windowed) as torch does."""
    import onnxruntime as ort

    from dfdetect.data.audio import clip_samples, load_audio

    torch.set_num_threads(1)
    ckpt = _audio_ckpt(tmp_path, name)
    assert main(["export", f"ckpt={ckpt}", "format=onnx"]) == 0
    assert "ok" in capsys.readouterr().out
    onnx_file = ckpt.with_suffix(".onnx")
    meta = json.loads((tmp_path / (onnx_file.name + ".json")).read_text())
    n = clip_samples(AUDIO_PREP)
    assert n == 4000 and meta["input"]["shape"] == ["batch", n]
    assert meta["preprocessing"]["sample_rate"] == 8000

    files = sorted(str(p) for p in (speech.parent).rglob("*.flac"))
    wave = load_audio(files[0], 8000)  # a real (speech-like) waveform, 1.2 s at 8 kHz
    x = torch.from_numpy(np.stack([wave[:n], wave[-n:]]))  # (2, T): two windows
    model, _ = load_checkpoint(ckpt)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    with torch.inference_mode():
        ref = model(x).numpy()
    np.testing.assert_allclose(session.run(None, {"input": x.numpy()})[0], ref, atol=1e-4)

    torch_preds = list(Predictor.from_checkpoint(ckpt, "cpu", 4, 0).score(files))
    onnx_preds = list(OnnxPredictor.from_path(ckpt, 4).score(files))
    assert all(p.status == "ok" and len(p.windows) >= 3 for p in onnx_preds)  # 1.2 s files
    scores = [p.score for p in torch_preds]
    assert np.ptp(scores) > 1e-3  # the files score differently: the comparison has teeth
    np.testing.assert_allclose([p.score for p in onnx_preds], scores, atol=1e-4)
    for got, ref in zip(onnx_preds, torch_preds):  # every window of every file
        np.testing.assert_allclose(got.windows, ref.windows, atol=1e-4)
    out = tmp_path / "s.csv"
    assert main(["predict", f"ckpt={ckpt}", "backend=onnx", f"input={files[0]}", f"out={out}",
                 "progress=false"]) == 0
    assert out.read_text().splitlines()[1].startswith(Path(files[0]).name)


def test_a_model_that_cannot_export_says_why(tmp_path, monkeypatch) -> None:
    from dfdetect.models.lcnn import LCNN

    ckpt = _audio_ckpt(tmp_path, "lcnn")
    monkeypatch.setattr(LCNN, "export_unsupported", "its LSTM is not exportable", raising=False)
    with pytest.raises(ExportError, match="lcnn cannot be exported to onnx: its LSTM"):
        export(ExportConfig(ckpt=str(ckpt)), echo=lambda *_: None)


def test_example_input_follows_the_preprocessing() -> None:
    from dfdetect.inference.export import example_input

    assert example_input({"modality": "image", "image_size": 40}).shape == (1, 3, 40, 40)
    assert example_input(AUDIO_PREP).shape == (1, 4000)
    assert example_input({**AUDIO_PREP, "sample_rate": 16000, "seconds": 2.0}).shape == (1, 32000)
    with pytest.raises(ExportError, match="no input description for modality 'smell'"):
        example_input({"modality": "smell"})


def test_dual_branch_with_an_fft_spectrum_exports(tmp_path) -> None:
    """ONNX has no fft2 / fftshift: the export path uses DFT matrices and slicing instead."""
    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.models import build_model

    torch.set_num_threads(1)
    torch.manual_seed(0)
    kwargs = {"num_classes": 2, "backbone": "resnet18", "spectrum": "fft"}
    prep = {"modality": "image", "image_size": 33, "mean": [0.5] * 3, "std": [0.5] * 3}
    ckpt = save_checkpoint(make_checkpoint(build_model("dual_branch", **kwargs),
                                           model_name="dual_branch", model_kwargs=kwargs,
                                           preprocessing=prep, config={}), tmp_path / "d.ckpt")
    result = export(ExportConfig(ckpt=str(ckpt)), echo=lambda *_: None)
    assert result.max_abs_diff <= 1e-4 and result.path.is_file()


@pytest.mark.shared_data
def test_onnx_predict_matches_torch_on_real_speech(shared_data, tmp_path) -> None:
    """Recorded / vocoded speech from ../shared/data: windowed ONNX scores = torch scores."""
    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.models import build_model

    files = sorted((shared_data / "speech_vocoded" / "audio").glob("*.flac"))[:4]
    if not files:
        pytest.skip("no speech_vocoded/audio/*.flac in the shared data")
    torch.set_num_threads(1)
    torch.manual_seed(1)
    kwargs = {"num_classes": 2, "sample_rate": 16000}
    prep = {**AUDIO_PREP, "sample_rate": 16000, "seconds": 1.0, "window_hop": 1.0}
    ckpt = save_checkpoint(make_checkpoint(build_model("audio_timm:resnet18", **kwargs),
                                           model_name="audio_timm:resnet18", model_kwargs=kwargs,
                                           preprocessing=prep, config={}), tmp_path / "r.ckpt")
    export(ExportConfig(ckpt=str(ckpt)), echo=lambda *_: None)
    ref = [p.score for p in Predictor.from_checkpoint(ckpt, "cpu", 8, 0).score(files)]
    got = list(OnnxPredictor.from_path(ckpt, 8).score(files))
    assert all(p.status == "ok" for p in got)
    np.testing.assert_allclose([p.score for p in got], ref, atol=1e-4)


def test_export_into_a_folder_not_made_yet(make_tiny_ckpt, tmp_path) -> None:
    from dfdetect.cli.main import main

    out = tmp_path / "new" / "models" / "m.onnx"
    assert main(["export", f"ckpt={make_tiny_ckpt(32)}", f"out={out}"]) == 0
    assert out.is_file() and out.with_name(out.name + ".json").is_file()
