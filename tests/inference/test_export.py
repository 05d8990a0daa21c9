"""ONNX export: parity with PyTorch, dynamic batch, metadata, the onnx predict backend."""
from __future__ import annotations

import json

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
        export(ExportConfig(ckpt=str(make_tiny_ckpt(32)), out=str(out), tolerance=-1.0),
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
    assert main(["predict", f"ckpt={ckpt}", "backend=onnx", f"input={image}"]) == 1
    assert "dfdetect export" in capsys.readouterr().err
