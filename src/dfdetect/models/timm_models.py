"""Any timm backbone as a two-class detector: ``model=timm:<name>``.

``pretrained=true`` downloads through timm's hub; offline it fails within seconds with a clear
message instead of timm's ~47 s of retries. ``pretrained=<path>`` loads local weights
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


def _from_file(name: str, path: str, **kwargs) -> nn.Module:
    """Load local weights; only the classifier head may be missing or differently shaped."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelError(f"pretrained={path}: no such file (expected local weights, true or false)")
    try:
        state = _read_state_dict(p)
    except ModelError:
        raise
    except Exception as e:
        raise ModelError(f"pretrained={path}: cannot be read as weights "
                         f"({type(e).__name__})") from None
    model = _create(name, pretrained=False, **kwargs)
    own = model.state_dict()
    heads = _head_prefixes(model)
    state = {k: v for k, v in state.items()
             if not (k.startswith(heads) and k in own and own[k].shape != v.shape)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    body_missing = [k for k in missing if not k.startswith(heads) or not heads]
    if body_missing or unexpected:
        raise ModelError(
            f"pretrained={path} does not fit timm:{name}: {len(body_missing)} weights missing "
            f"(e.g. {body_missing[:2]}), {len(unexpected)} unexpected (e.g. {unexpected[:2]})")
    return model


def timm_members(name: str) -> list[str] | None:
    """None when timm has ``name`` (a tag like ``resnet18.a1_in1k`` included), else timm's names."""
    import timm

    return None if timm.is_model(name) else timm.list_models()


@MODELS.register("timm:", members=timm_members)
def timm_model(name: str, pretrained: str = "false", num_classes: int = 2,
               drop_rate: float = 0.0, **timm_kwargs) -> nn.Module:
    """timm backbone with a ``num_classes`` head (0: pooled features, no head)."""
    kwargs = {"num_classes": num_classes, "drop_rate": drop_rate, **timm_kwargs}
    flag = pretrained.strip().lower()
    if flag in ("false", "no", "0", ""):
        return _create(name, pretrained=False, **kwargs)
    if flag in ("true", "yes", "1"):
        return _from_hub(name, **kwargs)
    return _from_file(name, pretrained, **kwargs)
