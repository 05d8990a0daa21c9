"""Tests for the logger registry (dfdetect.training.loggers)."""
from __future__ import annotations

import importlib.util

import pytest

from dfdetect.config.schema import LoggingConfig
from dfdetect.training.loggers import LOGGERS, LoggerUnavailable, build_loggers


def test_default_is_tensorboard_and_csv_in_the_run_folder(tmp_path) -> None:
    loggers = build_loggers(tmp_path, LoggingConfig())
    assert [type(x).__name__ for x in loggers] == ["TensorBoardLogger", "CSVLogger"]
    assert loggers[1].log_dir.rstrip("/") == str(tmp_path / "logs")
    assert build_loggers(tmp_path, LoggingConfig(loggers="")) == []


def test_registry_and_unknown_name(tmp_path) -> None:
    assert set(LOGGERS) == {"tensorboard", "csv", "wandb", "mlflow"}
    with pytest.raises(KeyError, match="tensorboard"):
        build_loggers(tmp_path, LoggingConfig(loggers="tensorbord"))


@pytest.mark.parametrize("name", ["wandb", "mlflow"])
def test_optional_logger_missing_says_how_to_install(tmp_path, name: str) -> None:
    if importlib.util.find_spec(name) is not None:
        pytest.skip(f"{name} is installed")
    with pytest.raises(LoggerUnavailable, match=f"dfdetect\\[{name}\\]"):
        build_loggers(tmp_path, LoggingConfig(loggers=name))


def test_wandb_offline(tmp_path, monkeypatch) -> None:
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    (logger,) = build_loggers(tmp_path, LoggingConfig(loggers="wandb"))
    logger.log_metrics({"x": 1.0}, step=0)
    logger.finalize("success")
    assert (tmp_path / "wandb").is_dir()


def test_mlflow_file_store(tmp_path) -> None:
    pytest.importorskip("mlflow")
    (logger,) = build_loggers(tmp_path, LoggingConfig(loggers="mlflow"))
    logger.log_metrics({"x": 1.0}, step=0)
    logger.finalize("success")
    assert (tmp_path / "mlruns").is_dir()
