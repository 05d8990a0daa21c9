"""Issue 11 §5: checkpoints with missing or mistyped metadata give one line naming the file and
the key (exit 2) in predict, evaluate and export, never a KeyError / TypeError traceback."""
from __future__ import annotations

import pytest
import torch

from dfdetect.checkpoint import CheckpointError, read_checkpoint
from dfdetect.cli.main import main


def _drop(key):
    def edit(ckpt):
        *parents, leaf = key.split(".")
        obj = ckpt
        for p in parents:
            obj = obj[p]
        del obj[leaf]
    return edit


def _put(key, value):
    def edit(ckpt):
        *parents, leaf = key.split(".")
        obj = ckpt
        for p in parents:
            obj = obj[p]
        obj[leaf] = value
    return edit


CASES = {
    "no model": (_drop("model"), "'model'"),
    "no preprocessing": (_drop("preprocessing"), "'preprocessing'"),
    "no model name": (_drop("model.name"), "'model.name'"),
    "model is a string": (_put("model", "timm:resnet18"), "'model' is a str"),
    "kwargs is a list": (_put("model.kwargs", [1, 2]), "'model.kwargs' is a list"),
    "preprocessing is a list": (_put("preprocessing", [224]), "'preprocessing' is a list"),
    "image_size is text": (_put("preprocessing.image_size", "big"),
                           "'preprocessing.image_size' is a str"),
    "mean of text": (_put("preprocessing.mean", ["a", "b", "c"]), "preprocessing.mean"),
    "threshold is text": (_put("threshold", "high"), "'threshold' is a str"),
    "state_dict is a list": (_put("state_dict", [1]), "'state_dict' is a list"),
    "no state_dict": (_drop("state_dict"), "'state_dict'"),
    "image_size is 0": (_put("preprocessing.image_size", 0), "preprocessing.image_size=0"),
    "seconds is negative": (_put("preprocessing.seconds", -4.0), "preprocessing.seconds=-4.0"),
    "a weight is a number": (lambda c: c["state_dict"].update({"fc.bias": 3}), "fc.bias"),
}


@pytest.fixture(scope="module")
def hostile(make_tiny_ckpt, tmp_path_factory):
    good = read_checkpoint(make_tiny_ckpt())
    folder = tmp_path_factory.mktemp("hostile")
    made = {}
    for name, (edit, _) in CASES.items():
        ckpt = {k: (dict(v) if isinstance(v, dict) else v) for k, v in good.items()}
        ckpt["model"] = {**good["model"], "kwargs": dict(good["model"]["kwargs"])}
        edit(ckpt)
        made[name] = folder / f"{name.replace(' ', '_')}.ckpt"
        torch.save(ckpt, made[name])
    return made


@pytest.mark.parametrize("case", list(CASES))
def test_read_checkpoint_names_the_damaged_key(hostile, case) -> None:
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(hostile[case])
    assert str(hostile[case]) in str(e.value) and CASES[case][1] in str(e.value)


@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
@pytest.mark.parametrize("case", ["no model", "no preprocessing", "model is a string",
                                  "preprocessing is a list", "kwargs is a list",
                                  "image_size is text", "image_size is 0"])
def test_commands_exit_2_with_one_line(hostile, demo_faces, tmp_path, capsys, command,
                                       case) -> None:
    ckpt = hostile[case]
    args = {"predict": ["predict", f"ckpt={ckpt}", f"input={demo_faces}",
                        f"out={tmp_path / 's.csv'}", "device=cpu", "progress=false"],
            "evaluate": ["evaluate", f"ckpt={ckpt}", f"data={demo_faces}",
                         f"out={tmp_path / 'r'}", "device=cpu", "bootstrap=0"],
            "export": ["export", f"ckpt={ckpt}", f"out={tmp_path / 'm.onnx'}"]}[command]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert ckpt.name in err and "damaged checkpoint" in err
