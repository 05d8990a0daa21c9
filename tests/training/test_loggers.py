"""Tests for the logger registry (dfdetect.training.loggers)."""
from __future__ import annotations

import importlib.util

import pytest

from dfdetect.config.schema import LoggingConfig
from dfdetect.training.loggers import LOGGERS, LoggerUnavailable, build_loggers


def test_default_is_tensorboard_and_csv_in_the_run_folder(tmp_path) -> None:
    loggers = build_loggers(tmp_path, LoggingConfig())
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    assert isinstance(loggers[0], TensorBoardLogger) and isinstance(loggers[1], CSVLogger)
    assert len(loggers) == 2
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


def test_a_restarted_csv_logger_keeps_the_rows_already_written(tmp_path) -> None:
    """Issue 11 §5: a resumed run's logs/metrics.csv keeps the history from before the restart
    (Lightning's CSV writer deletes the file when it starts)."""
    import csv

    (first,) = build_loggers(tmp_path, LoggingConfig(loggers="csv"))
    first.log_metrics({"train/loss": 0.9}, step=0)
    first.log_metrics({"train/loss": 0.8}, step=1)
    first.finalize("success")
    (again,) = build_loggers(tmp_path, LoggingConfig(loggers="csv"))  # the resumed run
    again.log_metrics({"train/loss": 0.7}, step=2)
    again.log_metrics({"val/auc": 0.6}, step=2)  # a new column: the file is rewritten
    again.finalize("success")
    with (tmp_path / "logs" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["0", "1", "2", "2"]
    assert [r["train/loss"] for r in rows[:3]] == ["0.9", "0.8", "0.7"]
    assert rows[3]["val/auc"] == "0.6"
