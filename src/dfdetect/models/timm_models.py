"""Any timm backbone as a two-class detector: ``model=timm:<name>``.

``pretrained=true`` downloads through timm's hub; offline it fails within seconds with a clear
message instead of timm's ~47 s of retries. ``pretrained=imagenet`` (or a source name) reads
weights that a registry package installed (:mod:`dfdetect.models.weights`, no network; the
model's ``pretrained_cfg`` then carries their normalisation and origin, ``weights_from``).
``pretrained=<path>`` loads local weights
(``.safetensors``, ``.pth``/``.bin`` state dicts, or a dfdetect checkpoint), dropping the
1000-class ImageNet head when the class count differs.
"""
from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from torch import nn

from dfdetect.models import MODELS, ModelError

HUB_HOST = ("huggingface.co", 443)


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connect within ``timeout`` seconds."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    try:
        with socket.create_connection(HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _create(name: str, **kwargs) -> nn.Module:
    import timm

    if not timm.is_model(name):
        import difflib

        near = difflib.get_close_matches(name, timm.list_models(), n=3, cutoff=0.6)
        tip = f"; did you mean {', '.join('timm:' + n for n in near)}?" if near else ""
        raise ModelError(f"timm has no model '{name}'{tip}")
    return timm.create_model(name, **kwargs)


class _HubOffline:
    """Force huggingface_hub's offline mode for one call.

    huggingface_hub reads ``HF_HUB_OFFLINE`` once, when first imported, so setting the
    environment variable later is not enough: the module constant is switched too.
    """

    def __enter__(self) -> None:
        from huggingface_hub import constants

        self._env = os.environ.get("HF_HUB_OFFLINE")
        self._const = constants.HF_HUB_OFFLINE
        os.environ["HF_HUB_OFFLINE"] = "1"
        constants.HF_HUB_OFFLINE = True

    def __exit__(self, *exc) -> None:
        from huggingface_hub import constants

        constants.HF_HUB_OFFLINE = self._const
        if self._env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = self._env


def _from_hub(name: str, **kwargs) -> nn.Module:
    online = hub_reachable()
    guard = contextlib.nullcontext() if online else _HubOffline()
    try:
        with guard:  # offline: the local cache only, failing in well under a second
            return _create(name, pretrained=True, **kwargs)
    except ModelError:
        raise
    except Exception as e:  # timm / hub raise many types; the user needs one clear sentence
        where = "the local cache" if not online else "the Hugging Face hub"
        raise ModelError(
            f"could not load pretrained weights for timm:{name} from {where}"
            f"{' (huggingface.co is unreachable: offline)' if not online else ''}: "
            f"{type(e).__name__}. Use pretrained=<path to a .safetensors/.pth file> or "
            "pretrained=false.") from None


def _read_state_dict(path: Path) -> dict:
    """Tensors from .safetensors, a torch state dict, or a dfdetect checkpoint (no pickle)."""
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and obj.get("format") == "dfdetect-checkpoint":
        obj = obj["state_dict"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ModelError(f"pretrained={path}: holds a {type(obj).__name__}, not a state dict")
    for prefix in ("module.", "model."):  # DDP / wrapper prefixes on every key
        if obj and all(k.startswith(prefix) for k in obj):
            obj = {k[len(prefix):]: v for k, v in obj.items()}
    return obj


def _head_prefixes(model: nn.Module) -> tuple[str, ...]:
    head = (getattr(model, "pretrained_cfg", None) or {}).get("classifier") or ()
    return (head,) if isinstance(head, str) else tuple(head)


def _adapt_stem(model: nn.Module, own: dict, state: dict) -> dict:
    """Sum or repeat an RGB stem to the model's input channels (``in_chans=1`` audio models)."""
    first = (getattr(model, "pretrained_cfg", None) or {}).get("first_conv")
    key = f"{first}.weight" if first else ""
    if key in state and key in own and own[key].shape != state[key].shape:
        from timm.models import adapt_input_conv

        state = {**state, key: adapt_input_conv(own[key].shape[1], state[key])}
    return state


def _load_body(model: nn.Module, state: dict, where: str, name: str) -> None:
    """Load ``state``; only the classifier head may be missing, extra (``num_classes=0``) or
    differently shaped."""
    own = model.state_dict()
    heads = _head_prefixes(model)
    state = _adapt_stem(model, own, state)
    state = {k: v for k, v in state.items()
             if not (k.startswith(heads) and (k not in own or own[k].shape != v.shape))}
    missing, unexpected = model.load_state_dict(state, strict=False)
    body_missing = [k for k in missing if not k.startswith(heads) or not heads]
    if body_missing or unexpected:
        raise ModelError(
            f"{where} does not fit timm:{name}: {len(body_missing)} weights missing "
            f"(e.g. {body_missing[:2]}), {len(unexpected)} unexpected (e.g. {unexpected[:2]})")


def _from_file(name: str, path: str, **kwargs) -> nn.Module:
    """Load local weights; only the classifier head may be missing or differently shaped."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelError(f"pretrained={path}: no such file (expected local weights, true, false, "
                         "imagenet or a weight source name; see `dfdetect models`)")
    try:
        state = _read_state_dict(p)
    except ModelError:
        raise
    except Exception as e:
        raise ModelError(f"pretrained={path}: cannot be read as weights "
                         f"({type(e).__name__})") from None
    model = _create(name, pretrained=False, **kwargs)
    _load_body(model, state, f"pretrained={path}", name)
    return model


def _from_source(name: str, src, **kwargs) -> nn.Module:
    """Weights installed with a registry package (:mod:`dfdetect.models.weights`)."""
    from dfdetect.models.weights import read_mapped

    reference = {k: v.shape for k, v in _create(src.model, pretrained=False).state_dict().items()}
    state, origin = read_mapped(src, reference)  # ImageNet names and shapes, head included
    model = _create(name, pretrained=False, **kwargs)
    _load_body(model, state, f"pretrained={src.name}", name)
    size = int(src.input_size)
    model.pretrained_cfg = {**(getattr(model, "pretrained_cfg", None) or {}),
                            "mean": tuple(src.mean), "std": tuple(src.std),
                            "input_size": (3, size, size), "license": src.licence,
                            "weights_from": origin}
    return model


def build_timm(name: str, pretrained: str, **kwargs) -> nn.Module:
    """Scratch (false), hub (true), an offline weight source (imagenet, a source name) or a
    local weights file; shared by ``timm:`` and ``audio_timm:``."""
    from dfdetect.models.weights import select

    flag = pretrained.strip().lower()
    if flag in ("false", "no", "0", ""):
        return _create(name, pretrained=False, **kwargs)
    if flag in ("true", "yes", "1"):
        return _from_hub(name, **kwargs)
    src = select(name, pretrained)
    if src is not None:
        return _from_source(name, src, **kwargs)
    return _from_file(name, pretrained, **kwargs)


def timm_members(name: str) -> list[str] | None:
    """None when timm has ``name`` (a tag like ``resnet18.a1_in1k`` included), else timm's names."""
    import timm

    return None if timm.is_model(name) else timm.list_models()


@MODELS.register("timm:", members=timm_members)
def timm_model(name: str, pretrained: str = "false", num_classes: int = 2,
               drop_rate: float = 0.0, **timm_kwargs) -> nn.Module:
    """timm backbone with a ``num_classes`` head (0: pooled features, no head)."""
    kwargs = {"num_classes": num_classes, "drop_rate": drop_rate, **timm_kwargs}
    return build_timm(name, pretrained, **kwargs)
