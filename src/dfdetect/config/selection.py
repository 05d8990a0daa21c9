"""Checkpoint-selection metrics: the one table of what validation logs and which way is better.

Every validation set logs the same metrics under its own name (``val/...`` for the set that
selects checkpoints, ``val_<name>/...`` for each ``extra_val`` set). The best-checkpoint
callback, early stopping, the ``plateau`` schedule and config checking all read the direction
of a monitored metric from :data:`SELECTION_METRICS` (as torchmetrics' ``higher_is_better``), so
a metric is added, or its direction changed, in this one place.

Example::

    mode("val_celebdf/eer")   # "min"
    check_monitor("val/bogus")  # ConfigError: ... did you mean 'val/loss'?
"""
from __future__ import annotations

import difflib
import re

from dfdetect.config.errors import ConfigError

#: metric (the part after ``/``) -> True when higher is better
SELECTION_METRICS: dict[str, bool] = {
    "loss": False,
    "acc": True,
    "f1_macro": True,
    "auc": True,
    "eer": False,
}
_SET = re.compile(r"^val(_[A-Za-z0-9_.-]+)?$")


def higher_is_better(monitor: str) -> bool:
    """Direction of ``monitor`` (``val/auc``, ``val_x/eer``); ConfigError when unknown."""
    check_monitor(monitor)
    return SELECTION_METRICS[monitor.rsplit("/", 1)[-1]]


def mode(monitor: str) -> str:
    """``"max"`` or ``"min"`` for Lightning's EarlyStopping and torch's ReduceLROnPlateau."""
    return "max" if higher_is_better(monitor) else "min"


def monitor_names(val_names: list[str] | tuple[str, ...] = ("val",)) -> list[str]:
    """Every metric the detector logs per validation set, e.g. ``val/auc``, ``val_x/eer``."""
    return [f"{s}/{m}" for s in val_names for m in SELECTION_METRICS]


def check_monitor(monitor: str, val_names: list[str] | tuple[str, ...] | None = None) -> None:
    """Raise ConfigError (with the nearest valid name) unless ``monitor`` is a logged metric.

    ``val_names`` are the validation sets of the run; without them any ``val_<name>`` set is
    accepted (the extra sets' names are known only once their manifests are read).
    """
    where, _, metric = monitor.rpartition("/")
    known_set = _SET.match(where) if val_names is None else where in val_names
    if known_set and metric in SELECTION_METRICS:
        return
    choices = monitor_names(val_names or ("val",))
    if where.startswith("val_") and val_names is None:
        choices += monitor_names((where,))
    near = difflib.get_close_matches(monitor, choices, n=1, cutoff=0.5)
    tip = f"; did you mean '{near[0]}'?" if near else ""
    sets = f"one of {', '.join(val_names)}" if val_names else "val or val_<extra_val name>"
    raise ConfigError(f"monitor={monitor}: not a validation metric{tip} (checkpoint selection "
                      f"reads <set>/<metric>, <set> {sets} and <metric> one of "
                      f"{', '.join(SELECTION_METRICS)})")
