"""Any timm backbone as a two-class detector: ``model=timm:<name>``.

``pretrained=true`` downloads through timm's hub; offline it fails within seconds with a clear
message instead of timm's ~47 s of retries. ``pretrained=<path>`` loads local weights
(``.safetensors``, ``.pth``/``.bin`` state dicts, or a dfdetect checkpoint), dropping the
1000-class ImageNet head when the class count differs.
"""
from __future__ import annotations

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


def _from_hub(name: str, **kwargs) -> nn.Module:
    online = hub_reachable()
    previous = os.environ.get("HF_HUB_OFFLINE")
    if not online:
        os.environ["HF_HUB_OFFLINE"] = "1"  # use the local cache only; fail in well under a second
    try:
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
    finally:
        if not online:
            if previous is None:
                os.environ.pop("HF_HUB_OFFLINE", None)
            else:
                os.environ["HF_HUB_OFFLINE"] = previous


def _extract_state_dict(path: Path) -> Path:
    """A dfdetect checkpoint wraps its weights; unwrap to a temp safetensors file for timm."""
    import tempfile

    import torch
    from safetensors.torch import save_file

    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and obj.get("format") == "dfdetect-checkpoint":
        state = obj["state_dict"]
        tmp = Path(tempfile.mkdtemp()) / "weights.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp))
        return tmp
    return path


def _from_file(name: str, path: str, **kwargs) -> nn.Module:
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelError(f"pretrained={path}: no such file (expected local weights, true or false)")
    if p.suffix in (".ckpt", ".pt"):
        p = _extract_state_dict(p)
    try:
        return _create(name, pretrained=True, pretrained_cfg_overlay={"file": str(p)}, **kwargs)
    except ModelError:
        raise
    except Exception as e:
        raise ModelError(f"pretrained={path}: cannot load into timm:{name}: {e}") from None


@MODELS.register("timm:")
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
