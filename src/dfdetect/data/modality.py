"""Modality handlers: how one kind of media is decoded, turned into a tensor and described.

Every stage that touches raw files (training datasets, evaluate, predict) goes through the
handler named by the checkpoint's ``preprocessing["modality"]`` (or the manifest's ``modality``
column), so adding a modality means registering one handler, not editing each stage.

Example::

    handler = get_handler("image")
    x = handler.eval_transform(prep)(handler.load("face.jpg", prep))   # (3, S, S)
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

from dfdetect.registry import Registry


class ModalityHandler(Protocol):
    """What a modality provides; ``load`` raises :class:`dfdetect.data.image.DecodeError`."""

    name: str

    def preprocessing(self, data_cfg: Any, model: Any) -> dict: ...

    def load(self, path: Any, preprocessing: dict) -> Any: ...

    def train_transform(self, preprocessing: dict, augment: bool) -> Callable[[Any], Any]: ...

    def eval_transform(self, preprocessing: dict) -> Callable[[Any], Any]: ...


HANDLERS: Registry[ModalityHandler] = Registry("modality")


def _load_builtin() -> None:
    from dfdetect.data import image  # noqa: F401  (registers image and frame)
    from dfdetect.data import audio  # noqa: F401  (registers audio; issue 6)


def get_handler(name: str) -> ModalityHandler:
    """The handler for ``name`` (image, frame, ...); a video must be prepared into frames first."""
    _load_builtin()
    if name == "video":
        from dfdetect.data.manifest import ManifestError

        raise ManifestError("this manifest lists videos: run `dfdetect prepare` first to turn "
                            "them into face crops, then train on the prepared manifest")
    return HANDLERS.build(name)


def manifest_modality(samples) -> str:
    """The one handler a manifest needs (image and frame rows share the image handler)."""
    from dfdetect.data.manifest import ManifestError

    kinds = {("image" if s.modality == "frame" else s.modality) for s in samples}
    if len(kinds) != 1:
        raise ManifestError(f"a training manifest must hold one modality, found {sorted(kinds)}")
    return kinds.pop()
