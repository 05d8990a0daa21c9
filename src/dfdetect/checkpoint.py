"""Self-describing checkpoints: weights plus everything ``predict`` needs, nothing pickled.

A checkpoint is a dict of tensors and plain Python values, so it loads with
``torch.load(..., weights_only=True)``: an untrusted file cannot run code. It records the model
name and arguments, the preprocessing (modality, input size, mean, std), the label names, the
pretrained weights the run started from (``weights_from``), the decision threshold, the training
config, validation metrics and the dfdetect version (whisper stores its dims in the checkpoint;
this is the same idea).

Integrity: ``weights_sha256`` (:func:`weights_digest`, SHA-256 over every state-dict tensor's
name, dtype, shape and bytes in sorted-name order) is stored when the checkpoint is made and
checked on load, so flipped bits or zeroed bytes in the weights are refused instead of scoring.
A checkpoint written before the digest existed loads with a one-line warning. Sizes that come
from the file (input side, clip seconds, sample rate, window hop) are bounded at load
(:data:`dfdetect.io.LIMITS`), so a crafted checkpoint cannot allocate until memory runs out.

Example::

    model, meta = load_checkpoint("runs/demo/best.ckpt")
    meta["preprocessing"]["image_size"]
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dfdetect.__version__ import __version__
from dfdetect.io import atomic_torch_save, limit

log = logging.getLogger(__name__)

FORMAT = "dfdetect-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that is missing, unreadable or not a dfdetect checkpoint."""


def make_checkpoint(model: nn.Module, *, model_name: str, model_kwargs: dict,
                    preprocessing: dict, config: dict, threshold: float = 0.5,
                    metrics: dict | None = None, epoch: int = 0, step: int = 0) -> dict:
    """Assemble the checkpoint dict (tensors moved to CPU, with their checksum); ``weights_from``
    records the pretrained weights the run started from (empty when from scratch)."""
    from dfdetect.models import weights_of

    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "dfdetect_version": __version__,
        "model": {"name": model_name, "kwargs": dict(model_kwargs)},
        "preprocessing": dict(preprocessing),
        "labels": ["real", "fake"],
        "threshold": float(threshold),
        "config": config, "metrics": dict(metrics or {}), "weights_from": weights_of(model),
        "epoch": int(epoch), "global_step": int(step),
        "state_dict": state, "weights_sha256": weights_digest(state),
    }


def weights_digest(state_dict: dict) -> str:
    """SHA-256 over each tensor's name, dtype, shape and bytes, in sorted-name order."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name]
        if not isinstance(t, torch.Tensor):
            h.update(f"{name}|{t!r}".encode())
            continue
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def verify_weights(ckpt: dict, path) -> None:
    """Refuse weights whose digest differs from the stored one; warn once when none is stored."""
    stored = ckpt.get("weights_sha256")
    if stored is None:
        log.warning("%s stores no weights checksum (written before dfdetect recorded one): its "
                    "integrity cannot be checked", path)
        return
    if not isinstance(ckpt.get("state_dict"), dict) or weights_digest(ckpt["state_dict"]) != stored:
        raise CheckpointError(f"{path}: the weights do not match the checksum stored with them "
                              "(the file is corrupt: bit flips or zeroed bytes); use another copy "
                              "or retrain")


#: preprocessing sizes a checkpoint may ask for: key -> (low, name of the upper limit)
SIZE_BOUNDS = {"image_size": (1, "max_image_size"), "seconds": (1e-3, "max_clip_seconds"),
               "sample_rate": (1, "max_sample_rate"), "window_hop": (0, "max_clip_seconds")}


def check_metadata(ckpt: dict, path) -> None:
    """The structure and the sizes ``predict`` relies on, with the key that is wrong."""
    model, prep = ckpt.get("model"), ckpt.get("preprocessing")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str) \
            or not isinstance(model.get("kwargs"), dict):
        raise CheckpointError(f"{path}: 'model' must hold a name and a kwargs dict")
    if not isinstance(prep, dict):
        raise CheckpointError(f"{path}: 'preprocessing' must be a dict")
    if not isinstance(ckpt.get("state_dict"), dict):
        raise CheckpointError(f"{path}: 'state_dict' is missing or not a dict of tensors")
    for key, (low, upper) in SIZE_BOUNDS.items():
        if key not in prep:
            continue
        try:
            value = float(prep[key])
        except (TypeError, ValueError):
            raise CheckpointError(f"{path}: preprocessing.{key}={prep[key]!r} is not a number") \
                from None
        if not math.isfinite(value) or not low <= value <= limit(upper):
            raise CheckpointError(f"{path}: preprocessing.{key}={prep[key]!r} is outside "
                                  f"{low}..{limit(upper):g} (raise the bound with "
                                  f"DFDETECT_{upper.upper()} if the file is yours)")
    threshold = ckpt.get("threshold", 0.5)
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise CheckpointError(f"{path}: threshold={threshold!r} is not a finite number")


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


def _check_model_size(build_model, spec: dict, state_dict: dict, path) -> None:
    """Build the described model without memory (``meta`` device) and refuse it when it is
    far larger than the weights stored: kwargs such as ``num_classes=10**9`` would otherwise
    allocate until memory runs out before the weights are compared. Models that cannot be
    built on ``meta`` skip the check (the strict weight load still compares shapes)."""
    try:
        with torch.device("meta"):
            shadow = build_model(spec["name"], pretrained="false", **spec["kwargs"])
        wanted = sum(t.numel() for t in shadow.state_dict().values())
    except Exception:  # noqa: BLE001 - build errors are reported by the real build below
        return
    stored = sum(t.numel() for t in state_dict.values() if isinstance(t, torch.Tensor))
    if wanted > 2 * stored + 1_000_000:  # a near miss gets the strict load's detailed message
        raise CheckpointError(f"{path}: weights do not fit {spec['name']} with the stored "
                              f"kwargs: it would hold {wanted:,} weights, the file holds "
                              f"{stored:,} (the metadata does not describe these weights)")


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, dict]:
    """Build the model a checkpoint describes and load its weights; returns (model, metadata)."""
    from dfdetect.models import ModelError, build_model, check_input_spec

    ckpt = read_checkpoint(path)
    check_metadata(ckpt, path)
    verify_weights(ckpt, path)
    spec = ckpt["model"]
    _check_model_size(build_model, spec, ckpt["state_dict"], path)
    try:
        model = build_model(spec["name"], pretrained="false", **spec["kwargs"])
    except (TypeError, ValueError) as e:  # kwargs the model does not take
        raise CheckpointError(f"{path}: cannot build model {spec['name']!r} from its stored "
                              f"kwargs ({_first_line(e)})") from None
    try:  # an audio front-end built for 16 kHz must not score audio decoded at 8 kHz
        check_input_spec(model, ckpt.get("preprocessing", {}), str(path))
    except ModelError as e:
        raise CheckpointError(str(e)) from None
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except (RuntimeError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: weights do not fit {spec['name']}: "
                              f"{_first_line(e)}") from None
    model.eval()
    meta = {k: v for k, v in ckpt.items() if k != "state_dict"}
    meta["path"] = str(path)
    return model, meta
