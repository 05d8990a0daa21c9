"""Tests for the generic name -> factory registry (dfdetect.registry)."""
from __future__ import annotations

import pytest

from dfdetect.registry import Registry, RegistryError


@pytest.fixture
def reg() -> Registry:
    r: Registry = Registry("widget")

    @r.register("alpha")
    def alpha(size: int = 1) -> tuple:
        return ("alpha", size)

    @r.register("beta")
    def beta(**kwargs) -> tuple:
        return ("beta", kwargs)

    @r.register("fam:")
    def family(name: str, **kwargs) -> tuple:
        return ("fam", name, kwargs)

    return r


def test_register_returns_the_function_unchanged() -> None:
    r: Registry = Registry("widget")

    def f() -> int:
        return 1

    assert r.register("f")(f) is f


def test_build_calls_the_factory_with_kwargs(reg: Registry) -> None:
    assert reg.build("alpha") == ("alpha", 1)
    assert reg.build("alpha", size=7) == ("alpha", 7)
    assert reg.build("beta", x=1, y="z") == ("beta", {"x": 1, "y": "z"})


def test_duplicate_name_raises(reg: Registry) -> None:
    with pytest.raises(RegistryError, match="alpha"):
        reg.register("alpha")(lambda: None)
    # the original factory is still the registered one
    assert reg.build("alpha") == ("alpha", 1)


def test_duplicate_family_raises(reg: Registry) -> None:
    with pytest.raises(RegistryError, match="fam:"):
        reg.register("fam:")(lambda name: None)


def test_registry_error_is_a_keyerror_with_plain_message(reg: Registry) -> None:
    with pytest.raises(KeyError) as info:
        reg.build("nope")
    # KeyError normally wraps its message in quotes; RegistryError prints plain text
    assert str(info.value).startswith("unknown widget 'nope'")


def test_unknown_name_suggests_nearest(reg: Registry) -> None:
    with pytest.raises(RegistryError) as info:
        reg.build("alpah")
    msg = str(info.value)
    assert "unknown widget 'alpah'" in msg
    assert "did you mean alpha" in msg
    assert "available:" in msg and "beta" in msg


def test_unknown_name_far_from_everything_has_no_suggestion(reg: Registry) -> None:
    with pytest.raises(RegistryError) as info:
        reg.build("zzzzzzzzzzzz")
    assert "did you mean" not in str(info.value)


def test_prefix_family_passes_rest_as_name(reg: Registry) -> None:
    assert reg.build("fam:x") == ("fam", "x", {})
    assert reg.build("fam:resnet18", pretrained="false") == (
        "fam", "resnet18", {"pretrained": "false"})
    # only the first ':' splits: the rest is passed through untouched
    assert reg.build("fam:a:b") == ("fam", "a:b", {})


def test_prefix_family_needs_a_name(reg: Registry) -> None:
    with pytest.raises(RegistryError):
        reg.build("fam:")
    with pytest.raises(RegistryError):
        reg.build("other:x")


def test_resolve_returns_implied_kwargs(reg: Registry) -> None:
    fn, implied = reg.resolve("fam:y")
    assert implied == {"name": "y"}
    fn, implied = reg.resolve("alpha")
    assert implied == {} and fn() == ("alpha", 1)


def test_exact_name_wins_over_family() -> None:
    r: Registry = Registry("thing")
    r.register("fam:")(lambda name: ("family", name))
    r.register("fam:special")(lambda: "exact")
    assert r.build("fam:special") == "exact"
    assert r.build("fam:other") == ("family", "other")


def test_names_lists_items_then_families(reg: Registry) -> None:
    assert reg.names() == ["alpha", "beta", "fam:<name>"]
    assert list(reg) == ["alpha", "beta"]  # iteration: concrete names only


def test_in_operator(reg: Registry) -> None:
    assert "alpha" in reg
    assert "beta" in reg
    assert "fam:anything" in reg
    assert "fam:" not in reg
    assert "gamma" not in reg
    assert "other:x" not in reg


def test_empty_registry() -> None:
    r: Registry = Registry("empty")
    assert r.names() == []
    assert "x" not in r
    with pytest.raises(RegistryError, match="unknown empty 'x'"):
        r.build("x")


def test_check_suggests_the_nearest_name_quoted_and_builds_nothing() -> None:
    r: Registry = Registry("widget")
    built = []
    r.register("alpha")(lambda: built.append(1))
    with pytest.raises(RegistryError, match="unknown widget 'alpah'; did you mean 'alpha'"):
        r.check("alpah")
    r.check("alpha")
    assert built == []


def test_check_asks_a_family_for_its_members() -> None:
    r: Registry = Registry("widget")
    r.register("fam:", members=lambda rest: None if rest in ("one", "two") else ["one", "two"])(
        lambda name: name)
    r.register("open:")(lambda name: name)  # a family that lists nothing accepts any member
    r.check("fam:one")
    r.check("open:anything")
    with pytest.raises(RegistryError, match="did you mean 'fam:one'"):
        r.check("fam:onee")
    with pytest.raises(RegistryError, match="unknown widget 'famm:one'"):
        r.check("famm:one")
