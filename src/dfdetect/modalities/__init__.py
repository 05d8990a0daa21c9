"""Modalities: one registered object per kind of media (image, frame, video, audio).

Stages ask the modality instead of branching on its name: ``prepare`` runs its prepare step,
``train`` takes its preprocessing, transforms and default monitor, ``evaluate`` its report
section, words and perturbations, ``predict`` its extensions and how its files are scored,
``export`` its example input. The contract is :class:`~dfdetect.modalities.base.Modality`.

Example::

    m = manifest_modality(manifest.samples)      # the modality the rows train as
    m.default_monitor, m.perturbations            # 'val/eer', ('mp3', 'opus', ...)
"""
from __future__ import annotations

from pathlib import Path

from dfdetect.modalities.base import MODALITIES, Modality, ReportWords

__all__ = ["MODALITIES", "Modality", "ReportWords", "get_modality", "all_modalities",
           "manifest_modality", "modality_of_file", "scored_extensions"]


def _load_builtin() -> None:
    # importing registers them; kept in a function so importing this package does no work
    from dfdetect.modalities import audio, image, video  # noqa: F401


def get_modality(name: str) -> Modality:
    """The modality registered as ``name`` (a manifest's ``modality`` value or a checkpoint's
    ``preprocessing["modality"]``)."""
    _load_builtin()
    return MODALITIES.build(name)


def all_modalities() -> list[Modality]:
    """Every registered modality, by name."""
    _load_builtin()
    return [MODALITIES.build(n) for n in MODALITIES]


def manifest_modality(samples) -> Modality:
    """The one modality a training manifest's rows train as (images and frames: image).

    Raises :class:`~dfdetect.data.manifest.ManifestError` when rows must be prepared first or
    train as different modalities.
    """
    from dfdetect.data.manifest import ManifestError

    present = [get_modality(k) for k in sorted({s.modality for s in samples})]
    for m in present:
        if m.needs_prepare:
            raise ManifestError(m.needs_prepare)
    kinds = {m.trains_as for m in present}
    if len(kinds) != 1:
        raise ManifestError("a training manifest must hold one modality, found "
                            f"{sorted(m.name for m in present)}")
    return get_modality(kinds.pop())


def modality_of_file(path) -> Modality | None:
    """The modality whose extensions include the file's suffix (None if no modality claims it)."""
    suffix = Path(path).suffix.lower()
    return next((m for m in all_modalities() if suffix in m.extensions), None)


def scored_extensions(modality: Modality) -> frozenset[str]:
    """Suffixes a checkpoint of ``modality`` scores: those of every modality that trains as it
    (an image checkpoint also scores videos, through face crops)."""
    return frozenset().union(*(m.extensions for m in all_modalities()
                               if m.trains_as == modality.trains_as))
