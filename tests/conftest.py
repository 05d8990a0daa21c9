"""Shared fixtures. Tests run offline on the CPU; no test needs a GPU or the network."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# Offline by construction: timm/hub lookups fail in well under a second instead of retrying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``../shared/data`` next to the project (or $DFDETECT_SHARED_DATA)."""
    env = os.environ.get("DFDETECT_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The shared third-party media folder; the test is skipped when it is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not present at {path}")
    return path


@pytest.fixture(scope="session")
def demo_faces(tmp_path_factory) -> Path:
    """A small real/fake face set with group-aware splits (manifest path)."""
    from dfdetect.data.manifest import group_split, read_manifest, write_manifest
    from dfdetect.demo.faces import build_demo_faces

    path = build_demo_faces(tmp_path_factory.mktemp("faces"), size=48, variants=1, seed=0)
    m = read_manifest(path)
    m.samples = group_split(m.samples, (0.6, 0.2, 0.2), seed=0)
    write_manifest(m, path)
    return path
