"""YAML files and ``key=value`` overrides applied onto the typed dataclasses.

Keys may be written in full (``trainer.epochs=5``), by their leaf name when it is unique
(``epochs=5``), or by a short alias (``data=`` for ``data.manifest``, ``model=`` for
``model.name``). An unknown key raises :class:`ConfigError` naming the nearest valid key; so does
an option naming an unknown choice (``scheduler=cosin``, ``model=timm:resnt18``, see
:mod:`dfdetect.config.choices`), before any command does any work.

Example::

    cfg = load_config(TrainConfig, ["config=configs/demo.yaml", "epochs=3", "lr=1e-4"])
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from pathlib import Path
from typing import Any, Iterable, TypeVar

import yaml

from dfdetect.config.errors import ConfigError  # noqa: F401  (re-exported: its old home)

C = TypeVar("C")

#: short spellings for the most used keys of nested configs
ALIASES = {"data": "data.manifest", "model": "model.name", "loss": "loss.name"}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def field_paths(cls: type, prefix: str = "") -> dict[str, dataclasses.Field]:
    """All leaf keys of a config class as dotted paths -> their dataclass field."""
    out: dict[str, dataclasses.Field] = {}
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(hints[f.name]):
            out.update(field_paths(hints[f.name], path + "."))
        else:
            out[path] = f
    return out


def key_table(cls: type) -> dict[str, str]:
    """Every spelling a user may type -> the dotted path it means."""
    paths = field_paths(cls)
    table = {p: p for p in paths}
    leaves: dict[str, list[str]] = {}
    for p in paths:
        leaves.setdefault(p.rsplit(".", 1)[-1], []).append(p)
    for leaf, full in leaves.items():
        if len(full) == 1 and leaf not in table:
            table[leaf] = full[0]
    for alias, target in ALIASES.items():
        if target in paths:
            table[alias] = target
    return table


def _unknown(key: str, valid: Iterable[str], where: str) -> ConfigError:
    near = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.4)
    tip = f"; did you mean '{near[0]}'?" if near else ""
    return ConfigError(f"unknown config key '{key}'{where}{tip}")


def _coerce(value: Any, typ: Any, key: str) -> Any:
    """Convert a YAML-parsed or raw string value to the field's type."""
    if typ is str:
        if isinstance(value, (list, tuple)):  # a YAML list of manifests -> "a.csv,b.csv"
            return ",".join(str(v) for v in value)
        return "" if value is None else str(value)
    if isinstance(value, str):
        raw = value.strip()
        if typ is bool:
            low = raw.lower()
            if low in {"true", "yes", "on", "1"}:
                return True
            if low in {"false", "no", "off", "0"}:
                return False
            raise ConfigError(f"invalid value for '{key}': '{value}' is not true/false")
        try:
            return typ(raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"invalid value for '{key}': '{value}' is not a {typ.__name__}") from None
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, typ) and not (typ is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"invalid value for '{key}': {value!r} is not a {typ.__name__}")


def _set(cfg: Any, path: str, value: Any, key: str) -> None:
    *parents, leaf = path.split(".")
    obj = cfg
    for p in parents:
        obj = getattr(obj, p)
    typ = _hints(type(obj))[leaf]
    setattr(obj, leaf, _coerce(value, typ, key))


def _flatten(d: dict, prefix: str = "") -> Iterable[tuple[str, Any]]:
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def apply_yaml(cfg: Any, path: str | os.PathLike) -> None:
    """Apply a YAML file (nested sections or dotted keys) onto ``cfg``."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({e.__class__.__name__}: {e})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of keys at the top level")
    paths = field_paths(type(cfg))
    for key, value in _flatten(data):
        if key not in paths:
            raise _unknown(key, paths, f" in {p}")
        _set(cfg, key, value, f"{key} ({p})")


def parse_overrides(items: Iterable[str]) -> list[tuple[str, str]]:
    """Split ``key=value`` strings; anything else is an error."""
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got '{item}'")
        pairs.append((key.strip(), value))
    return pairs


def load_config(cls: type[C], overrides: Iterable[str] = (), check: bool = True) -> C:
    """Defaults of ``cls``, then ``config=<yaml>`` (if given), then the other overrides; then
    (``check``) every choice-valued option is checked against its registry."""
    cfg = cls()
    pairs = parse_overrides(overrides)
    for key, value in pairs:
        if key == "config":
            apply_yaml(cfg, value)
    table = key_table(cls)
    for key, value in pairs:
        if key == "config":
            continue
        if key not in table:
            raise _unknown(key, list(table) + ["config"], "")
        _set(cfg, table[key], value, key)
    if check:
        from dfdetect.config.choices import check_choices

        check_choices(cfg)
    return cfg


def to_dict(cfg: Any) -> dict:
    """Plain nested dict of a config (YAML / checkpoint friendly)."""
    return dataclasses.asdict(cfg)


def from_dict(cls: type[C], data: dict) -> C:
    """Rebuild a config from :func:`to_dict` output, ignoring keys this version does not know."""
    cfg = cls()
    paths = field_paths(cls)
    for key, value in _flatten(data):
        if key in paths:
            _set(cfg, key, value, key)
    return cfg


def save_yaml(cfg: Any, path: str | os.PathLike) -> None:
    """Write the resolved config atomically."""
    from dfdetect.io import atomic_write_text

    atomic_write_text(Path(path), yaml.safe_dump(to_dict(cfg), sort_keys=False))
