"""Options whose value names a choice, checked when a config is loaded (before any work).

Why here: a typo such as ``scheduler=cosin`` used to surface only when the component was built,
after the run folder existed. :func:`check_choices` runs at the end of
:func:`~dfdetect.config.loader.load_config` and raises :class:`ConfigError` (exit code 2) naming
the key, the value and the nearest valid name. Valid names come from the registries themselves
(models, with ``timm:<name>`` checked against timm; losses; optimisers; schedules; dataset
adapters; aggregations; threshold rules; loggers), so a newly registered component is valid
without editing this file.

Numbers are checked against the range their field declares in the schema (:func:`check_ranges`,
same error and exit code); run names, split ratios and predict's columns against their format.

Example::

    check_choices(cfg)   # ConfigError: optim.scheduler=cosin: unknown scheduler 'cosin'; did you
                         # mean 'cosine'? (choose from: cosine, none, plateau, step)
"""
from __future__ import annotations

import dataclasses
import importlib
import math
from typing import Any, Callable

from dfdetect.config.errors import ConfigError
from dfdetect.config.schema import (DemoConfig, EnvConfig, EvaluateConfig, PredictConfig, PrepareConfig,
                                    ServeConfig, TrainConfig)

Check = Callable[[Any, str], None]  # (config, value) -> None or raises


def _registry(module: str, attr: str, load: str = "", each: bool = False,
              optional: bool = False) -> Check:
    """Check a value (or, with ``each``, every comma-separated item) against a registry."""

    def check(_cfg: Any, value: str) -> None:
        from dfdetect.registry import RegistryError

        mod = importlib.import_module(module)
        if load:
            getattr(mod, load)()  # registers the built-in components
        items = [v.strip() for v in value.split(",") if v.strip()] if each else [value.strip()]
        for item in items:
            if optional and not item:
                continue
            try:
                getattr(mod, attr).check(item)
            except RegistryError as e:
                raise ConfigError(str(e)) from None

    return check


def _one_of(module: str, attr: str, kind: str) -> Check:
    """Check a value against a fixed tuple of names held by ``module.attr``."""

    def check(_cfg: Any, value: str) -> None:
        import difflib

        valid = list(getattr(importlib.import_module(module), attr))
        if value not in valid:
            near = difflib.get_close_matches(value, valid, n=1, cutoff=0.5)
            tip = f"; did you mean '{near[0]}'?" if near else ""
            raise ConfigError(f"unknown {kind} '{value}'{tip} (choose from: {', '.join(valid)})")

    return check


def _monitor(cfg: TrainConfig, value: str) -> None:
    from dfdetect.config.selection import check_monitor

    # without extra_val the only validation set is val; with it, val_<name> names are checked
    # again once the manifests are read
    check_monitor(value, None if cfg.data.extra_val.strip() else ("val",))


def _device_option(attr: str, kind: str, lower: bool = False) -> Check:
    """device= / precision= against the device layer's names (a module without torch, so the
    error answers at once instead of after the model registry is imported)."""
    names = _one_of("dfdetect.training.device", attr, kind)
    return lambda cfg, value: names(cfg, value.strip().lower() if lower else value)


_DEVICE = _device_option("DEVICES", "device", lower=True)
_PRECISION = _device_option("PRECISIONS", "precision")


def _ratios(_cfg: Any, value: str) -> None:
    manifest = importlib.import_module("dfdetect.data.manifest")  # a lower layer: no import
    try:
        manifest.parse_ratios(value)
    except manifest.ManifestError as e:
        raise ConfigError(str(e)) from None


def _run_name(_cfg: Any, value: str) -> None:
    """A run name is one folder inside out_dir: no separators, no '.' or '..'."""
    if value.strip() in (".", "..") or any(sep in value for sep in ("/", "\\")):
        raise ConfigError(f"name={value}: a run name is one folder name inside out_dir (no '/', "
                          "'\\', '.' or '..'); use out_dir= to choose where runs go")


