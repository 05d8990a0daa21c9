"""Choice-valued options are checked when the config is loaded: exit 2, the nearest valid name,
and nothing written (no run folder, no manifest, no report, no submission)."""
from __future__ import annotations

import pytest

from dfdetect.cli.main import main
from dfdetect.config.loader import ConfigError, load_config
from dfdetect.config.schema import TrainConfig

TINY = ["model=timm:resnet18", "image_size=32", "batch_size=8", "num_workers=0", "device=cpu",
        "epochs=1", "limit_train_batches=1", "limit_val_batches=1", "progress=false",
        "loggers=csv"]


@pytest.mark.parametrize("option, near", [
    ("scheduler=cosin", "cosine"),
    ("optimizer=adamm", "adamw"),
    ("loss=focall", "focal"),
    ("sampling=balancd", "balanced"),
    ("model=timm:resnt18", "timm:resnet18"),
    ("model=dual_brnch", "dual_branch"),
    ("monitor=val/aucc", "val/auc"),
    ("monitor=val/bogus", "val/loss"),
    ("loggers=csv,tensorbord", "tensorboard"),
])
def test_train_refuses_a_bad_choice_before_writing_anything(demo_faces, tmp_path, capsys,
                                                             option, near) -> None:
    runs = tmp_path / "runs"
    code = main(["train", f"data={demo_faces}", *TINY, option, f"out_dir={runs}", "name=r"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"did you mean '{near}'" in err and len(err.strip().splitlines()) == 1
    assert not runs.exists()  # no run folder, no config.yaml


def test_prepare_refuses_an_unknown_adapter(tmp_path, capsys) -> None:
    out = tmp_path / "m.csv"
    assert main(["prepare", "data=fflp", f"root={tmp_path}", f"out={out}"]) == 2
    assert "did you mean 'ffpp'" in capsys.readouterr().err
    assert not out.exists()


def test_evaluate_and_predict_refuse_unknown_aggregations(make_tiny_ckpt, demo_faces, tmp_path,
                                                          capsys) -> None:
    ckpt = make_tiny_ckpt()
    out = tmp_path / "report"
    assert main(["evaluate", f"ckpt={ckpt}", f"data={demo_faces}", f"out={out}",
                 "aggregation=topk"]) == 2
    assert "did you mean 'topk_mean'" in capsys.readouterr().err
    assert main(["evaluate", f"ckpt={ckpt}", f"data={demo_faces}", f"out={out}",
                 "threshold_rule=er"]) == 2
    assert "did you mean 'eer'" in capsys.readouterr().err
    sub = tmp_path / "s.csv"
    assert main(["predict", f"ckpt={ckpt}", f"input={demo_faces}", f"out={sub}",
                 "aggregation=maxx"]) == 2
    assert "did you mean 'max'" in capsys.readouterr().err
    assert not out.exists() and not sub.exists()


def test_yaml_choices_are_checked_too(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("optim:\n  scheduler: stepp\n")
    with pytest.raises(ConfigError, match="did you mean 'step'"):
        load_config(TrainConfig, [f"config={cfg}"])


def test_valid_choices_and_timm_tags_load() -> None:
    cfg = load_config(TrainConfig, ["model=timm:resnet18.a1_in1k", "scheduler=plateau",
                                    "loss=combined", "sampling=class_balanced",
                                    "monitor=val_celebdf/eer", "extra_val=x.csv", "loggers="])
    assert cfg.model.name == "timm:resnet18.a1_in1k"
    with pytest.raises(ConfigError, match="monitor=val_celebdf/eer"):
        load_config(TrainConfig, ["monitor=val_celebdf/eer"])  # no extra_val: no such set
