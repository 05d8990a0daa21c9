"""Model registry: every architecture is a plain ``nn.Module`` built by name.

``timm:<name>`` builds any timm model; files in this package register more by decorator.
Each model maps (B, 3, H, W) images to (B, 2) logits: index 0 real, 1 fake. Audio models
(``modality = "audio"`` attribute) map (B, T) waveforms to (B, 2) logits instead.

Example::

    net = build_model("timm:resnet18", pretrained="false")
"""
from __future__ import annotations

from torch import nn

from dfdetect.registry import Registry

MODELS: Registry[nn.Module] = Registry("model")


class ModelError(RuntimeError):
    """A model that cannot be built as asked (unknown name, weights unavailable)."""


def _load_builtin() -> None:
    from dfdetect.models import dual_branch, named, timm_models  # noqa: F401  (register)
    from dfdetect.models import aasist, audio_timm, lcnn, rawnet2, spectral  # noqa: F401  (audio)


def build_model(name: str, pretrained: str = "false", num_classes: int = 2,
                drop_rate: float = 0.0, **options) -> nn.Module:
    """Build the registered model ``name`` (``pretrained``: true, false, imagenet, a weight
    source name or a weights path; see :mod:`dfdetect.models.weights`).

    ``options`` are architecture arguments (``backbone=``, ``spectrum=`` for dual_branch); they
    are stored in the checkpoint's ``model.kwargs`` so ``load_checkpoint`` rebuilds the same net.
    """
    _load_builtin()
    fn, implied = MODELS.resolve(name)
    import inspect

    accepted = inspect.signature(fn).parameters
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise ModelError(f"model '{name}' takes no option {', '.join(unknown)} "
                         "(backbone= and spectrum= apply to dual_branch)")
    return fn(**implied, pretrained=str(pretrained), num_classes=num_classes,
              drop_rate=drop_rate, **options)


#: data settings a model's front-end is built for (audio filter banks need the sample rate). A
#: factory taking one of these as an argument gets the data config's value from ``train``, the
#: value lands in the checkpoint's ``model.kwargs``, and the model keeps it as an attribute.
INPUT_SPEC = ("sample_rate",)


def input_options(name: str, data_cfg) -> dict:
    """The :data:`INPUT_SPEC` settings of ``data_cfg`` that model ``name`` takes as arguments.

    Example: ``input_options("lcnn", DataConfig(sample_rate=8000))`` -> ``{"sample_rate": 8000}``;
    an image model takes none of them and gets ``{}``.
    """
    import inspect

    _load_builtin()
    accepted = inspect.signature(MODELS.resolve(name)[0]).parameters
    return {k: getattr(data_cfg, k) for k in INPUT_SPEC if k in accepted}


def check_input_spec(model: nn.Module, preprocessing: dict, where: str) -> None:
    """Refuse a model whose front-end was built for other input than its data is decoded to."""
    for key in INPUT_SPEC:
        built, data = getattr(model, key, None), preprocessing.get(key)
        if built is not None and data is not None and float(built) != float(data):
            raise ModelError(
                f"{where}: the model's front-end was built for {key}={built} but the "
                f"preprocessing decodes at {key}={data}; its filters would sit at the wrong "
                f"frequencies. Retrain with this dfdetect (train passes {key} to the model).")


def enable_grad_checkpointing(model: nn.Module) -> None:
    """Switch on timm's gradient checkpointing, or say that this model cannot."""
    setter = getattr(model, "set_grad_checkpointing", None)
    if setter is None:
        raise ModelError(f"{type(model).__name__} does not support grad_checkpointing "
                         "(timm backbones with set_grad_checkpointing do); use "
                         "grad_checkpointing=false")
    try:
        setter(True)
    except (AssertionError, NotImplementedError) as e:
        raise ModelError(f"{type(model).__name__}: grad_checkpointing is not supported "
                         f"({e or 'timm says no'}); use grad_checkpointing=false") from None


def model_names() -> list[str]:
    """Registered model names (families shown as ``timm:<name>``)."""
    _load_builtin()
    return MODELS.names()


def preprocessing_of(model: nn.Module) -> dict:
    """Normalisation the model expects (timm's pretrained_cfg; ImageNet stats otherwise)."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return {"mean": [float(x) for x in cfg.get("mean", (0.485, 0.456, 0.406))],
            "std": [float(x) for x in cfg.get("std", (0.229, 0.224, 0.225))]}


def starting_weights(model: nn.Module, pretrained: str) -> str:
    """One line for the train log: which weights the run starts from (an offline source's
    name, package, version and file SHA-256 prefix; the hub; a local file; or random)."""
    origin = weights_of(model)
    if origin:
        return (f"Weights: {origin['source']} from package {origin['package']} "
                f"{origin['version']} ({origin['file'].rsplit('/', 1)[-1]}, sha256 "
                f"{origin['sha256'][:12]}, {origin['licence']})")
    flag = pretrained.strip()
    if flag.lower() in ("", "false", "no", "0"):
        return "Weights: random initialisation (pretrained=false)"
    if flag.lower() in ("true", "yes", "1"):
        return "Weights: timm hub (pretrained=true)"
    from pathlib import Path

    from dfdetect.models.weights import sha256

    path = Path(flag).expanduser()
    digest = f", sha256 {sha256(path)[:12]}" if path.is_file() else ""
    return f"Weights: local file {flag}{digest}"


def weights_of(model: nn.Module) -> dict:
    """Where the model's starting weights came from (an offline source's package, version and
    file hash), or ``{}`` when it was not built from one; composite models are searched."""
    for module in model.modules():
        origin = (getattr(module, "pretrained_cfg", None) or {}).get("weights_from")
        if origin:
            return dict(origin)
    return {}
