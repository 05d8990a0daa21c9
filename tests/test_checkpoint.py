"""Tests for self-describing checkpoints (dfdetect.checkpoint) and atomic writes (dfdetect.io)."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from dfdetect.__version__ import __version__
from dfdetect.checkpoint import (FORMAT, FORMAT_VERSION, CheckpointError, load_checkpoint,
                                 make_checkpoint, read_checkpoint, save_checkpoint)
from dfdetect.config import TrainConfig, load_config, to_dict
from dfdetect.io import atomic_torch_save, atomic_write, atomic_write_text
from dfdetect.models import build_model, preprocessing_of

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MODEL = "timm:resnet18"
KWARGS = {"num_classes": 2, "drop_rate": 0.1}


class Arbitrary:
    """Any user class: a full pickle of it cannot be loaded with weights_only=True."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]


class Trap:
    """Unpickling this would create ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    net = build_model(MODEL, pretrained="false", **KWARGS)
    # make the BN running statistics non-default so the test would notice them missing
    with torch.no_grad():
        net.train()
        net(torch.randn(4, 3, 64, 64))
    return net.eval()


@pytest.fixture
def ckpt(model: torch.nn.Module) -> dict:
    cfg = load_config(TrainConfig, ["model=timm:resnet18", "epochs=3", "lr=1e-4"])
    pre = {"modality": "image", "image_size": 64, **preprocessing_of(model)}
    return make_checkpoint(model, model_name=MODEL, model_kwargs=KWARGS, preprocessing=pre,
                           config=to_dict(cfg), threshold=0.37,
                           metrics={"val/auc": 0.91, "val/f1_macro": 0.8}, epoch=2, step=30)


def test_round_trip_weights_outputs_metadata(model, ckpt, tmp_path: Path) -> None:
    path = save_checkpoint(ckpt, tmp_path / "run" / "best.ckpt")
    assert path == tmp_path / "run" / "best.ckpt" and path.is_file()

    loaded, meta = load_checkpoint(path)
    assert not loaded.training
    ref = model.state_dict()
    got = loaded.state_dict()
    assert set(got) == set(ref)
    for k in ref:
        assert torch.equal(got[k], ref[k]), k

    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))

    assert meta["format"] == FORMAT and meta["format_version"] == FORMAT_VERSION
    assert meta["model"] == {"name": MODEL, "kwargs": KWARGS}
    assert meta["preprocessing"]["image_size"] == 64
    assert meta["preprocessing"]["mean"] == ckpt["preprocessing"]["mean"]
    assert len(meta["preprocessing"]["std"]) == 3
    assert meta["labels"] == ["real", "fake"]
    assert meta["threshold"] == pytest.approx(0.37)
    assert meta["config"] == ckpt["config"]
    assert meta["config"]["trainer"]["epochs"] == 3
    assert meta["metrics"] == {"val/auc": 0.91, "val/f1_macro": 0.8}
    assert meta["epoch"] == 2 and meta["global_step"] == 30
    assert meta["dfdetect_version"] == __version__
    assert meta["path"] == str(path)
    assert "state_dict" not in meta


def test_make_checkpoint_copies_to_cpu(model, ckpt) -> None:
    sd = ckpt["state_dict"]
    for k, v in model.state_dict().items():
        assert sd[k].device.type == "cpu"
        assert sd[k].data_ptr() != v.data_ptr()  # a copy, not a view of live weights


def test_file_loads_with_weights_only(ckpt, tmp_path: Path) -> None:
    path = save_checkpoint(ckpt, tmp_path / "best.ckpt")
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["format"] == FORMAT
    assert raw["model"]["name"] == MODEL
    assert read_checkpoint(path)["threshold"] == pytest.approx(0.37)


def test_arbitrary_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.ckpt"
    torch.save({"format": FORMAT, "obj": Arbitrary()}, path)
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        load_checkpoint(path)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickled_code_is_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    path = tmp_path / "trap.ckpt"
    torch.save({"format": FORMAT, "x": Trap(marker)}, path)
    assert not marker.exists()
    with pytest.raises(CheckpointError):
        read_checkpoint(path)
    assert not marker.exists()
    # a plain pickle (not torch's zip format) is refused as well
    plain = tmp_path / "plain.ckpt"
    plain.write_bytes(pickle.dumps(Trap(marker)))
    with pytest.raises(CheckpointError):
        read_checkpoint(plain)
    assert not marker.exists()


@pytest.mark.parametrize("obj", [{"state_dict": {"w": torch.zeros(2)}, "epoch": 3},
                                 {"format": "something-else"}, [1, 2, 3], torch.zeros(3)],
                         ids=["lightning-like", "other-format", "list", "tensor"])
def test_non_dfdetect_checkpoint(obj, tmp_path: Path) -> None:
    path = tmp_path / "other.ckpt"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match="not a dfdetect checkpoint"):
        load_checkpoint(path)


def test_truncated_file(ckpt, tmp_path: Path) -> None:
    path = save_checkpoint(ckpt, tmp_path / "best.ckpt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_garbage_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        load_checkpoint(garbage)


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError):
        load_checkpoint(empty)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.ckpt"
    with pytest.raises(CheckpointError, match="checkpoint not found") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path)  # a folder is not a checkpoint file


def test_newer_format_is_refused(ckpt, tmp_path: Path) -> None:
    path = save_checkpoint({**ckpt, "format_version": FORMAT_VERSION + 1,
                            "dfdetect_version": "99.0"}, tmp_path / "future.ckpt")
    with pytest.raises(CheckpointError, match="newer format"):
        load_checkpoint(path)


def test_weights_that_do_not_fit(ckpt, tmp_path: Path) -> None:
    bad = dict(ckpt, model={"name": MODEL, "kwargs": {"num_classes": 3, "drop_rate": 0.0}})
    path = save_checkpoint(bad, tmp_path / "bad.ckpt")
    with pytest.raises(CheckpointError, match="weights do not fit"):
        load_checkpoint(path)


# ---------------------------------------------------------------- atomic writes


def _no_temp_files(folder: Path, keep: set[str]) -> bool:
    return {p.name for p in folder.iterdir()} == keep


def test_atomic_write_replaces(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out.bin"
    atomic_write(target, lambda f: f.write(b"one"))
    assert target.read_bytes() == b"one"
    atomic_write(target, lambda f: f.write(b"two"))
    assert target.read_bytes() == b"two"
    assert _no_temp_files(target.parent, {"out.bin"})


def test_atomic_write_failure_keeps_previous_content(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous content")

    def half_then_crash(f) -> None:
        f.write(b"partial new cont")
        raise RuntimeError("killed midway")

    with pytest.raises(RuntimeError, match="killed midway"):
        atomic_write(target, half_then_crash)
    assert target.read_bytes() == b"previous content"
    assert _no_temp_files(tmp_path, {"out.bin"})


def test_atomic_write_failure_without_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "new.bin"

    def interrupted(f) -> None:
        f.write(b"x")
        raise KeyboardInterrupt  # Ctrl-C mid-write: BaseException, not Exception

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert not target.exists()
    assert _no_temp_files(tmp_path, set())


def test_atomic_torch_save_failure_keeps_checkpoint(ckpt, tmp_path: Path) -> None:
    path = save_checkpoint(ckpt, tmp_path / "best.ckpt")
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        atomic_torch_save({"bad": lambda: None}, path)  # a lambda cannot be pickled
    assert path.read_bytes() == before
    assert _no_temp_files(tmp_path, {"best.ckpt"})
    read_checkpoint(path)


def test_atomic_write_text(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "a.txt", "héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
