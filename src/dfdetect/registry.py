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

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator adding ``fn`` under ``name``. A name ending in ``:`` registers a family."""

        def deco(fn: Callable[..., T]) -> Callable[..., T]:
            table = self._prefixes if name.endswith(":") else self._items
            if name in table:
                raise RegistryError(f"{self.kind} '{name}' is already registered")
            table[name] = fn
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

    def build(self, name: str, **kwargs) -> T:
        """Create the object registered as ``name`` with ``kwargs``."""
        fn, implied = self.resolve(name)
        return fn(**implied, **kwargs)
