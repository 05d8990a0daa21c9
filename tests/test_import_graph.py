"""The import graph of src/dfdetect: no cycles, and every import goes down the layer order.

Why a test: a cycle (data/image <-> data/modality <-> data/audio) or a lower layer reaching up
(data/prepare.py importing preprocess/ while preprocess/ imports data/) makes a package that
cannot be read bottom-up and breaks at import time when someone moves a line. Every ``import``
in every module counts, including those inside functions (lazy imports still couple modules).

Units: each subpackage (``data``, ``models``, ...) and each top-level module (``checkpoint``,
``preparation``, ...). Rules:

* units: no cycles, and a unit imports only units of a *lower* layer (:data:`LAYERS`);
* modules inside a unit: no cycles, except that a package's ``__init__`` may import its own
  submodules (the lazy ``_load_builtin`` of a registry package).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: lowest first; a unit may import units of earlier layers only (docs/architecture.md, "Layers")
LAYERS: list[set[str]] = [
    {"__version__", "registry", "io", "failures", "console"},   # plain utilities
    {"config", "plotting"},                          # typed configs; headless figures
    {"metrics", "models", "losses"},                 # pure functions on arrays; nn.Modules
    {"checkpoint"},                                  # weights + metadata
    {"data"},                                        # manifest, adapters, decoding, datasets
    {"preprocess"},                                  # video -> frames -> face crops
    {"modalities"},                                  # one object per kind of media
    {"preparation", "training"},                     # stages: prepare, train
    {"inference"},                                   # scoring (uses training's device layer)
    {"evaluation"},                                  # scoring a manifest -> report
    {"demo", "envcheck", "serve"},                   # recipes the cli calls; HTTP API
    {"errors"},
    {"cli"},
    {""},                                            # dfdetect/__init__.py, the public API
]


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def collect(root: Path = SRC) -> dict[str, set[str]]:
    """module -> the dfdetect modules it imports (anywhere in the file)."""
    files = {module_name(p, root): p for p in (root / "dfdetect").rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{path}:{node.lineno}: relative import; the package uses "
                                     "absolute imports (from dfdetect.x import y)")
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            graph[mod] |= {n for n in names if n in files and n != mod}
    return graph


def unit(module: str) -> str:
    """``dfdetect.data.audio`` -> ``data``; ``dfdetect.checkpoint`` -> ``checkpoint``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def unit_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for mod, targets in graph.items():
        units.setdefault(unit(mod), set()).update(unit(t) for t in targets if unit(t) != unit(mod))
    return units


def module_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph without a package's ``__init__`` -> its own submodules."""
    return {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    layer = {u: i for i, units in enumerate(LAYERS) for u in units}
    found = []
    for mod, targets in sorted(graph.items()):
        for t in sorted(targets):
            a, b = unit(mod), unit(t)
            if a != b and layer.get(b, -1) >= layer.get(a, -1):
                found.append(f"{mod} imports {t} ({a or 'dfdetect'} may not import {b})")
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return collect()


def test_every_unit_has_a_layer(graph):
    missing = sorted({unit(m) for m in graph} - set().union(*LAYERS))
    assert not missing, f"add {missing} to LAYERS (and to docs/architecture.md)"


def test_no_cycle_between_units(graph):
    assert cycles(unit_graph(graph)) == []


def test_no_cycle_between_modules(graph):
    assert cycles(module_graph(graph)) == []


def test_imports_only_go_down_the_layers(graph):
    assert layer_violations(graph) == []


def test_the_checks_catch_what_they_claim(tmp_path):
    """The old shape of data/: image <-> modality <-> audio, and data -> preprocess -> data."""
    pkg = tmp_path / "dfdetect"
    files = {
        "__init__.py": "",
        "data/__init__.py": "",
        "data/modality.py": "def f():\n    from dfdetect.data import image, audio\n",
        "data/image.py": "from dfdetect.data.modality import HANDLERS\n",
        "data/audio.py": "from dfdetect.data.image import DecodeError\n",
        "data/prepare.py": "def g():\n    from dfdetect.preprocess.run import x\n",
        "preprocess/__init__.py": "",
        "preprocess/run.py": "from dfdetect.data.manifest import y\n",
        "data/manifest.py": "",
        "models/__init__.py": "def h():\n    from dfdetect.models import timm_models\n",
        "models/timm_models.py": "from dfdetect.models import MODELS\n",
    }
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    g = collect(tmp_path)
    assert cycles(unit_graph(g)) == [["data", "preprocess"]]
    assert cycles(module_graph(g)) == [["dfdetect.data.audio", "dfdetect.data.image",
                                        "dfdetect.data.modality"]]  # models' registry is fine
    assert layer_violations(g) == ["dfdetect.data.prepare imports dfdetect.preprocess.run "
                                   "(data may not import preprocess)"]
