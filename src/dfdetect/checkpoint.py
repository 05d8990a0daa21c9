"""Self-describing checkpoints: weights plus everything ``predict`` needs, nothing pickled.

A checkpoint is a dict of tensors and plain Python values, so it loads with
``torch.load(..., weights_only=True)``: an untrusted file cannot run code. It records the model
name and arguments, the preprocessing (modality, input size, mean, std), the label names, the
pretrained weights the run started from (``weights_from``), the decision threshold, the training
config, validation metrics and the dfdetect version (whisper stores its dims in the checkpoint;
this is the same idea).

Example::

    model, meta = load_checkpoint("runs/demo/best.ckpt")
    meta["preprocessing"]["image_size"]
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dfdetect.__version__ import __version__
from dfdetect.io import atomic_torch_save

FORMAT = "dfdetect-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that is missing, unreadable or not a dfdetect checkpoint."""


def make_checkpoint(model: nn.Module, *, model_name: str, model_kwargs: dict,
                    preprocessing: dict, config: dict, threshold: float = 0.5,
                    metrics: dict | None = None, epoch: int = 0, step: int = 0) -> dict:
    """Assemble the checkpoint dict (tensors moved to CPU); ``weights_from`` records the
    pretrained weights the run started from (empty when from scratch)."""
    from dfdetect.models import weights_of

    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "dfdetect_version": __version__,
        "model": {"name": model_name, "kwargs": dict(model_kwargs)},
        "preprocessing": dict(preprocessing),
        "labels": ["real", "fake"],
        "threshold": float(threshold),
        "config": config, "metrics": dict(metrics or {}), "weights_from": weights_of(model),
        "epoch": int(epoch), "global_step": int(step),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }


def save_checkpoint(ckpt: dict, path: str | os.PathLike) -> Path:
    """Write atomically (temp file + rename): a kill mid-write keeps the previous file."""
    return atomic_torch_save(ckpt, path)


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0][:200]}" if lines else f"{type(e).__name__}, empty or truncated file"


_NUMBER = (int, float)
#: (key path, required, allowed types) of the metadata every reader relies on
_STRUCTURE = (
    ("format_version", False, (int,)),
    ("model", True, (dict,)), ("model.name", True, (str,)), ("model.kwargs", True, (dict,)),
    ("preprocessing", True, (dict,)), ("preprocessing.modality", False, (str,)),
    ("preprocessing.image_size", False, (int,)), ("preprocessing.mean", False, (list, tuple)),
    ("preprocessing.std", False, (list, tuple)), ("preprocessing.sample_rate", False, (int,)),
    ("preprocessing.seconds", False, _NUMBER), ("preprocessing.window_hop", False, _NUMBER),
    ("preprocessing.crop", False, (dict,)),
    ("labels", False, (list, tuple)), ("threshold", False, _NUMBER),
    ("config", False, (dict,)), ("metrics", False, (dict,)),
    ("state_dict", True, (dict,)),
)


def _lookup(ckpt: dict, key: str) -> tuple[bool, Any]:
    obj: Any = ckpt
    for part in key.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def check_structure(ckpt: dict, path: str | os.PathLike) -> None:
    """Raise :class:`CheckpointError` naming the file and the first key that is missing or of
    the wrong type (hostile or damaged metadata must not surface as a KeyError or TypeError
    inside predict, evaluate or export)."""
    for key, required, types in _STRUCTURE:
        found, value = _lookup(ckpt, key)
        if not found:
            if required:
                raise CheckpointError(f"{path}: damaged checkpoint: no '{key}' entry")
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            want = " or ".join(t.__name__ for t in types)
            raise CheckpointError(f"{path}: damaged checkpoint: '{key}' is a "
                                  f"{type(value).__name__}, expected {want}")
    bad = next((k for k, v in ckpt["state_dict"].items()
                if not isinstance(k, str) or not isinstance(v, torch.Tensor)), None)
    bad = bad if bad is not None else next((k for k in ckpt["model"]["kwargs"]
                                            if not isinstance(k, str)), None)
    if bad is not None:
        raise CheckpointError(f"{path}: damaged checkpoint: entry {bad!r} of its weights or "
                              "model arguments is not a named tensor / option")
    for key in ("image_size", "sample_rate", "seconds"):  # sizes: positive (bounds: elsewhere)
        value = ckpt["preprocessing"].get(key, 1)
        if not value > 0:
            raise CheckpointError(f"{path}: damaged checkpoint: preprocessing.{key}={value} "
                                  "must be positive")
    for key in ("mean", "std"):
        values = ckpt["preprocessing"].get(key, [0.0])
        if not all(isinstance(v, _NUMBER) and not isinstance(v, bool) for v in values):
            raise CheckpointError(f"{path}: damaged checkpoint: preprocessing.{key} must be "
                                  "a list of numbers")


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check the metadata without building the model."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint not found: {p}")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt zip, pickle with code, truncated file...
        raise CheckpointError(f"{p}: cannot be loaded safely ({_first_line(e)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{p}: not a dfdetect checkpoint (use the best.ckpt or last.ckpt "
                              "that `dfdetect train` writes in the run folder)")
    check_structure(ckpt, p)
    if int(ckpt.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{p}: written by dfdetect {ckpt.get('dfdetect_version')} in a "
                              f"newer format; upgrade dfdetect (this is {__version__})")
    return ckpt


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, dict]:
    """Build the model a checkpoint describes and load its weights; returns (model, metadata)."""
    from dfdetect.models import ModelError, build_model, check_input_spec

    ckpt = read_checkpoint(path)
    spec = ckpt["model"]
    model = build_model(spec["name"], pretrained="false", **spec["kwargs"])
    try:  # an audio front-end built for 16 kHz must not score audio decoded at 8 kHz
        check_input_spec(model, ckpt.get("preprocessing", {}), str(path))
    except ModelError as e:
        raise CheckpointError(str(e)) from None
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit {spec['name']}: "
                              f"{_first_line(e)}") from None
    model.eval()
    meta = {k: v for k, v in ckpt.items() if k != "state_dict"}
    meta["path"] = str(path)
    return model, meta