def _columns(_cfg: Any, value: str) -> None:
    fields = importlib.import_module("dfdetect.inference.writers").FIELDS
    cols = [c.strip() for c in value.split(",") if c.strip()]
    bad = [c for c in cols if c not in fields]
    if bad or not cols:
        raise ConfigError(f"unknown column(s) {', '.join(bad) or '(none given)'} (choose from: "
                          f"{', '.join(fields)})")


_MODELS = _registry("dfdetect.models", "MODELS", load="_load_builtin")
_AGGREGATION = _registry("dfdetect.metrics.aggregate", "AGGREGATIONS")

#: config class -> {dotted key: check}
CHOICES: dict[type, dict[str, Check]] = {
    TrainConfig: {  # checks that import nothing heavy first, so their errors answer at once
        "trainer.device": _DEVICE,
        "trainer.precision": _PRECISION,
        "trainer.memory_format": _device_option("MEMORY_FORMATS", "memory format", lower=True),
        "name": _run_name,
        "data.split_ratio": _ratios,
        "trainer.monitor": _monitor,
        "model.name": _MODELS,
        "optim.optimizer": _registry("dfdetect.training.optim", "OPTIMIZERS"),
        "optim.scheduler": _registry("dfdetect.training.optim", "SCHEDULERS"),
        "loss.name": _registry("dfdetect.losses", "LOSSES"),
        "data.sampling": _one_of("dfdetect.data.sampling", "SAMPLING_MODES", "sampling mode"),
        "logging.loggers": _registry("dfdetect.training.loggers", "LOGGERS", each=True),
        "trainer.export": _registry("dfdetect.inference.export", "EXPORTERS", optional=True),
    },
    PrepareConfig: {"data": _registry("dfdetect.data.adapters", "ADAPTERS",
                                      load="_load_builtin"),
                    "split_ratio": _ratios},
    EvaluateConfig: {"device": _DEVICE, "aggregation": _AGGREGATION,
                     "threshold_rule": _registry("dfdetect.metrics.threshold", "THRESHOLD_RULES",
                                                 optional=True)},
    PredictConfig: {"device": _DEVICE, "aggregation": _AGGREGATION, "columns": _columns},
    ServeConfig: {"aggregation": _AGGREGATION},
    DemoConfig: {"device": _DEVICE, "model": _MODELS, "audio_model": _MODELS},
    EnvConfig: {"format": _one_of("dfdetect.envcheck", "FORMATS", "format")},
}


def _leaves(cfg: Any, prefix: str = ""):
    """(dotted key, value, field metadata) of every leaf option of a config dataclass."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", value, f.metadata


def _in_range(value: float, meta: Any) -> bool:
    return (math.isfinite(value) and value >= meta.get("min", -math.inf)
            and value <= meta.get("max", math.inf) and value > meta.get("above", -math.inf)
            and value < meta.get("below", math.inf))


def check_ranges(cfg: Any) -> None:
    """Raise ConfigError for the first number outside the range its field declares
    (``opt(..., min=, max=, above=, below=)`` in :mod:`~dfdetect.config.schema`)."""
    from dfdetect.config.schema import range_text

    for key, value, meta in _leaves(cfg):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not _in_range(value, meta):
            raise ConfigError(f"{key}={value}: out of range, valid {range_text(meta)}: "
                              f"{meta.get('help', '')}")


def check_choices(cfg: Any) -> None:
    """Raise ConfigError for the first option whose value is out of its range (see
    :func:`check_ranges`) or is not a valid choice."""
    check_ranges(cfg)
    for key, check in CHOICES.get(type(cfg), {}).items():
        value = cfg
        for part in key.split("."):
            value = getattr(value, part)
        try:
            check(cfg, value)
        except ConfigError as e:
            text = str(e)
            raise ConfigError(text if text.startswith(f"{key.split('.')[-1]}=")
                              else f"{key}={value}: {text}") from None
