"""Tests for typed configs: defaults, key=value overrides, YAML files (dfdetect.config)."""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
import yaml

from dfdetect.config.loader import (ConfigError, from_dict, key_table, load_config,
                                    parse_overrides, save_yaml, to_dict)
from dfdetect.config.schema import (DataConfig, DemoConfig, EvaluateConfig, ModelConfig,
                                    OptimConfig, PredictConfig, PrepareConfig, TrainConfig,
                                    TrainerConfig)

ALL_CONFIGS = [TrainConfig, EvaluateConfig, PredictConfig, PrepareConfig, DemoConfig]
CONFIG_DIR = Path(__file__).parents[2] / "configs"
CONFIG_FILES = sorted(CONFIG_DIR.glob("*.yaml"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- defaults


def test_defaults_come_from_the_dataclasses() -> None:
    cfg = load_config(TrainConfig, [])
    assert cfg == TrainConfig()
    assert cfg.data == DataConfig()
    assert cfg.model == ModelConfig()
    assert cfg.optim == OptimConfig()
    assert cfg.trainer == TrainerConfig()
    # a few concrete defaults, so an accidental change is noticed
    assert cfg.trainer.epochs == 10
    assert cfg.optim.lr == pytest.approx(1e-3)
    assert cfg.trainer.device == "auto"
    assert cfg.data.augment is True


@pytest.mark.parametrize("cls", ALL_CONFIGS, ids=lambda c: c.__name__)
def test_every_field_has_help_and_loads_with_defaults(cls: type) -> None:
    assert load_config(cls, []) == cls()

    def check(c: type) -> None:
        hints = typing.get_type_hints(c)
        for f in dataclasses.fields(c):
            if dataclasses.is_dataclass(hints[f.name]):
                check(hints[f.name])
            else:
                assert f.metadata.get("help"), f"{c.__name__}.{f.name} has no help text"

    check(cls)


def test_default_instances_do_not_share_nested_state() -> None:
    a, b = TrainConfig(), TrainConfig()
    a.trainer.epochs = 99
    assert b.trainer.epochs == 10


# ---------------------------------------------------------------- overrides


def test_overrides_set_nested_fields_with_types() -> None:
    cfg = load_config(TrainConfig, ["epochs=3", "lr=1e-4", "model=timm:resnet18", "data=x.csv",
                                    "trainer.device=cpu", "augment=false"])
    assert cfg.trainer.epochs == 3 and type(cfg.trainer.epochs) is int
    assert cfg.optim.lr == pytest.approx(1e-4) and type(cfg.optim.lr) is float
    assert cfg.model.name == "timm:resnet18"
    assert cfg.data.manifest == "x.csv"
    assert cfg.trainer.device == "cpu"
    assert cfg.data.augment is False
    # untouched fields keep their defaults
    assert cfg.data.image_size == DataConfig().image_size
    assert cfg.model.pretrained == "false"


def test_full_dotted_keys_and_leaf_keys_are_equivalent() -> None:
    a = load_config(TrainConfig, ["trainer.epochs=4", "optim.weight_decay=0.1",
                                  "model.name=timm:resnet18", "data.manifest=m.csv"])
    b = load_config(TrainConfig, ["epochs=4", "weight_decay=0.1", "model=timm:resnet18",
                                  "data=m.csv"])
    assert a == b


def test_later_override_wins() -> None:
    cfg = load_config(TrainConfig, ["epochs=3", "epochs=5"])
    assert cfg.trainer.epochs == 5


@pytest.mark.parametrize("raw,expected", [
    ("true", True), ("True", True), ("yes", True), ("on", True), ("1", True),
    ("false", False), ("FALSE", False), ("no", False), ("off", False), ("0", False),
])
def test_bool_spellings(raw: str, expected: bool) -> None:
    assert load_config(TrainConfig, [f"augment={raw}"]).data.augment is expected


def test_values_keep_equals_signs_and_int_to_float() -> None:
    cfg = load_config(TrainConfig, ["name=a=b", "warmup_epochs=2"])
    assert cfg.name == "a=b"
    assert cfg.optim.warmup_epochs == 2.0 and type(cfg.optim.warmup_epochs) is float


def test_top_level_name_is_not_shadowed_by_model_name() -> None:
    cfg = load_config(TrainConfig, ["name=run1", "model=timm:resnet18"])
    assert cfg.name == "run1"
    assert cfg.model.name == "timm:resnet18"


def test_ambiguous_leaf_is_not_a_shortcut() -> None:
    # 'name' exists both at top level and in model: the leaf means the top-level one,
    # and every leaf that appears once is a shortcut
    table = key_table(TrainConfig)
    assert table["name"] == "name"
    assert table["epochs"] == "trainer.epochs"
    assert table["lr"] == "optim.lr"
    assert table["data"] == "data.manifest"
    assert table["model"] == "model.name"


@pytest.mark.parametrize("key,near", [("lrr", "lr"), ("epoch", "epochs"),
                                      ("trainer.epoch", "trainer.epochs"),
                                      ("augmnt", "augment")])
def test_unknown_key_names_key_and_suggests(key: str, near: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, [f"{key}=1"])
    msg = str(info.value)
    assert f"'{key}'" in msg
    assert f"did you mean '{near}'" in msg


def test_unknown_key_without_close_match() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, ["qqqqqqqqqqqqqqqqqqqq=1"])
    assert "qqqqqqqqqqqqqqqqqqqq" in str(info.value)


@pytest.mark.parametrize("item,key", [("epochs=abc", "epochs"), ("lr=fast", "lr"),
                                      ("augment=maybe", "augment"), ("image_size=1.5", "image_size"),
                                      ("trainer.seed=", "trainer.seed")])
def test_bad_value_type_names_the_key(item: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, [item])
    assert f"'{key}'" in str(info.value)


@pytest.mark.parametrize("item", ["epochs", "=3", ""])
def test_key_without_equals_raises(item: str) -> None:
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config(TrainConfig, [item])


def test_parse_overrides_strips_key_only() -> None:
    assert parse_overrides([" epochs =3", "name= x "]) == [("epochs", "3"), ("name", " x ")]


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


# ---------------------------------------------------------------- YAML


NESTED_YAML = """\
# dfdetect train config=this.yaml
name: yaml_run
data:
  manifest: data/faces/manifest.csv
  image_size: 128
  augment: no
model:
  name: timm:resnet18
  pretrained: false
optim:
  lr: 3e-4
  warmup_epochs: 1
trainer:
  epochs: 7
  gpus: 0,1
"""


def test_yaml_nested_sections(tmp_path: Path) -> None:
    path = _write(tmp_path / "run.yaml", NESTED_YAML)
    cfg = load_config(TrainConfig, [f"config={path}"])
    assert cfg.name == "yaml_run"
    assert cfg.data.manifest == "data/faces/manifest.csv"
    assert cfg.data.image_size == 128
    assert cfg.data.augment is False
    assert cfg.model.name == "timm:resnet18"
    assert cfg.model.pretrained.lower() == "false"  # YAML bool into a str field
    assert cfg.optim.lr == pytest.approx(3e-4) and type(cfg.optim.lr) is float
    assert cfg.optim.warmup_epochs == 1.0 and type(cfg.optim.warmup_epochs) is float
    assert cfg.trainer.epochs == 7
    assert cfg.trainer.gpus == "0,1"
    assert cfg.trainer.device == "auto"  # not in the file: default


def test_yaml_dotted_keys(tmp_path: Path) -> None:
    path = _write(tmp_path / "dotted.yaml", "trainer.epochs: 2\noptim.lr: 0.01\n")
    cfg = load_config(TrainConfig, [f"config={path}"])
    assert cfg.trainer.epochs == 2
    assert cfg.optim.lr == pytest.approx(0.01)


@pytest.mark.parametrize("order", ["config_first", "config_last"])
def test_override_beats_yaml(tmp_path: Path, order: str) -> None:
    path = _write(tmp_path / "run.yaml", NESTED_YAML)
    overrides = ["epochs=3", "lr=1e-4", "model=timm:efficientnet_b0"]
    items = [f"config={path}", *overrides] if order == "config_first" else [*overrides,
                                                                           f"config={path}"]
    cfg = load_config(TrainConfig, items)
    assert cfg.trainer.epochs == 3
    assert cfg.optim.lr == pytest.approx(1e-4)
    assert cfg.model.name == "timm:efficientnet_b0"
    # YAML values that were not overridden still apply
    assert cfg.data.image_size == 128
    assert cfg.name == "yaml_run"


def test_empty_yaml_keeps_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.yaml", "# nothing here\n")
    assert load_config(TrainConfig, [f"config={path}"]) == TrainConfig()


def test_unknown_key_in_yaml_names_file_and_suggests(tmp_path: Path) -> None:
    path = _write(tmp_path / "typo.yaml", "trainer:\n  epoch: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, [f"config={path}"])
    msg = str(info.value)
    assert "trainer.epoch" in msg
    assert str(path) in msg
    assert "trainer.epochs" in msg


def test_bad_value_in_yaml_names_key_and_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.yaml", "trainer:\n  epochs: many\n")
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, [f"config={path}"])
    msg = str(info.value)
    assert "trainer.epochs" in msg and str(path) in msg


def test_invalid_yaml_names_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.yaml", "trainer: [1, 2\n  epochs: : :\n")
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, [f"config={path}"])
    msg = str(info.value)
    assert str(path) in msg and "not valid YAML" in msg


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_non_mapping_yaml(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path / "list.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, [f"config={path}"])
    assert str(path) in str(info.value)
    assert "mapping" in str(info.value)


def test_missing_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, [f"config={path}"])
    assert str(path) in str(info.value)


# ---------------------------------------------------------------- save / round trip


def test_save_yaml_round_trip(tmp_path: Path) -> None:
    cfg = load_config(TrainConfig, [
        "name=run 1", "out_dir=some/runs", "data=data/m.csv", "image_size=96", "augment=false",
        "real_label=bonafide", "fake_label=spoof", "split_ratio=0.8,0.2",
        "model=timm:resnet18", "pretrained=true", "drop_rate=0.2",
        "lr=3e-4", "weight_decay=0", "warmup_epochs=0.5", "min_lr=1e-7",
        "epochs=3", "max_steps=100", "device=cpu", "gpus=0,1", "precision=32",
        "deterministic=true", "monitor=val/auc", "limit_train_batches=0.25", "progress=off",
    ])
    path = tmp_path / "sub" / "config.yaml"
    save_yaml(cfg, path)
    assert path.is_file()
    data = yaml.safe_load(path.read_text())
    assert data == to_dict(cfg)
    again = from_dict(TrainConfig, data)
    assert again == cfg
    # and loading the saved file as config= gives the same config too
    assert load_config(TrainConfig, [f"config={path}"]) == cfg
    # no temp file is left beside it
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.yaml"]


@pytest.mark.parametrize("cls", ALL_CONFIGS, ids=lambda c: c.__name__)
def test_default_round_trip_for_every_config(tmp_path: Path, cls: type) -> None:
    path = tmp_path / "c.yaml"
    save_yaml(cls(), path)
    assert from_dict(cls, yaml.safe_load(path.read_text())) == cls()


def test_from_dict_ignores_unknown_keys() -> None:
    data = to_dict(TrainConfig())
    data["removed_option"] = 1
    data["trainer"]["old_flag"] = True
    data["trainer"]["epochs"] = 4
    cfg = from_dict(TrainConfig, data)
    assert cfg.trainer.epochs == 4


# ---------------------------------------------------------------- shipped configs


@pytest.mark.parametrize(
    "path",
    CONFIG_FILES or [pytest.param(None, marks=pytest.mark.skip(
        reason=f"no configs/*.yaml in {CONFIG_DIR} yet"))],
    ids=lambda p: p.name if isinstance(p, Path) else "none",
)
def test_shipped_config_loads(path: Path) -> None:
    cfg = load_config(TrainConfig, [f"config={path}"])
    assert isinstance(cfg, TrainConfig)

    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines, f"{path} is empty"
    first = lines[0].strip()
    assert first.startswith("#") and "dfdetect " in first, (
        f"{path.name}: first line must be a comment with the command that runs it, got {first!r}")

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def values(obj):
        if isinstance(obj, dict):
            for v in obj.values():
                yield from values(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from values(v)
        else:
            yield obj

    absolute = [v for v in values(data) if isinstance(v, str) and v.strip().startswith("/")]
    assert not absolute, f"{path.name}: absolute paths make the config machine-specific: {absolute}"
    # also catch values the YAML parser would not return as strings, line by line
    for n, line in enumerate(lines, start=1):
        body = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        if ":" in body:
            value = body.split(":", 1)[1].strip().strip("'\"")
            assert not value.startswith("/"), f"{path.name}:{n}: absolute path {value!r}"
