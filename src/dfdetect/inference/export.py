"""``dfdetect export``: a checkpoint -> a deployable model file plus its preprocessing metadata.

Why a parity check: an exporter can silently change numerics (an unsupported op lowered
differently, a BatchNorm left in training mode). Every export is run against the PyTorch model
on sample inputs (random normalised images; speech-like audio windows) at two batch sizes (which also proves the batch axis is dynamic); the maximum
absolute difference of the logits is printed and the export fails above ``tolerance``.

The input follows the checkpoint's modality (:func:`example_input`): images (B, 3, S, S), audio
(B, T) with T = seconds * sample_rate, one scoring window (``predict backend=onnx`` cuts long
files into such windows, as the torch predictor does). A model that cannot be exported says why
in a class attribute ``export_unsupported``.

Example::

    result = export(ExportConfig(ckpt="runs/demo/run/best.ckpt", format="onnx"))
    result.path, result.max_abs_diff
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from dfdetect.config.schema import ExportConfig
from dfdetect.io import atomic_write, atomic_write_text
from dfdetect.registry import Registry

log = logging.getLogger(__name__)
EXPORTERS: Registry = Registry("export format")


class ExportError(ValueError):
    """An export that failed or does not match the PyTorch model."""


@dataclass
class ExportResult:
    path: Path
    metadata: Path
    max_abs_diff: float


def _modality(prep: dict):
    """The checkpoint's registered modality; a clear export error for an unknown one."""
    from dfdetect.modalities import get_modality

    name = prep.get("modality", "image")
    try:
        return get_modality(name)
    except Exception as e:  # unknown name: the registry's message lists the known ones
        raise ExportError(f"export: no input description for modality '{name}' ({e})") from None


def example_input(prep: dict) -> torch.Tensor:
    """One example model input for a checkpoint's preprocessing, from its modality: images
    (1, 3, S, S), audio (1, T) with T = seconds * sample_rate (one scoring window)."""
    return _modality(prep).example_input(prep, 1, torch.Generator().manual_seed(0))


def sample_inputs(meta: dict, batch_sizes=(1, 3), seed: int = 0) -> list[torch.Tensor]:
    """Parity-check inputs from the modality's ``example_input`` at each batch size (images:
    standard normal, like normalised pixels; audio: speech-like windows with quiet gaps)."""
    prep = meta["preprocessing"]
    modality = _modality(prep)
    g = torch.Generator().manual_seed(seed)
    return [modality.example_input(prep, b, g) for b in batch_sizes]


@EXPORTERS.register("onnx")
def export_onnx(model: torch.nn.Module, meta: dict, out: Path, opset: int) -> Path:
    """ONNX with a dynamic batch axis: ``input`` (B, 3, S, S) or (B, T) -> ``logits`` (B, 2).

    Uses the TorchScript-based exporter: it handles every timm CNN and audio model we ship,
    exports in about a second and needs no extra packages (the dynamo exporter takes ~10x longer
    here). Audio front-ends switch to a real-valued DFT while exporting (see
    ``models/audio_features._STFT``).
    """
    import warnings

    x = sample_inputs(meta, (2,))[0]
    tmp = out.with_name(f".{out.name}.export")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(tmp), input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=opset, dynamo=False)
    atomic_write(out, lambda f: f.write(tmp.read_bytes()))
    tmp.unlink(missing_ok=True)
    return out


