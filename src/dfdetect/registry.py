"""One generic name -> factory registry, used for models, losses, dataset adapters and writers.

Why: new components enter by decorator (as timm's ``@register_model`` does) instead of growing
``if name == ...`` chains. A duplicate name is a bug and raises; an unknown name fails with the
nearest valid names so a typo is a one-line fix.

Example::

    MODELS = Registry("model")

    @MODELS.register("tiny")
    def tiny(num_classes: int = 2) -> nn.Module: ...

    net = MODELS.build("tiny", num_classes=2)
"""
from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """An unknown or duplicate registry name; the message says what to use instead."""

    def __str__(self) -> str:  # KeyError quotes its message; people should read plain text
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """A mapping of unique names to factories, with prefix families (``timm:<name>``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, Callable[..., T]] = {}
        self._prefixes: dict[str, Callable[..., T]] = {}
        self._members: dict[str, Callable[[str], list[str] | None]] = {}

    def register(self, name: str, members: Callable[[str], list[str] | None] | None = None
                 ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator adding ``fn`` under ``name``. A name ending in ``:`` registers a family;
        its ``members(rest)`` (optional) returns None when ``rest`` is a member, else the valid
        member names to suggest from (``timm:`` asks timm), so :meth:`check` can refuse typos."""

        def deco(fn: Callable[..., T]) -> Callable[..., T]:
            table = self._prefixes if name.endswith(":") else self._items
            if name in table:
                raise RegistryError(f"{self.kind} '{name}' is already registered")
            table[name] = fn
            if members is not None:
                self._members[name] = members
            return fn

        return deco

    def names(self) -> list[str]:
        """Registered names, families shown as ``prefix:<name>``."""
        return sorted(self._items) + sorted(f"{p}<name>" for p in self._prefixes)

    def __contains__(self, name: str) -> bool:
        try:
            self.resolve(name)
        except RegistryError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def resolve(self, name: str) -> tuple[Callable[..., T], dict]:
        """Return the factory for ``name`` and the extra kwargs the name implies."""
        if name in self._items:
            return self._items[name], {}
        prefix, sep, rest = name.partition(":")
        if sep and f"{prefix}:" in self._prefixes and rest:
            return self._prefixes[f"{prefix}:"], {"name": rest}
        hint = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
        tip = f"; did you mean {', '.join(hint)}?" if hint else ""
        raise RegistryError(
            f"unknown {self.kind} '{name}'{tip} (available: {', '.join(self.names())})"
        )

    def check(self, name: str) -> None:
        """Raise RegistryError ("did you mean 'x'?") unless ``name`` would build; members of a
        family are checked too when the family lists them. Nothing is built."""
        prefix, sep, rest = name.partition(":")
        family = f"{prefix}:" if sep and rest and f"{prefix}:" in self._prefixes else ""
        if name in self._items or (family and family not in self._members):
            return
        if not family:
            raise RegistryError(f"unknown {self.kind} '{name}'{_tip(name, self.names())} "
                                f"(choose from: {', '.join(self.names())})")
        valid = self._members[family](rest)
        if valid is not None:
            tip = _tip(rest, valid, family)
            raise RegistryError(f"unknown {self.kind} '{name}': {family}<name> has no "
                                f"'{rest}'{tip}")

    def build(self, name: str, **kwargs) -> T:
        """Create the object registered as ``name`` with ``kwargs``."""
        fn, implied = self.resolve(name)
        return fn(**implied, **kwargs)


def _tip(name: str, valid: list[str], prefix: str = "") -> str:
    """``; did you mean 'x'?`` for the nearest valid name, or nothing."""
    near = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.5)
    return f"; did you mean '{prefix}{near[0]}'?" if near else ""
