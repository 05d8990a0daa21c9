"""The modality contract: one object per kind of media that every stage asks instead of
branching on a name.

A modality owns its file extensions, its prepare step, the preprocessing stored in checkpoints,
decoding and train / eval transforms, the default checkpoint-selection metric, an example input
(export, smoke tests), its robustness perturbations and its part of the evaluation report.
Subclasses override what differs; :data:`MODALITIES` maps each manifest ``modality`` value
(image, frame, video, audio) to its class.

Example::

    m = get_modality("audio")
    prep = m.preprocessing(cfg.data, model)            # stored in the checkpoint
    x = m.eval_transform(prep)(m.load("clip.flac", prep))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dfdetect.registry import Registry

MODALITIES: Registry["Modality"] = Registry("modality")


@dataclass(frozen=True)
class ReportWords:
    """How reports name the rows, the resampling units and the levels of a modality."""

    rows: str = "rows (images or frames)"        # what one frame-level row is
    units: str = "videos / identities"          # what the bootstrap resamples
    levels: dict = field(default_factory=lambda: {"frame": "frame", "video": "video"})

    def level(self, name: str) -> str:
        """The title of a level (metrics.json keeps the keys ``frame`` / ``video``)."""
        return self.levels.get(name, name)


class Modality:
    """Base class: defaults for the optional parts; a modality implements ``preprocessing``,
    ``load``, the transforms and ``example_input``.

    Attributes: ``name`` (registry name = the manifest's ``modality`` value), ``extensions``
    (file suffixes of this kind), ``trains_as`` (the modality its rows train as and whose
    checkpoints score its files; default: itself), ``per_frame`` (files are scored through face
    crops of sampled frames, then aggregated), ``video_level`` (rows are frames of videos, so
    evaluation adds a video level), ``needs_prepare`` (non-empty: rows must be prepared before
    training; the message says how), ``default_monitor`` ('' keeps the trainer's default),
    ``perturbations`` (the default robustness sweep), ``spatial_input`` (the model takes
    (N, C, H, W) images, so ``memory_format=auto`` trains it channels-last), ``words`` (report
    wording) and ``score_transform`` (None, or ``prep -> callable`` giving (W, ...) views of one
    file whose scores are averaged).
    """

    name: str = ""
    extensions: frozenset[str] = frozenset()
    per_frame: bool = False
    video_level: bool = False
    needs_prepare: str = ""
    default_monitor: str = ""
    perturbations: tuple[str, ...] = ()
    words: ReportWords = ReportWords()
    model_hint: str = "see `dfdetect models`"
    input_layout: str = ""  # the model input, as export's metadata describes it
    spatial_input: bool = False  # (N, C, H, W) images: memory_format=auto uses channels_last
    score_transform: Callable[[dict], Callable] | None = None
    shortcut_advice: str = ""  # what to do when a file property predicts the label

    @property
    def trains_as(self) -> str:
        return self.name

    def owns(self, sample) -> bool:
        """Whether a manifest row is of this modality."""
        return sample.modality == self.name

    def prepare(self, manifest, cfg, out: Path, echo=print) -> tuple[Any, Path]:
        """This modality's rows made trainable (others pass through) and where the manifest is
        to be written (normally ``out``). The base step changes nothing."""
        return manifest, out

    def shortcut_properties(self, sample, path: Path) -> dict:
        """Cheap properties of one row's file (format, size, rate, ...) for the label-shortcut
        check (:mod:`dfdetect.data.shortcuts`); values are numbers or categories. Default: none,
        the check skips this modality."""
        return {}

    def check_model(self, model) -> None:
        """Raise :class:`~dfdetect.models.ModelError` when ``model`` takes other media."""
        from dfdetect.models import ModelError

        takes = getattr(model, "modality", "image")
        if takes != self.trains_as:
            raise ModelError(f"this manifest holds {self.trains_as} data but the model "
                             f"({type(model).__name__}) takes {takes}; {self.model_hint}")

    def preprocessing(self, data_cfg, model) -> dict:
        """The settings stored in the checkpoint: everything ``load`` and the transforms need."""
        raise NotImplementedError

    def load(self, path, preprocessing: dict | None = None) -> Any:
        """Decode one file; raises :class:`~dfdetect.data.media.DecodeError`."""
        raise NotImplementedError

    def train_transform(self, preprocessing: dict, augment) -> Callable:
        raise NotImplementedError

    def eval_transform(self, preprocessing: dict) -> Callable:
        raise NotImplementedError

    def example_input(self, preprocessing: dict, batch: int = 1, generator=None):
        """A random model input of the checkpoint's shape (export parity, smoke tests)."""
        raise NotImplementedError

    def thumbnail(self, path, preprocessing: dict, size: int):
        """A PIL image showing one file in the report's mistakes sheet (default: none, the
        sheet shows a grey tile)."""
        raise ValueError(f"{path}: no thumbnail for modality {self.name}")

    def report_section(self, report: dict, rows: list[dict], meta: dict, cfg, out: Path) -> str:
        """Add this modality's part to the report (keys, plots in ``out``); returns markdown."""
        return ""