def onnx_parity(model: torch.nn.Module, path: Path, inputs: list[torch.Tensor]) -> float:
    """Max |logit difference| between PyTorch and onnxruntime over ``inputs``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    worst = 0.0
    with torch.inference_mode():
        for x in inputs:
            ref = model(x).float().numpy()
            if not np.isfinite(ref).all():  # max() of NaN differences would read as parity
                raise ExportError(f"{path}: the model outputs NaN or inf on example input; its "
                                  "weights are broken (nothing to export)")
            got = session.run(None, {name: x.numpy()})[0]
            if got.shape != ref.shape:
                raise ExportError(f"{path}: output shape {got.shape} != PyTorch {ref.shape} "
                                  f"for a batch of {x.shape[0]}")
            worst = max(worst, float(np.abs(got - ref).max()))
    return worst


PARITY = {"onnx": onnx_parity}


def _metadata(meta: dict, cfg: ExportConfig, diff: float) -> dict:
    return {"format": cfg.format, "source_checkpoint": str(cfg.ckpt), "opset": cfg.opset,
            "model": meta["model"], "preprocessing": meta["preprocessing"],
            "labels": meta.get("labels", ["real", "fake"]),
            "threshold": float(meta.get("threshold", 0.5)),
            "threshold_source": meta.get("threshold_source", "checkpoint"),
            "input": {"name": "input",
                      "shape": ["batch", *example_input(meta["preprocessing"]).shape[1:]],
                      "dtype": "float32",
                      "layout": _modality(meta["preprocessing"]).input_layout},
            "output": {"name": "logits", "shape": ["batch", 2], "classes": ["real", "fake"]},
            "parity_max_abs_diff": diff, "dfdetect_version": meta.get("dfdetect_version")}


def check_request(cfg: ExportConfig) -> Path:
    """Before the checkpoint is loaded: option ranges (opset) and an output that is not the
    checkpoint or another model file unless overwrite=true. Returns the output path."""
    from dfdetect.config.choices import check_choices
    from dfdetect.config.outputs import check_output

    check_choices(cfg)
    if not cfg.ckpt:
        raise ExportError("export needs ckpt=<checkpoint written by train>")
    EXPORTERS.check(cfg.format)
    out = Path(cfg.out) if cfg.out else Path(cfg.ckpt).with_suffix(f".{cfg.format}")
    return check_output("out", out, inputs=[cfg.ckpt], overwrite=cfg.overwrite)


def export(cfg: ExportConfig, echo=print) -> ExportResult:
    """Export, check parity, write the metadata JSON beside the model."""
    from dfdetect.checkpoint import load_checkpoint
    from dfdetect.inference.onnx_backend import metadata_path

    out = check_request(cfg)
    model, meta = load_checkpoint(cfg.ckpt)
    out.parent.mkdir(parents=True, exist_ok=True)  # out= may name a folder not made yet
    model = model.float().eval()
    why = getattr(model, "export_unsupported", None)
    if why:
        raise ExportError(f"{cfg.ckpt}: {meta['model']['name']} cannot be exported to "
                          f"{cfg.format}: {why}")
    exporter = EXPORTERS.resolve(cfg.format)[0]
    try:
        exporter(model, meta, out, cfg.opset)
    except ImportError as e:
        raise ExportError(f"format={cfg.format} needs an extra package ({e.name}): "
                          "pip install 'dfdetect[onnx]'") from None
    try:
        diff = PARITY[cfg.format](model, out, sample_inputs(meta, (1, 3), seed=cfg.seed))
    except ExportError:
        out.unlink(missing_ok=True)  # no half-checked model left behind
        raise
    verdict = "ok" if diff <= cfg.tolerance else "FAILED"
    echo(f"Parity PyTorch vs {cfg.format} (batches of 1 and 3): max abs logit difference "
         f"{diff:.2e} (tolerance {cfg.tolerance:.0e}) {verdict}")
    if diff > cfg.tolerance:
        out.unlink(missing_ok=True)
        raise ExportError(f"{out}: exported model differs from PyTorch by {diff:.2e} > "
                          f"tolerance {cfg.tolerance:.0e}; the file was removed")
    meta_file = atomic_write_text(metadata_path(out),
                                  json.dumps(_metadata(meta, cfg, diff), indent=2) + "\n")
    echo(f"Exported {cfg.ckpt} -> {out} (dynamic batch; preprocessing in {meta_file.name})")
    return ExportResult(out, meta_file, diff)


def export_after_training(result, fmt: str, echo=print) -> ExportResult | None:
    """``train ... export=onnx``: export the finished run's ``best.ckpt`` beside it, check its
    parity, and record it in ``summary.json``. Skipped (None) when the run did not finish or has
    no best checkpoint. Replaces an earlier export only when it was this checkpoint's own
    (an extended run re-exports its new best)."""
    from dfdetect.training.lifecycle import add_export
    from dfdetect.inference.onnx_backend import metadata_path

    if not fmt or not result.completed or not Path(result.best_ckpt).is_file():
        if fmt:
            echo(f"export={fmt}: skipped ({result.stop_reason.replace('_', ' ')}: no finished "
                 "best checkpoint); run `dfdetect export` once the run is finished")
        return None
    best = Path(result.best_ckpt)
    out = best.with_suffix(f".{fmt}")
    ours = False
    if out.is_file() and metadata_path(out).is_file():
        try:
            ours = json.loads(metadata_path(out).read_text())["source_checkpoint"] == str(best)
        except (OSError, ValueError, KeyError, TypeError):
            ours = False
    done = export(ExportConfig(ckpt=str(best), format=fmt, out=str(out), overwrite=ours), echo)
    if result.summary is not None and Path(result.summary).is_file():
        add_export(result.run_dir, done.path)
    return done
