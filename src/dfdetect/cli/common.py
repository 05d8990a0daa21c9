"""Shared CLI plumbing: help generated from the config dataclasses, errors for people."""
from __future__ import annotations

import argparse
import dataclasses
import typing

from dfdetect.config.loader import ALIASES, field_paths, key_table
from dfdetect.config.schema import range_text


def options_help(cls: type) -> str:
    """One line per option: key (short spelling), default, help text, example value."""
    paths = field_paths(cls)
    table = key_table(cls)
    short = {full: key for key, full in table.items() if key != full}
    hints_cache: dict[type, dict] = {}
    lines = []
    for path, f in paths.items():
        default = (f.default if f.default is not dataclasses.MISSING else f.default_factory())
        shown = short.get(path)
        for alias, target in ALIASES.items():
            if target == path and alias in table:
                shown = alias
        name = f"{shown} ({path})" if shown and shown != path else path
        owner = _owner(cls, path)
        typ = hints_cache.setdefault(owner, typing.get_type_hints(owner))[path.split(".")[-1]]
        help_text = f.metadata.get("help", "")
        example = f.metadata.get("example", "")
        ex = f" e.g. {shown or path}={example}" if example else ""
        valid = range_text(f.metadata)
        kind = f"{typ.__name__}, {valid}" if valid else typ.__name__
        lines.append(f"  {name}={default!s:<10} [{kind}] {help_text}.{ex}")
    return "\n".join(lines)


def _owner(cls: type, path: str) -> type:
    obj = cls
    for part in path.split(".")[:-1]:
        obj = typing.get_type_hints(obj)[part]
    return obj


def add_command(sub: argparse._SubParsersAction, name: str, cls: type | None, summary: str,
                examples: str) -> argparse.ArgumentParser:
    """A sub-command that takes ``key=value`` overrides and documents every key."""
    epilog = f"examples:\n{examples}\n"
    if cls is not None:
        epilog += f"\noptions (key=value; defaults shown):\n{options_help(cls)}\n"
        if any("." in p for p in field_paths(cls)):
            epilog += ("\n  config=<file.yaml> loads a YAML file first; a unique leaf name "
                       "(epochs=) stands for its full key (trainer.epochs=).\n")
    p = sub.add_parser(name, help=summary, description=summary, epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", metavar="key=value", help="options, see below")
    return p
