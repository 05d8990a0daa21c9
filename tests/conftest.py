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


@pytest.fixture(scope="session")
def make_tiny_ckpt(tmp_path_factory):
    """Factory of untrained timm:resnet18 checkpoints (no training: weights from a seed).

    ``make_tiny_ckpt(image_size=32, seed=0, threshold=0.5)`` -> path; cached per arguments.
    """
    import torch

    from dfdetect.checkpoint import make_checkpoint, save_checkpoint
    from dfdetect.models import build_model, preprocessing_of

    made: dict[tuple, Path] = {}
    folder = tmp_path_factory.mktemp("ckpts")

    def make(image_size: int = 32, seed: int = 0, threshold: float = 0.5) -> Path:
        key = (image_size, seed, threshold)
        if key not in made:
            torch.manual_seed(seed)
            kwargs = {"num_classes": 2}
            net = build_model("timm:resnet18", pretrained="false", **kwargs).eval()
            pre = {"modality": "image", "image_size": image_size, **preprocessing_of(net)}
            ckpt = make_checkpoint(net, model_name="timm:resnet18", model_kwargs=kwargs,
                                   preprocessing=pre, config={}, threshold=threshold)
            made[key] = save_checkpoint(ckpt, folder / f"r18_{image_size}_{seed}_{threshold}.ckpt")
        return made[key]

    return make


@pytest.fixture(scope="session")
def frame_manifest(demo_faces) -> Path:
    """The demo faces recast as a prepared video manifest: modality frame, 3 frames per video_id."""
    from dataclasses import replace

    from dfdetect.data.manifest import Manifest, read_manifest, write_manifest

    m = read_manifest(demo_faces)
    rows = []
    for split in ("val", "test"):
        for label in ("real", "fake"):
            chosen = sorted((s for s in m.samples if s.split == split and s.label == label),
                            key=lambda s: s.id)
            for n, s in enumerate(chosen):
                vid = f"{split}_{label}_{n // 3}"
                rows.append(replace(s, modality="frame",
                                    extra={"video_id": vid, "frame": str(n % 3)}))
    out = demo_faces.parent / "frames.csv"
    write_manifest(Manifest(rows, m.root, "frames"), out)
    return out


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: one intra-op thread is faster and avoids OpenMP spinning on a busy machine.
    Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
